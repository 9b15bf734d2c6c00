package app

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"dev.l4case/l4case/gen"
)

// TestGeneratedBundleAgreesWithTruth imports a generated incident folder and
// compares what l4case found with what the generator says happened.
func TestGeneratedBundleAgreesWithTruth(t *testing.T) {
	ctx := context.Background()
	o := gen.Defaults()
	o.Out = filepath.Join(t.TempDir(), "bundle")
	o.Requests = 400
	tr, err := gen.Generate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, filepath.Join(t.TempDir(), "case"), "bundle")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep, err := c.Import(ctx, []string{o.Out}, ImportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range rep.Files {
		if f.Err != nil {
			t.Errorf("%s: %v", f.Name, f.Err)
		}
		if f.Evidence != nil {
			kinds[f.Kind]++
			if f.Evidence.Rejected != 0 {
				t.Errorf("%s: %d records rejected", f.Name, f.Evidence.Rejected)
			}
		} else if !strings.HasSuffix(f.Name, "truth.json") {
			t.Errorf("%s skipped: %s", f.Name, f.Skipped)
		}
	}
	if kinds["pcap"] != len(tr.Captures) || kinds["ec2"] != 5 || kinds["oc"] != 2 || kinds["opflex"] != 1 || kinds["flowlog"] != len(tr.FlowLogs.Files) || kinds["elblog"] != len(tr.ELBLogs.Files) {
		t.Errorf("files by kind %v", kinds)
	}
	one := func(q string) string {
		p, err := c.Console(ctx, q, 0, 1)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return fmt.Sprint(p.Rows[0][0])
	}
	checks := []struct{ q, want string }{
		{`SELECT count(*) FROM flow_logs`, fmt.Sprint(tr.FlowLogs.Records)},
		{`SELECT count(*) FROM elb_logs`, fmt.Sprint(tr.ELBLogs.Records)},
		{`SELECT count(*) FROM drops`, fmt.Sprint(tr.OpFlex.Records)},
		{`SELECT count(*) FROM enis`, fmt.Sprint(len(tr.Topology.ENIs))},
		{`SELECT count(*) FROM security_groups`, fmt.Sprint(len(tr.Topology.SecurityGroups))},
		{`SELECT count(*) FROM network_acls`, fmt.Sprint(len(tr.Topology.NetworkACLs))},
		{`SELECT count(*) FROM flow_log_configs`, "2"},
		{`SELECT count(*) FROM nodes`, "6"},
		// Packets are read on demand (import keeps no packet_data rows by
		// default); the evidence records count them.
		{`SELECT count(*) FROM packet_data`, "0"},
		{`SELECT sum(rows) FROM evidence WHERE kind = 'pcap'`, fmt.Sprint(packets(tr))},
		{`SELECT count(*) FROM tcp_conversations WHERE history IS NULL OR first_offset IS NULL`, "0"},
		{`SELECT count(DISTINCT node) FROM tcp_conversations`, "2"},
		// The custom v5 file was read with its header: flow direction is there.
		{`SELECT count(*) > 0 FROM flow_logs WHERE version = 5 AND flow_direction IN ('ingress', 'egress') AND tcp_flags IS NOT NULL`, "true"},
		// The ELB ENIs are labelled with the load balancer's name.
		{`SELECT count(*) FROM endpoints WHERE kind = 'elb' AND name = '` + tr.Topology.ELB + `'`, "2"},
		{`SELECT count(*) FROM endpoints WHERE kind = 'router'`, "2"},
		// Every ELB line of the TCP listener has the "- - - " request.
		{`SELECT count(*) FROM elb_logs WHERE lb_type = 'classic' AND request = '- - - '`, fmt.Sprint(tr.ELBLogs.Records)},
	}
	for _, ch := range checks {
		if got := one(ch.q); got != ch.want {
			t.Errorf("%s = %s, truth says %s", ch.q, got, ch.want)
		}
	}
	// Every request's ELB line names its client and node port, as truth says.
	p, err := c.Console(ctx, `SELECT client_ip || ':' || client_port || '>' || backend_ip || ':' || backend_port FROM elb_logs WHERE backend_ip IS NOT NULL`, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, r := range p.Rows {
		got = append(got, fmt.Sprint(r[0]))
	}
	for _, r := range tr.Requests {
		want = append(want, r.Client+">"+r.NodePort)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ELB log pairs differ from truth: %d vs %d", len(got), len(want))
	}
	// The OpFlex drops are the NetworkPolicy fault's SYNs.
	if got := one(`SELECT count(DISTINCT dst) FROM drops WHERE table_name = 'Acc-SEC_GROUP_IN_TABLE' AND tcp_flags = 'SYN'`); got != "1" {
		t.Errorf("drops go to %s destinations, want the one denied pod", got)
	}
}

func packets(tr *gen.Truth) int64 {
	var n int64
	for _, c := range tr.Captures {
		n += c.Packets
	}
	return n
}
