package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dev.l4case/l4case/gen"
)

// accuracyScenario is a generated incident made hard to trace on purpose.
type accuracyScenario struct {
	name string
	set  func(*gen.Options)
}

// The impairments the issue names: clocks up to ±2 s apart between
// sources, 1 % packet loss, the ELB reusing ephemeral ports, flow-log
// records aggregated over 10 minutes and trailing their packets by up to a
// minute. Port reuse is set five times the demo's to give it weight.
var accuracyScenarios = []accuracyScenario{
	{"classic, skew ±2 s, 1 % loss, 5 % port reuse, 10-min windows, records up to 60 s late", func(o *gen.Options) {
		o.SkewELB, o.SkewFlow, o.SkewNode = 1500*time.Millisecond, -2*time.Second, 2*time.Second
		o.Loss, o.PortReuse, o.Aggregation, o.FlowDelay = 0.01, 0.05, 10*time.Minute, time.Minute
	}},
	{"classic, skew ±2 s, 1 % loss, 5 % port reuse, 1-min windows, records up to 60 s late", func(o *gen.Options) {
		o.SkewELB, o.SkewFlow, o.SkewNode = -2*time.Second, 2*time.Second, -1500*time.Millisecond
		o.Loss, o.PortReuse, o.Aggregation, o.FlowDelay = 0.01, 0.05, time.Minute, time.Minute
	}},
	{"alb, skew ±2 s, 1 % loss, 5 % port reuse, 10-min windows, records up to 60 s late", func(o *gen.Options) {
		o.LB = "alb"
		o.SkewELB, o.SkewFlow, o.SkewNode = 2*time.Second, -1500*time.Millisecond, -2*time.Second
		o.Loss, o.PortReuse, o.Aggregation, o.FlowDelay = 0.01, 0.05, 10*time.Minute, time.Minute
	}},
	{"nlb, skew ±2 s, 1 % loss, 10-min windows, records up to 60 s late (the client's own ports: no reuse)", func(o *gen.Options) {
		o.LB = "nlb"
		o.SkewELB, o.SkewFlow, o.SkewNode = 0, 2*time.Second, -2*time.Second
		o.Loss, o.Aggregation, o.FlowDelay = 0.01, 10*time.Minute, time.Minute
	}},
}

// TestTraceAccuracy traces every request of generated incidents with the
// impairments above and reports the share traced fully and correctly (every
// lane, every hop at its true time, the flow-log windows of the request's
// own connection on both ENIs, the status and outcome). Run with -v for the
// table BENCHMARKS.md holds.
func TestTraceAccuracy(t *testing.T) {
	ctx := context.Background()
	var table []string
	for i, sc := range accuracyScenarios {
		dir := t.TempDir()
		o := gen.Defaults()
		o.Out, o.Seed, o.Requests, o.Duration = filepath.Join(dir, "bundle"), uint64(11+i), 400, 12*time.Minute
		sc.set(&o)
		tr, err := gen.Generate(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(ctx, filepath.Join(dir, "case"), sc.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Import(ctx, []string{o.Out}, ImportOptions{}, nil); err != nil {
			t.Fatal(err)
		}
		misses, per := traceAll(t, c, tr)
		traceFromKeys(t, c, tr, 40)
		checkRequestPaths(t, c, tr)
		c.Close()
		reused := 0
		for _, r := range tr.Requests {
			if r.Fault == "port_reuse" {
				reused++
			}
		}
		n := len(tr.Requests)
		share := float64(n-len(misses)) / float64(n)
		table = append(table, fmt.Sprintf("| %s | %d (%d reusing a port) | %d | %.2f %% | %v |", sc.name, n, reused, n-len(misses), share*100, per.Round(time.Millisecond)))
		for id, why := range misses {
			t.Logf("%s: miss %s: %s", sc.name, id, strings.Join(why, "; "))
		}
		if share < 0.99 {
			t.Errorf("%s: %.2f %% traced fully and correctly, want ≥ 99 %%", sc.name, share*100)
		}
	}
	t.Logf("\n| scenario | requests | fully and correctly traced | share | per trace |\n| --- | ---: | ---: | ---: | ---: |\n%s", strings.Join(table, "\n"))
}
