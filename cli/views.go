package cli

import (
	"fmt"
	"strings"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/query"
	"github.com/spf13/cobra"
)

func (e *env) viewsCmd() *cobra.Command {
	var out output
	c := &cobra.Command{
		Use:   "views [CASE_DIR]",
		Short: "List the saved views and their parameters",
		Args:  rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t := &table{cols: []string{"name", "title", "params", "description"}}
			for _, v := range app.Views() {
				var ps []string
				for _, p := range v.Params {
					ps = append(ps, p.Name+" "+strings.ToLower(p.Type))
				}
				t.add(v.Name, v.Title, strings.Join(ps, ", "), v.Description)
			}
			return t.print(e.stdout, out)
		},
	}
	addOutputFlag(c.Flags(), &out)
	return c
}

// paramFlags reads --param k=v pairs.
func paramFlags(ps []string) (map[string]string, error) {
	args := map[string]string{}
	for _, p := range ps {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, usageError{fmt.Errorf("--param %q: want name=value", p)}
		}
		args[k] = v
	}
	return args, nil
}

// viewSQL is view name's SQL with the --param pairs ps, or a usage error.
func viewSQL(name string, ps []string) (string, error) {
	args, err := paramFlags(ps)
	if err != nil {
		return "", err
	}
	v, err := app.LookupView(name)
	if err != nil {
		return "", usageError{err}
	}
	sqlText, err := v.Render(args)
	if err != nil {
		return "", usageError{err}
	}
	return sqlText, nil
}

func (e *env) viewCmd() *cobra.Command {
	var out output
	var params []string
	var limit int
	c := &cobra.Command{
		Use:   "view CASE_DIR NAME [--param k=v]...",
		Short: "Run a saved view",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			sqlText, err := viewSQL(args[1], params)
			if err != nil {
				return err
			}
			return e.printQuery(cmd.Context(), args[0], sqlText, out, limit)
		},
	}
	c.Flags().StringArrayVar(&params, "param", nil, "a view parameter, name=value (repeatable); see l4case views")
	c.Flags().IntVar(&limit, "limit", 1000, "rows to show with -o table")
	addOutputFlag(c.Flags(), &out)
	return c
}

func (e *env) exportCmd() *cobra.Command {
	var viewName, sqlText, outFile string
	var params []string
	var format output
	c := &cobra.Command{
		Use:   "export CASE_DIR (--view NAME [--param k=v]... | --query SQL) --out FILE [-o csv|json]",
		Short: "Write a view's or a query's whole result to a CSV (RFC 4180) or JSON-lines file",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if outFile == "" || (viewName == "") == (sqlText == "") {
				return usageError{fmt.Errorf("export needs --out FILE and one of --view NAME or --query SQL")}
			}
			if viewName != "" {
				var err error
				if sqlText, err = viewSQL(viewName, params); err != nil {
					return err
				}
			}
			f := query.CSV
			if format == outJSON {
				f = query.JSON
			} else if format == outTable {
				format = outCSV
			}
			c, err := app.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			var n int64
			if outFile == "-" {
				n, err = c.ExportTo(cmd.Context(), sqlText, e.stdout, f)
			} else {
				n, err = c.Export(cmd.Context(), sqlText, outFile, f)
			}
			if err != nil {
				return err
			}
			dest := outFile
			if dest == "-" {
				dest = "standard output"
			}
			fmt.Fprintf(e.stderr, "exported %s to %s\n", plural(int(n), "row"), dest)
			return nil
		},
	}
	c.Flags().StringVar(&viewName, "view", "", "the saved view to export")
	c.Flags().StringArrayVar(&params, "param", nil, "a view parameter, name=value (repeatable)")
	c.Flags().StringVar(&sqlText, "query", "", "SQL to export instead of a view")
	c.Flags().StringVar(&outFile, "out", "", "file to write, - for standard output")
	c.Flags().VarP(&format, "output", "o", "csv (default) or json (JSON lines)")
	format = outCSV
	return c
}

func (e *env) diagnoseCmd() *cobra.Command {
	var out output
	var params []string
	var limit int
	c := &cobra.Command{
		Use:   "diagnose CASE_DIR [--param verdict=...|eni=...|addr=...]",
		Short: "Why was it rejected: a verdict for every rejected or unanswered flow, NACL or security group, with the rule",
		Long: `diagnose pairs both directions of every flow on each ENI and reads the pattern
as AWS's troubleshooting guide does (a single inbound REJECT: security group or
network ACL; inbound ACCEPT and the reply REJECTed outbound: the network ACL;
ACCEPT with no return flow: nothing listening), then evaluates the flow against
the security group and network ACL snapshots in the case to name the rule.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sqlText, err := viewSQL("nacl_sg_diagnosis", params) // a bad parameter is a usage error
			if err != nil {
				return err
			}
			p, _ := paramFlags(params)
			c, err := app.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			sum, err := c.DiagnosisSummary(cmd.Context(), p)
			if err != nil {
				return err
			}
			if out == outTable {
				for _, s := range sum.Verdicts {
					fmt.Fprintf(e.stderr, "%-22s %6d  e.g. %s\n", s.Verdict, s.Count, s.Example)
				}
				if sum.SnapshotAfter {
					fmt.Fprintln(e.stderr, "note: the EC2 snapshots were taken after the incident: the rules named may not be the rules at the time")
				}
				fmt.Fprintln(e.stderr)
			}
			c.Close()
			return e.printQuery(cmd.Context(), args[0], sqlText, out, limit)
		},
	}
	c.Flags().StringArrayVar(&params, "param", nil, "filter: verdict=..., eni=..., addr=...")
	c.Flags().IntVar(&limit, "limit", 200, "rows to show with -o table")
	addOutputFlag(c.Flags(), &out)
	return c
}
