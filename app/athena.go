package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"

	"dev.l4case/l4case/collect"
	"dev.l4case/l4case/query"
)

// AthenaSources say where an account's logs are, for AthenaDDL.
type AthenaSources = query.AthenaSources

// AthenaDDL is the statements that make the logs in S3 queryable in
// Athena under the case's table names.
func AthenaDDL(s AthenaSources) ([]string, error) { return query.AthenaDDL(s) }

// AthenaView is a saved view's SQL for Athena with its parameters, or why
// the view runs in the case only.
func AthenaView(name string, args map[string]string) (string, error) {
	v, err := query.LookupView(name)
	if err != nil {
		return "", err
	}
	return v.AthenaForm(args)
}

// AthenaViews lists the saved views that run on Athena, and why each other
// one does not.
func AthenaViews() (portable []string, not map[string]string) {
	not = map[string]string{}
	for _, v := range query.Views() {
		if _, err := v.AthenaForm(nil); err != nil {
			not[v.Name] = err.Error()
		} else {
			portable = append(portable, v.Name)
		}
	}
	return portable, not
}

// AthenaRunOptions say what to run on Athena and how to reach it.
type AthenaRunOptions struct {
	View      string            // a saved view, in its Athena form
	Params    map[string]string // the view's parameters
	SQL       string            // or any query
	Database  string            // default l4case (athena ddl's)
	Workgroup string
	Output    string // s3:// for the results; empty: the workgroup's
	Region    string
	Profile   string
	// EndpointURL is another Athena endpoint (a test's).
	EndpointURL string
	Poll        time.Duration
}

// AthenaStatus is a running Athena query's state.
type AthenaStatus = collect.AthenaStatus

// AthenaRun runs a saved view (or a query) on Athena, polls it, and imports
// its result as evidence of kind athena_result: its own table,
// athena_result_EVIDENCE, with the query's id and SQL in the evidence's
// notes. status hears the query's state while it runs.
func (c *Case) AthenaRun(ctx context.Context, o AthenaRunOptions, status func(AthenaStatus), rep Reporter) (*ImportReport, error) {
	sqlText := o.SQL
	if o.View != "" {
		var err error
		if sqlText, err = AthenaView(o.View, o.Params); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(sqlText) == "" {
		return nil, errors.New("give a view or a query to run")
	}
	cfg, err := awsConfig(ctx, CollectOptions{Region: o.Region, Profile: o.Profile})
	if err != nil {
		return nil, err
	}
	client := athena.NewFromConfig(cfg, func(ao *athena.Options) {
		if o.EndpointURL != "" {
			ao.BaseEndpoint = aws.String(o.EndpointURL)
		}
	})
	db := o.Database
	if db == "" {
		db = "l4case"
	}
	path, meta, err := collect.RunAthena(ctx, client, collect.AthenaQuery{SQL: sqlText, Database: db, Workgroup: o.Workgroup, Output: o.Output, Poll: o.Poll},
		filepath.Join(c.collectDir(), "athena"), status)
	if err != nil {
		return nil, err
	}
	report, err := c.Import(ctx, []string{path}, ImportOptions{Kind: "athena_result", Names: map[string]string{path: "athena:" + meta.QueryID}}, rep)
	if err == nil {
		os.Remove(path) // the case keeps its copy
	}
	return report, err
}
