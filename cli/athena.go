package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"dev.l4case/l4case/app"
)

func (e *env) athenaCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "athena (ddl | view NAME | views)",
		Short: "The case's log tables and saved views as Athena SQL, for months of logs in S3",
		Long: `When the question outgrows the laptop: athena ddl prints the statements that make
an account's flow logs and ELB access logs in S3 queryable in Athena under the case's
table names (external tables with partition projection, views giving them the case's
columns); athena view NAME prints a saved view's SQL as Athena (Trino) runs it, the
same text that l4case tests on DuckDB against the view itself; athena run runs it
there and imports the result into the case (evidence of kind athena_result, its own
table athena_result_N), so that findings, export and the console work on it offline.`,
	}
	c.AddCommand(e.athenaDDLCmd(), e.athenaViewCmd(), e.athenaViewsCmd(), e.athenaRunCmd())
	return c
}

func (e *env) athenaDDLCmd() *cobra.Command {
	var s app.AthenaSources
	var since string
	var apply bool
	var o app.AthenaRunOptions
	c := &cobra.Command{
		Use:   "ddl --flow-logs s3://… --elb-logs s3://… --account ID --region R [--database l4case] [--flow-format F] [--parquet] [--hive] [--hourly] [--since DATE] [--apply --workgroup W --results s3://…]",
		Short: "Print the statements that declare the logs in S3 as external tables and views",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if since != "" {
				t, err := time.Parse("2006-01-02", since)
				if err != nil {
					return usageError{fmt.Errorf("--since %q: want YYYY-MM-DD", since)}
				}
				s.Since = t
			}
			stmts, err := app.AthenaDDL(s)
			if err != nil {
				return usageError{err}
			}
			if !apply {
				fmt.Fprintln(e.stdout, strings.Join(stmts, ";\n\n")+";")
				return nil
			}
			if o.Region == "" && len(s.Regions) > 0 {
				o.Region = s.Regions[0]
			}
			n := 0
			err = app.AthenaApply(cmd.Context(), stmts, o, func(st app.AthenaStatus) {
				if st.State == "SUCCEEDED" {
					n++
					fmt.Fprintf(e.stderr, "%d/%d done (query %s)\n", n, len(stmts), st.QueryID)
				}
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%d statements run: the database %s is ready\n", len(stmts), s.Database)
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVar(&s.FlowLogs, "flow-logs", nil, "s3://BUCKET[/PREFIX] the flow logs are delivered to (repeatable)")
	f.StringArrayVar(&s.ELBLogs, "elb-logs", nil, "s3://BUCKET[/PREFIX] the access logs are delivered to (repeatable)")
	f.StringArrayVar(&s.Accounts, "account", nil, "account id in the AWSLogs/ layout (repeatable)")
	f.StringArrayVar(&s.Regions, "region", nil, "region in the layout (repeatable)")
	f.StringVar(&s.Database, "database", "l4case", "the Athena database")
	f.StringVar(&s.FlowFormat, "flow-format", "", "the flow log's format, '${version} ${account-id} ...' (default: AWS's default format)")
	f.BoolVar(&s.Parquet, "parquet", false, "flow logs delivered as Parquet (the destination's FileFormat=parquet)")
	f.BoolVar(&s.Hive, "hive", false, "flow logs in Hive-compatible S3 prefixes (HiveCompatiblePartitions=true)")
	f.BoolVar(&s.Hourly, "hourly", false, "flow logs in hourly folders (PerHourPartition=true)")
	f.StringVar(&since, "since", "", "first day the partition projection covers (default: three months ago)")
	f.BoolVar(&apply, "apply", false, "run the statements on Athena instead of printing them")
	f.StringVar(&o.Workgroup, "workgroup", "", "with --apply: the Athena workgroup")
	f.StringVar(&o.Output, "results", "", "with --apply: s3:// where Athena writes query results (default: the workgroup's)")
	f.StringVar(&o.Region, "athena-region", "", "with --apply: Athena's region (default: AWS_REGION, else the first --region)")
	f.StringVar(&o.Profile, "profile", "", "with --apply: the shared config profile")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "with --apply: another Athena endpoint (a test server)")
	return c
}

// windowFlags reads --since and --until.
func windowFlags(since, until string) (s, u time.Time, err error) {
	if since != "" {
		if s, err = parseTime(since); err != nil {
			return s, u, usageError{fmt.Errorf("--since: %w", err)}
		}
	}
	if until != "" {
		if u, err = parseTime(until); err != nil {
			return s, u, usageError{fmt.Errorf("--until: %w", err)}
		}
	}
	return s, u, nil
}

func (e *env) athenaViewCmd() *cobra.Command {
	var params []string
	var since, until, caseDir string
	var run bool
	var o app.AthenaRunOptions
	c := &cobra.Command{
		Use:   "view NAME [--param k=v]... [--since T] [--until T] [--case CASE_DIR] [--run --workgroup W --output s3://…]",
		Short: "Print a saved view's SQL for Athena, or run it there (--run) into the case",
		Long: `Prints the saved view's SQL in Athena's dialect. With --run (and --case), starts it on
Athena, polls it, and imports the result into the case as evidence of kind
athena_result, as 'l4case athena run CASE --view NAME' does.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := paramFlags(params)
			if err != nil {
				return err
			}
			s, u, err := windowFlags(since, until)
			if err != nil {
				return err
			}
			if run {
				if caseDir == "" {
					return usageError{fmt.Errorf("--run imports the result into a case: give --case CASE_DIR")}
				}
				o.View, o.Params, o.Since, o.Until = args[0], ps, s, u
				return e.athenaRun(cmd, caseDir, o, outTable)
			}
			var sqlText string
			if caseDir != "" {
				c, err := app.Open(cmd.Context(), caseDir)
				if err != nil {
					return err
				}
				defer c.Close()
				sqlText, err = c.AthenaView(cmd.Context(), args[0], ps, s, u)
			} else {
				sqlText, err = app.AthenaViewWindow(args[0], ps, s, u)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, sqlText)
			return nil
		},
	}
	f := c.Flags()
	f.StringArrayVar(&params, "param", nil, "a view parameter, name=value (repeatable)")
	f.StringVar(&since, "since", "", "the window's start: the view's from, and only the day partitions from then")
	f.StringVar(&until, "until", "", "the window's end")
	f.StringVar(&caseDir, "case", "", "a case whose endpoints (the inventory's names of addresses) go into the SQL, for the views that label addresses; with --run, the case the result goes into")
	f.BoolVar(&run, "run", false, "run it on Athena and import the result into the case (--case)")
	// --output is where Athena writes (the and the console's word);
	// athena run calls it --results, kept here as the same.
	f.StringVar(&o.Output, "output", "", "with --run: s3:// where Athena writes the result (default: the workgroup's)")
	f.StringVar(&o.Output, "results", "", "the same as --output")
	athenaClientFlags(f, &o)
	return c
}

// athenaClientFlags are how athena run and athena view --run reach Athena.
func athenaClientFlags(f *pflag.FlagSet, o *app.AthenaRunOptions) {
	f.StringVar(&o.Database, "database", "l4case", "the Athena database (athena ddl's)")
	f.StringVar(&o.Workgroup, "workgroup", "", "the Athena workgroup (default: the account's primary)")
	f.StringVar(&o.Region, "region", "", "the region (default: AWS_REGION or the profile's)")
	f.StringVar(&o.Profile, "profile", "", "the shared config profile (default: AWS_PROFILE)")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "another Athena endpoint (a test server)")
}

// athenaRun runs o on Athena with its progress on stderr and imports the
// result into the case.
func (e *env) athenaRun(cmd *cobra.Command, caseDir string, o app.AthenaRunOptions, out output) error {
	c, err := app.Open(cmd.Context(), caseDir)
	if err != nil {
		return err
	}
	defer c.Close()
	last := ""
	report, err := c.AthenaRun(cmd.Context(), o, func(s app.AthenaStatus) {
		if s.State != last {
			last = s.State
			fmt.Fprintf(e.stderr, "athena query %s: %s after %s, %s scanned\n", s.QueryID, s.State, s.Elapsed.Round(time.Millisecond), app.SizeText(s.ScannedBytes))
		}
	}, nil)
	if err != nil {
		return err
	}
	return printImport(e.stdout, report, out)
}

func (e *env) athenaViewsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "views",
		Short: "List the saved views that run on Athena, and why the others do not",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			portable, withCase, not := app.AthenaViews()
			t := &table{cols: []string{"view", "athena"}}
			for _, v := range portable {
				t.add(v, "yes")
			}
			for _, v := range withCase {
				t.add(v, "yes, with --case: the case's inventory names and EC2 snapshot go into the SQL")
			}
			var names []string
			for v := range not {
				names = append(names, v)
			}
			sort.Strings(names)
			for _, v := range names {
				t.add(v, "no: "+not[v])
			}
			return t.print(e.stdout, "")
		},
	}
}

func (e *env) athenaRunCmd() *cobra.Command {
	var o app.AthenaRunOptions
	var params []string
	var since, until string
	var out output
	c := &cobra.Command{
		Use:   "run CASE_DIR (--view NAME [--param k=v]... [--since T --until T] | --query SQL) [--database l4case] [--workgroup W] [--results s3://…] [--region R] [--profile P]",
		Short: "Run a saved view (or a query) on Athena and import its result into the case",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (o.View == "") == (o.SQL == "") {
				return usageError{fmt.Errorf("give --view NAME or --query SQL")}
			}
			var err error
			if o.Params, err = paramFlags(params); err != nil {
				return err
			}
			if o.Since, o.Until, err = windowFlags(since, until); err != nil {
				return err
			}
			return e.athenaRun(cmd, args[0], o, out)
		},
	}
	f := c.Flags()
	f.StringVar(&o.View, "view", "", "the saved view to run (see l4case athena views)")
	f.StringArrayVar(&params, "param", nil, "a view parameter, name=value (repeatable)")
	f.StringVar(&o.SQL, "query", "", "a query to run instead of a view")
	f.StringVar(&since, "since", "", "the window's start: the view's from, and only the day partitions from then")
	f.StringVar(&until, "until", "", "the window's end")
	f.StringVar(&o.Output, "results", "", "s3:// where Athena writes the result (default: the workgroup's)")
	athenaClientFlags(f, &o)
	addOutputFlag(f, &out)
	return c
}
