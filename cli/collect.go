package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"dev.l4case/l4case/app"
)

func (e *env) collectCmd() *cobra.Command {
	var o app.CollectOptions
	var since, until string
	var out output
	var quiet bool
	progress := "text"
	c := &cobra.Command{
		Use:   "collect CASE_DIR --since T --until T [--region R] [--profile P] [--endpoint-url URL] SOURCES...",
		Short: "Fetch an incident's logs and EC2 snapshot from AWS into the case, then import them",
		Long: `Collect fetches from AWS what the case needs, then imports it, so that the case
needs nothing online afterwards. Sources:

  --flow-logs s3://BUCKET[/PREFIX]   VPC flow logs delivered to S3 (default or Hive-compatible
                                     layout, daily or hourly folders)
  --flow-logs cwl://LOG-GROUP        flow logs delivered to CloudWatch Logs (FilterLogEvents;
                                     the fields come from the flow log's format in EC2)
  --elb-logs s3://BUCKET[/PREFIX]    Classic, ALB and NLB access logs
  --ec2-snapshot [--vpc vpc-...]     security groups and their rules, network ACLs, ENIs,
                                     subnets and flow logs, as the aws CLI's JSON

Only the folders of the window's days (and hours) are listed, in the account
(--account, needed when a prefix holds several) and region given; only the
objects whose names' time stamps fall between --since and --until plus
--margin (delivery delay) are fetched, --concurrency at a time. Run again, it
fetches only what is not in the case yet (same size and ETag).

Credentials and region come from the standard AWS chain (environment, shared
config and credentials files, SSO, IMDS); they are never written into the
case. --endpoint-url points at an S3-compatible server (path-style).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if since == "" || until == "" {
				return usageError{fmt.Errorf("give the incident's window: --since and --until")}
			}
			if o.Since, err = parseTime(since); err != nil {
				return usageError{fmt.Errorf("--since: %w", err)}
			}
			if o.Until, err = parseTime(until); err != nil {
				return usageError{fmt.Errorf("--until: %w", err)}
			}
			if len(o.FlowLogs)+len(o.ELBLogs) == 0 && !o.EC2Snapshot {
				return usageError{fmt.Errorf("nothing to collect: give --flow-logs, --elb-logs or --ec2-snapshot")}
			}
			if quiet {
				progress = "none"
			}
			if !slices.Contains(progressModes, progress) {
				return usageError{fmt.Errorf("--progress %q: want one of %s", progress, strings.Join(progressModes, ", "))}
			}
			c, err := app.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			rep := &collectDisplay{importDisplay: newImportDisplay(e.stderr, progress)}
			report, err := c.Collect(cmd.Context(), o, rep)
			rep.finish()
			if report != nil && report.Collected != nil {
				r := report.Collected
				for _, p := range r.Plans {
					fmt.Fprintf(e.stderr, "%s: %d objects in the window's folders (account %s), %d in the window\n",
						p.Location, p.Listed, strings.Join(p.Accounts, ", "), len(p.Objects))
				}
				for _, n := range r.Notes {
					fmt.Fprintln(e.stderr, n)
				}
				if r.Snapshot != nil {
					fmt.Fprintf(e.stderr, "EC2 snapshot taken %s\n", r.Snapshot.Taken.Format(time.RFC3339))
				}
				fmt.Fprintf(e.stderr, "%d fetched (%s), %d already in the case\n", r.Downloaded, app.CountText(r.Bytes)+" bytes", r.AlreadyInCase)
			}
			if err != nil {
				if cmd.Context().Err() != nil {
					return fmt.Errorf("interrupted: what was fetched whole is kept; run the same command again to go on (%w)", err)
				}
				return err
			}
			if report.Import == nil {
				return nil
			}
			if err := printImport(e.stdout, report.Import, out); err != nil {
				return err
			}
			imported, skipped, failed := report.Import.Counts()
			fmt.Fprintf(e.stderr, "%d imported, %d skipped, %d failed\n", imported, skipped, failed)
			if failed > 0 {
				return fmt.Errorf("%d file(s) failed", failed)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&since, "since", "", "start of the incident's window (RFC 3339, or 2006-01-02 15:04:05 in UTC)")
	f.StringVar(&until, "until", "", "end of the window")
	f.DurationVar(&o.Margin, "margin", 0, "how long after --until objects may still hold the window's records (default 30m)")
	f.StringArrayVar(&o.FlowLogs, "flow-logs", nil, "s3://BUCKET[/PREFIX] or cwl://LOG-GROUP (repeatable)")
	f.StringArrayVar(&o.ELBLogs, "elb-logs", nil, "s3://BUCKET[/PREFIX] (repeatable)")
	f.BoolVar(&o.EC2Snapshot, "ec2-snapshot", false, "describe the security groups, network ACLs, ENIs, subnets and flow logs")
	f.StringVar(&o.VPC, "vpc", "", "only this VPC's (with --ec2-snapshot)")
	f.StringArrayVar(&o.Accounts, "account", nil, "the account whose logs to take, when a prefix holds several (repeatable)")
	f.StringVar(&o.Region, "region", "", "the region (default: AWS_REGION or the profile's)")
	f.StringVar(&o.Profile, "profile", "", "the shared config profile (default: AWS_PROFILE)")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "an S3-compatible server (MinIO, a test server): path-style addressing")
	f.IntVar(&o.Concurrency, "concurrency", 4, "downloads at once")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress on stderr (--progress none)")
	f.StringVar(&progress, "progress", progress, "progress on stderr: text, json or none")
	addOutputFlag(f, &out)
	return c
}

// collectDisplay shows the downloads, then the import, as import does.
type collectDisplay struct {
	*importDisplay
}

func (d *collectDisplay) Collecting(s app.CollectStatus) {
	switch d.mode {
	case "json":
		d.mu.Lock()
		d.enc.Encode(map[string]any{"type": "collect", "phase": s.Phase, "source": s.Source, "objects": s.Objects, "objects_total": s.ObjectsTotal,
			"bytes": s.Bytes, "bytes_total": s.BytesTotal, "elapsed_s": s.Elapsed.Seconds()})
		d.mu.Unlock()
	case "text":
		d.mu.Lock()
		defer d.mu.Unlock()
		line := s.Line()
		if !d.tty {
			if s.Phase != "downloading" || s.Objects == s.ObjectsTotal {
				fmt.Fprintln(d.w, line)
			}
			return
		}
		pad := ""
		if n := len(d.last) - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		fmt.Fprintf(d.w, "\r%s%s", line, pad)
		d.last = line
	}
}
