package app

import (
	"context"
	"errors"
	"fmt"
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
	return AthenaViewWindow(name, args, time.Time{}, time.Time{})
}

// AthenaViewWindow is AthenaView for a time window: the view's from and
// to, and on Athena only the day partitions of the window.
func AthenaViewWindow(name string, args map[string]string, since, until time.Time) (string, error) {
	v, err := query.LookupView(name)
	if err != nil {
		return "", err
	}
	return v.AthenaFormWindow(args, since, until, nil)
}

// AthenaView is AthenaViewWindow with the case's endpoints in the SQL, for
// the views that name addresses from the inventory Athena has not.
func (c *Case) AthenaView(ctx context.Context, name string, args map[string]string, since, until time.Time) (string, error) {
	v, err := query.LookupView(name)
	if err != nil {
		return "", err
	}
	c.use.RLock()
	defer c.use.RUnlock()
	db, err := c.Reader()
	if err != nil {
		return "", err
	}
	facts, err := query.CaseFacts(ctx, db)
	if err != nil {
		return "", err
	}
	return v.AthenaFormWindow(args, since, until, facts)
}

// AthenaViews lists the saved views that run on Athena, those that run
// there with a case's endpoints written into their SQL (athena view
// --case), and why each other one does not.
func AthenaViews() (portable, withCase []string, not map[string]string) {
	not = map[string]string{}
	for _, v := range query.Views() {
		if _, err := v.AthenaForm(nil); err == nil {
			portable = append(portable, v.Name)
		} else if _, err2 := v.AthenaFormWith(nil, nil); err2 == nil {
			withCase = append(withCase, v.Name)
		} else {
			not[v.Name] = err2.Error()
		}
	}
	return portable, withCase, not
}

// AthenaRunOptions say what to run on Athena and how to reach it.
type AthenaRunOptions struct {
	View         string            // a saved view, in its Athena form
	Params       map[string]string // the view's parameters
	Since, Until time.Time         // the view's window (see AthenaViewWindow)
	SQL          string            // or any query
	Database     string            // default l4case (athena ddl's)
	Workgroup    string
	Output       string // s3:// for the results; empty: the workgroup's
	Region       string
	Profile      string
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
		if sqlText, err = c.AthenaView(ctx, o.View, o.Params, o.Since, o.Until); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(sqlText) == "" {
		return nil, errors.New("give a view or a query to run")
	}
	client, err := athenaClient(ctx, o)
	if err != nil {
		return nil, err
	}
	path, meta, err := collect.RunAthena(ctx, client, athenaQuery(sqlText, o), filepath.Join(c.collectDir(), "athena"), status)
	if err != nil {
		return nil, err
	}
	report, err := c.Import(ctx, []string{path}, ImportOptions{Kind: "athena_result", Names: map[string]string{path: "athena:" + meta.QueryID}}, rep)
	if err == nil {
		os.Remove(path) // the case keeps its copy
	}
	return report, err
}

func athenaClient(ctx context.Context, o AthenaRunOptions) (*athena.Client, error) {
	cfg, err := awsConfig(ctx, CollectOptions{Region: o.Region, Profile: o.Profile})
	if err != nil {
		return nil, err
	}
	return athena.NewFromConfig(cfg, func(ao *athena.Options) {
		if o.EndpointURL != "" {
			ao.BaseEndpoint = aws.String(o.EndpointURL)
		}
	}), nil
}

func athenaQuery(sqlText string, o AthenaRunOptions) collect.AthenaQuery {
	db := o.Database
	if db == "" {
		db = "l4case"
	}
	return collect.AthenaQuery{SQL: sqlText, Database: db, Workgroup: o.Workgroup, Output: o.Output, Poll: o.Poll}
}

// AthenaApply runs statements (athena ddl's) on Athena one after the
// other, each to its end; the first that fails stops the rest.
func AthenaApply(ctx context.Context, stmts []string, o AthenaRunOptions, status func(AthenaStatus)) error {
	o.Database = "default" // the statements name their database; it may not exist yet
	client, err := athenaClient(ctx, o)
	if err != nil {
		return err
	}
	for i, st := range stmts {
		if _, err := collect.ExecAthena(ctx, client, athenaQuery(st, o), status); err != nil {
			return fmt.Errorf("statement %d of %d: %w", i+1, len(stmts), err)
		}
	}
	return nil
}
