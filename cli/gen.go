package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/query"
	"github.com/spf13/cobra"
)

func (e *env) genCmd() *cobra.Command {
	o := gen.Defaults()
	var start, scale string
	var noV5 bool
	c := &cobra.Command{
		Use:   "gen --out DIR [flags]",
		Short: "Write a realistic incident bundle with a truth.json of what happened",
		Long: `gen writes the evidence bundle of an OpenShift-on-AWS ingress incident: Linux
cooked captures of the router nodes (SLL and SLL2, rotated every 10 minutes),
VPC flow logs and Classic ELB access logs in their S3 layout, an opflex-agent
drop log, describe-* snapshots and oc listings, with faults injected, and
truth.json saying what really happened. The same flags give the same bytes.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Out == "" {
				return usageError{fmt.Errorf("gen needs --out DIR")}
			}
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return usageError{fmt.Errorf("--start: %w", err)}
				}
				o.Start = t.UTC()
			}
			if scale != "" {
				n, err := parseSize(scale)
				if err != nil {
					return usageError{fmt.Errorf("--scale: %w", err)}
				}
				o.ScaleBytes = n
			}
			o.V5 = !noV5
			o.Progress = func(n int64) { fmt.Fprintf(e.stderr, "\rwriting captures: %s", app.SizeText(n)) }
			t0 := time.Now()
			tr, err := gen.Generate(cmd.Context(), o)
			if err != nil {
				return err
			}
			size := dirSize(o.Out)
			fmt.Fprintf(e.stderr, "\rwrote %s in %s: %d requests, %d faults, %d capture files, %d flow log records, %d ELB log lines, %d OpFlex drops (%s)\n",
				o.Out, time.Since(t0).Round(time.Millisecond), tr.RequestCount, len(tr.Faults), len(tr.Captures),
				tr.FlowLogs.Records, tr.ELBLogs.Records, tr.OpFlex.Records, app.SizeText(size))
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.Out, "out", "", "folder to write the bundle into")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "random seed: the same seed gives the same bytes")
	f.IntVar(&o.Requests, "requests", o.Requests, "client requests")
	f.DurationVar(&o.Duration, "duration", o.Duration, "how long the incident window lasts")
	f.StringVar(&start, "start", o.Start.Format(time.RFC3339), "when the capture starts (RFC 3339)")
	f.DurationVar(&o.Aggregation, "aggregation", o.Aggregation, "flow log aggregation interval (60s or 600s)")
	f.DurationVar(&o.Rotate, "rotate", o.Rotate, "tcpdump -G rotation")
	f.IntVar(&o.Scanners, "scanners", o.Scanners, "internet scanners probing the workers (rejected by the security group)")
	f.IntVar(&o.SGBlock, "sg-block", o.SGBlock, "HTTPS connections to a NodePort the worker security group does not allow")
	f.IntVar(&o.NACLReturn, "nacl-return", o.NACLReturn, "clients whose replies the public network ACL blocks")
	f.BoolVar(&o.NotListening, "not-listening", o.NotListening, "ELB health checks to a NodePort nothing answers on")
	f.IntVar(&o.NetPolDrops, "netpol-drops", o.NetPolDrops, "requests to a backend behind a deny-all NetworkPolicy")
	f.Float64Var(&o.ErrorRate, "error-rate", o.ErrorRate, "share of requests the backend answers with 5xx")
	f.Float64Var(&o.SlowRate, "slow-rate", o.SlowRate, "share of requests answered after 1-4 s")
	f.Float64Var(&o.Loss, "loss", o.Loss, "share of requests with a retransmitted segment")
	f.Float64Var(&o.PortReuse, "port-reuse", o.PortReuse, "share of ELB connections reusing an earlier ephemeral port")
	f.DurationVar(&o.SkewELB, "skew-elb", o.SkewELB, "clock skew of the ELB access logs")
	f.DurationVar(&o.SkewFlow, "skew-flow", o.SkewFlow, "clock skew of the flow logs")
	f.StringVar(&o.LB, "lb", "classic", "load balancer: classic (TCP listener, PROXY protocol v1), alb (HTTP listener, X-Amzn-Trace-Id) or nlb (TCP listener keeping the client's address)")
	f.DurationVar(&o.FlowDelay, "flow-delay", o.FlowDelay, "flow-log records' start and end trail their packets by up to this (AWS: up to 60s)")
	f.DurationVar(&o.SkewNode, "skew-node", o.SkewNode, "clock skew of the second router node's capture")
	f.BoolVar(&noV5, "no-v5", false, "do not write the custom version-5 flow log")
	f.StringVar(&scale, "scale", "", "write about this much capture (e.g. 1GB); requests and duration follow")
	f.DurationVar(&o.CaptureSpan, "capture-span", 0, "stop the captures this long after the start (tcpdump run for part of the incident); the logs cover it all")
	return c
}

// parseSize reads 500MB, 1GB, 2GiB, 123456.
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, x := range []struct {
		suf string
		m   int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}, {"B", 1}} {
		if strings.HasSuffix(u, x.suf) {
			u, mult = strings.TrimSuffix(u, x.suf), x.m
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(u), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%q is not a size like 500MB or 1GB", s)
	}
	return int64(v * float64(mult)), nil
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func (e *env) demoCmd() *cobra.Command {
	var headless, rebuild bool
	c := &cobra.Command{
		Use:   "demo [--headless] [--rebuild]",
		Short: "Build (or reuse) the demo case from the generator's default scenario and open it",
		Long: `demo generates the default incident (seed 1) into your cache folder, imports it
into a case there, and opens the case in the GUI. Later runs reuse the case.
With --headless, or without a display, it prints what the case holds instead.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.demoCase(cmd.Context(), rebuild)
			if err != nil {
				return err
			}
			if !headless {
				if why := displayProblem(); why == "" {
					c.Close()
					return e.runGUI(cmd.Context(), c.Dir)
				} else {
					fmt.Fprintf(e.stderr, "no GUI: %s; printing the case instead\n", why)
				}
			}
			defer c.Close()
			if err := e.printSummary(cmd.Context(), c); err != nil {
				return err
			}
			return e.printDemoNext(cmd.Context(), c)
		},
	}
	c.Flags().BoolVar(&headless, "headless", false, "print what the case holds instead of opening the GUI")
	c.Flags().BoolVar(&rebuild, "rebuild", false, "generate and import again even if the demo case exists")
	return c
}

// demoCase returns the demo case, building it when missing, with the
// import's progress on stderr.
func (e *env) demoCase(ctx context.Context, rebuild bool) (*app.Case, error) {
	return app.Demo(ctx, rebuild, newImportDisplay(e.stderr, "text"), e.stderr)
}

// printSummary prints what a case holds: its evidence and the row counts of
// its tables.
func (e *env) printSummary(ctx context.Context, c *app.Case) error {
	fmt.Fprintf(e.stdout, "case %q in %s\n\n", c.Name(), c.Dir)
	t := &table{cols: []string{"id", "kind", "file", "rows", "rejected", "format"}}
	for _, ev := range c.Evidence() {
		t.add(ev.ID, ev.Kind, ev.Name, ev.Rows, ev.Rejected, ev.Format)
	}
	if err := t.print(e.stdout, outTable); err != nil {
		return err
	}
	s, err := c.Summary(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout)
	t = &table{cols: []string{"table", "rows"}}
	for _, r := range s {
		if !r.View {
			t.add(r.Table, r.Rows)
		}
	}
	return t.print(e.stdout, outTable)
}

// printDemoNext gives the diagnosis of the demo incident in brief and the
// commands that go further.
func (e *env) printDemoNext(ctx context.Context, c *app.Case) error {
	d, err := c.DiagnosisSummary(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nwhy flows were rejected or unanswered (l4case diagnose):\n")
	t := &table{cols: []string{"verdict", "conversations", "for example"}}
	for _, v := range d.Verdicts {
		t.add(v.Verdict, v.Count, v.Example)
	}
	if err := t.print(e.stdout, outTable); err != nil {
		return err
	}
	// As the user called it (bin/l4case from ./run demo), so that the lines can be pasted.
	self := "l4case"
	if len(os.Args) > 0 && strings.ContainsRune(os.Args[0], '/') {
		self = shellQuote(os.Args[0])
	}
	// A request the NetworkPolicy dropped, to trace.
	id := ""
	if p, err := c.RunView(ctx, "request_paths", map[string]string{"outcome": "dropped"}, 0, 1); err == nil && len(p.Rows) > 0 {
		for i, col := range p.Columns {
			if col == "request_id" {
				id = query.Text(p.Rows[0][i])
			}
		}
	}
	q := shellQuote(c.Dir)
	fmt.Fprintf(e.stdout, "\nnext:\n  %[2]s diagnose %[1]s --param verdict=nacl_outbound\n  %[2]s view %[1]s request_paths --param outcome=dropped\n", q, self)
	if id != "" {
		fmt.Fprintf(e.stdout, "  %[2]s trace %[1]s --request-id %[3]s\n  %[2]s gui %[1]s --trace %[3]s\n", q, self, id)
	}
	fmt.Fprintf(e.stdout, "  %[2]s views\n  %[2]s view %[1]s top_talkers --param by=pair\n  %[2]s gui %[1]s\n", q, self)
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
