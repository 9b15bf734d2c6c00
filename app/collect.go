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
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"dev.l4case/l4case/collect"
)

// CollectStatus is collection's progress (downloads, CloudWatch events).
type CollectStatus = collect.Status

// CollectResult is what was fetched from AWS.
type CollectResult = collect.Result

// CollectOptions say what to fetch from AWS, and how to reach it.
type CollectOptions struct {
	Since, Until time.Time
	Margin       time.Duration // after Until (default collect.DefaultMargin)
	FlowLogs     []string      // s3://BUCKET[/PREFIX] or cwl://LOG-GROUP
	ELBLogs      []string      // s3://BUCKET[/PREFIX]
	EC2Snapshot  bool
	VPC          string
	Accounts     []string
	Region       string
	Profile      string
	EndpointURL  string // an S3-compatible server (then path-style), or a test's EC2/CloudWatch endpoint
	Concurrency  int
}

// CollectReporter hears the collection, then the import of what it fetched.
type CollectReporter interface {
	Reporter
	Collecting(CollectStatus)
}

// CollectReport is a collection and the import that followed it.
type CollectReport struct {
	Collected *CollectResult
	Import    *ImportReport
}

// collectDir is where fetched files wait for their import, and the state
// that makes a collection resumable (sizes and ETags, never credentials).
func (c *Case) collectDir() string { return filepath.Join(c.Dir, "collect") }

// awsConfig loads the standard chain (environment, shared config and
// credentials files, SSO, IMDS) and checks that it yields credentials and
// a region, saying what to do when not.
func awsConfig(ctx context.Context, o CollectOptions) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return cfg, errors.New("no region: give --region or set AWS_REGION (or region in the profile)")
	}
	if cfg.Credentials == nil {
		return cfg, errors.New("no credentials: set AWS_PROFILE or run aws sso login")
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return cfg, fmt.Errorf("no credentials: set AWS_PROFILE or run aws sso login (%v)", shortCredErr(err))
	}
	return cfg, nil
}

// shortCredErr keeps the chain's last word: its full error lists every
// provider it tried.
func shortCredErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i > 0 && len(s) > 200 {
		return s[i+2:]
	}
	return s
}

// Collect fetches from AWS what o asks, into the case's collect folder,
// then imports it: S3 objects named by their URL, CloudWatch Logs events
// as one flow-log file per log stream, the EC2 snapshot as the aws CLI's
// JSON. Objects a collection already imported (same size and ETag) are
// not fetched again; one interrupted after its downloads imports them
// without fetching them again.
func (c *Case) Collect(ctx context.Context, o CollectOptions, rep CollectReporter) (*CollectReport, error) {
	if len(o.FlowLogs)+len(o.ELBLogs) == 0 && !o.EC2Snapshot {
		return nil, errors.New("nothing to collect: give --flow-logs, --elb-logs or --ec2-snapshot")
	}
	if o.Since.IsZero() || o.Until.IsZero() {
		return nil, errors.New("give the incident's window: --since and --until")
	}
	cfg, err := awsConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	var cl collect.Clients
	endpoint := func(u string) *string {
		if u == "" {
			return nil
		}
		return aws.String(u)
	}
	if len(o.ELBLogs) > 0 || hasS3(o.FlowLogs) {
		cl.S3 = s3.NewFromConfig(cfg, func(so *s3.Options) {
			if o.EndpointURL != "" {
				so.BaseEndpoint, so.UsePathStyle = endpoint(o.EndpointURL), true
			}
			// S3-compatible servers often send no checksum; the SDK would log
			// each skipped validation.
			so.DisableLogOutputChecksumValidationSkipped = true
		})
	}
	if hasCWL(o.FlowLogs) {
		cl.Logs = cloudwatchlogs.NewFromConfig(cfg, func(lo *cloudwatchlogs.Options) { lo.BaseEndpoint = endpoint(o.EndpointURL) })
	}
	if o.EC2Snapshot || hasCWL(o.FlowLogs) {
		cl.EC2 = ec2.NewFromConfig(cfg, func(eo *ec2.Options) { eo.BaseEndpoint = endpoint(o.EndpointURL) })
	}
	st, err := collect.LoadState(filepath.Join(c.collectDir(), "state.json"))
	if err != nil {
		return nil, err
	}
	var prog collect.Progress
	if rep != nil {
		prog = collectProgress{rep}
	}
	res, err := collect.Run(ctx, cl, collect.Options{
		Window:      collect.Window{Since: o.Since, Until: o.Until, Margin: o.Margin},
		FlowLogs:    o.FlowLogs,
		ELBLogs:     o.ELBLogs,
		EC2Snapshot: o.EC2Snapshot,
		VPC:         o.VPC,
		Accounts:    o.Accounts,
		Region:      cfg.Region,
		Concurrency: o.Concurrency,
	}, c.collectDir(), st, prog)
	report := &CollectReport{Collected: res}
	if err != nil {
		// What did land stays staged: the next run imports it.
		return report, err
	}
	if len(res.Files) == 0 {
		return report, nil
	}
	paths := make([]string, len(res.Files))
	names := map[string]string{}
	for i, f := range res.Files {
		paths[i] = f.Path
		names[f.Path] = f.URL
	}
	imp, err := c.Import(ctx, paths, ImportOptions{Names: names}, rep)
	report.Import = imp
	if imp != nil {
		byName := map[string]FileResult{}
		for _, r := range imp.Files {
			byName[r.Name] = r
		}
		for _, f := range res.Files {
			r, ok := byName[f.URL]
			if !ok || r.Err != nil || (r.Evidence == nil && r.Skipped == "") {
				continue
			}
			if strings.HasPrefix(f.URL, "s3://") {
				if serr := st.Set(f.URL, collect.Entry{Size: f.Size, ETag: f.ETag, Imported: true}); serr != nil && err == nil {
					err = serr
				}
			}
			os.Remove(f.Path) // the case keeps its own copy
		}
		pruneEmpty(c.collectDir())
	}
	return report, err
}

// pruneEmpty removes the folders under dir that hold no file.
func pruneEmpty(dir string) {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- { // deepest first
		os.Remove(dirs[i]) // fails, as wanted, on a folder that holds something
	}
}

func hasS3(us []string) bool {
	for _, u := range us {
		if strings.HasPrefix(u, "s3://") {
			return true
		}
	}
	return false
}

func hasCWL(us []string) bool {
	for _, u := range us {
		if strings.HasPrefix(u, "cwl://") {
			return true
		}
	}
	return false
}

type collectProgress struct{ r CollectReporter }

func (p collectProgress) Status(s collect.Status) { p.r.Collecting(s) }

// ParseTime reads a time as users type it: RFC 3339, or a UTC time
// without zone (2006-01-02 15:04[:05]).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339, or 2006-01-02 15:04:05 in UTC)", s)
}
