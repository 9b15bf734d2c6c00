package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"dev.l4case/l4case/gen"
)

// traceSkew is how far each source's clock was set off in a generated
// incident: what a correct trace finds at each hop is the true time plus it.
type traceSkew struct {
	elb, flow, node2 time.Duration
	flowDelay        time.Duration
	aggregation      time.Duration
	node2Name        string
	end              time.Time // when the captures end
	lb               string
}

// want2windows says whether a request's ELB → node connection straddles
// two aggregation windows, so each ENI logs it in two records a direction.
func want2windows(_ int, s traceSkew, r gen.TruthRequest) bool {
	w := func(t time.Time) int64 { return t.Unix() / int64(s.aggregation/time.Second) }
	return w(r.NodeSYN) != w(r.Closed)
}

func skewOf(t *testing.T, tr *gen.Truth) traceSkew {
	t.Helper()
	var s traceSkew
	var err error
	for _, x := range []struct {
		v   string
		dst *time.Duration
	}{{tr.Skew.ELB, &s.elb}, {tr.Skew.FlowLogs, &s.flow}, {tr.Skew.Node2, &s.node2}, {tr.Skew.FlowDelay, &s.flowDelay}} {
		if x.v == "" {
			continue
		}
		if *x.dst, err = time.ParseDuration(x.v); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range tr.Captures {
		if c.LinkType == "LINUX_SLL2" {
			s.node2Name = c.Node
		}
	}
	s.aggregation = time.Duration(tr.AggregationS) * time.Second
	s.end, s.lb = tr.End, tr.LB
	return s
}

// checkTrace compares a trace with what really happened to the request and
// returns every difference, each naming the hop.
func checkTrace(tr *Trace, r gen.TruthRequest, s traceSkew) []string {
	want := r
	var bad []string
	errf := func(f string, a ...any) { bad = append(bad, fmt.Sprintf(f, a...)) }
	lanes := map[string]Lane{}
	for _, l := range tr.Lanes {
		lanes[l.ID] = l
	}
	for _, c := range []struct{ lane, got, want string }{
		{"client", lanes["client"].Addr, want.Client},
		{"lb", lanes["lb"].Addr, want.ELBSource},
		{"node", lanes["node"].Addr, want.NodePort},
		{"node label", lanes["node"].Label, want.Node},
		{"router", lanes["router"].Addr, want.Router},
		{"router label", lanes["router"].Label, want.RouterPod},
		{"backend", lanes["backend"].Addr, want.Backend},
		{"backend label", lanes["backend"].Label, want.BackendPod},
	} {
		if c.got != c.want {
			errf("lane %s: %q, want %q", c.lane, c.got, c.want)
		}
	}
	nodeSkew := time.Duration(0)
	if want.Node == s.node2Name {
		nodeSkew = s.node2
	}
	hops := map[string][]Hop{}
	for _, h := range tr.Hops {
		hops[h.Step+"/"+h.Source] = append(hops[h.Step+"/"+h.Source], h)
	}
	exact := func(key string, at time.Time, tol time.Duration) {
		hs := hops[key]
		if len(hs) != 1 || hs[0].Status == "missing" || hs[0].Start == nil {
			errf("%s: %d hops, want one found", key, len(hs))
			return
		}
		if d := hs[0].Start.Sub(at); d > tol || d < -tol {
			errf("%s at %s, want %s", key, hs[0].Start.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
		}
	}
	if want.ELBTime.IsZero() {
		// A pass-through load balancer (NLB) logs nothing: the hop is
		// listed as such.
		if hs := hops["client_lb/elb_log"]; len(hs) != 1 || hs[0].Status != "missing" || !strings.Contains(hs[0].Reason, "writes no access log") {
			errf("client_lb/elb_log: %+v, want one missing hop saying the listener writes no access log", hs)
		}
	} else {
		exact("client_lb/elb_log", want.ELBTime.Add(s.elb), time.Microsecond)
	}
	exact("lb_node/capture", want.NodeSYN.Add(nodeSkew), time.Microsecond)
	exact("node_router/capture", want.NodeSYN.Add(nodeSkew), time.Millisecond)
	exact("router_backend/capture", want.BackendReq.Add(nodeSkew), time.Microsecond)
	// The flow-log records of the ELB → node connection, on the ELB's ENI
	// and the node's: the windows must hold the connection's packets
	// (shifted by the flow logs' skew and at most the delivery delay), not
	// those of another connection that reused the port.
	flows := hops["lb_node/flow_log"]
	if len(flows) != 2 {
		errf("lb_node/flow_log: %d ENIs, want 2 (the ELB's and the node's)", len(flows))
	}
	syn := want.NodeSYN.Add(s.flow)
	for _, h := range flows {
		if h.Status == "missing" || h.Start == nil {
			errf("lb_node/flow_log on %s missing: %s", h.ENI, h.Reason)
			continue
		}
		lo, hi := h.Start.Add(-s.flowDelay-time.Second), h.End.Add(time.Second)
		if syn.Before(lo) || syn.After(hi) {
			errf("lb_node/flow_log on %s: window %s–%s does not hold the SYN at %s", h.ENI, h.Start.Format(time.TimeOnly), h.End.Format(time.TimeOnly), syn.Format(time.TimeOnly))
		}
		// One record a direction, two if the connection straddles two
		// aggregation windows: no record of another window.
		want := 2
		if s.aggregation > 0 && want2windows(want, s, r) {
			want = 4
		}
		if len(h.Evidence) != want {
			errf("lb_node/flow_log on %s: %d records, want %d", h.ENI, len(h.Evidence), want)
		}
	}
	wantStatus := want.Status
	wantOutcome := map[string]string{"networkpolicy_drop": "dropped", "backend_5xx": "http_error"}[want.Fault]
	if wantOutcome == "" {
		wantOutcome = "ok"
	}
	if want.Response.Add(nodeSkew).After(s.end) && want.ELBTime.Before(want.Response) {
		// The captures ended before the response: only a log line that
		// was written after it could say how it went, and a TCP
		// listener's says bytes, not a status.
		wantStatus = 0
		if s.lb == "alb" {
			wantStatus = want.Status
		}
	}
	if tr.Request.Status != wantStatus {
		errf("status %d, want %d", tr.Request.Status, wantStatus)
	}
	if tr.Outcome != wantOutcome {
		errf("outcome %s (%s), want %s", tr.Outcome, tr.Why, wantOutcome)
	}
	if !tr.Complete {
		errf("incomplete: %d of %d legs", tr.Found, tr.Expected)
	}
	return bad
}

// traceAll traces every request of a case by its request-id and returns
// the misses by request.
func traceAll(t *testing.T, c *Case, tr *gen.Truth) (misses map[string][]string, per time.Duration) {
	t.Helper()
	s := skewOf(t, tr)
	misses = map[string][]string{}
	start := time.Now()
	for _, r := range tr.Requests {
		got, err := c.Trace(context.Background(), TraceKey{RequestID: r.RequestID})
		if err != nil {
			misses[r.RequestID] = []string{err.Error()}
			continue
		}
		if bad := checkTrace(got, r, s); len(bad) > 0 {
			misses[r.RequestID] = append([]string{"fault " + orNone(r.Fault)}, bad...)
		}
	}
	return misses, time.Since(start) / time.Duration(max(len(tr.Requests), 1))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func reportMisses(t *testing.T, misses map[string][]string) {
	t.Helper()
	ids := make([]string, 0, len(misses))
	for id := range misses {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for i, id := range ids {
		if i == 20 {
			t.Errorf("... and %d more", len(ids)-20)
			break
		}
		t.Errorf("request %s: %s", id, strings.Join(misses[id], "; "))
	}
}

// Every request of the shared incident (clean data: no skew, one-minute
// windows, the demo's faults, loss and port reuse) is traced whole and right.
func TestTraceEveryRequest(t *testing.T) {
	c, tr := incidentCase(t)
	misses, per := traceAll(t, c, tr)
	reportMisses(t, misses)
	t.Logf("%d requests traced, %v each", len(tr.Requests), per)
}

// The same request is found from each of the trace's starting points: its
// client ip:port, its ELB line, each of its capture streams, a flow record.
func TestTraceFromEveryKey(t *testing.T) {
	c, tr := incidentCase(t)
	if n := traceFromKeys(t, c, tr, 37); n < 20 {
		t.Fatalf("only %d requests tried", n)
	}
}

// traceFromKeys traces every every-th request (and every one reusing a
// port or dropped) from each of its keys and checks each trace.
func traceFromKeys(t *testing.T, c *Case, tr *gen.Truth, every int) int {
	t.Helper()
	ctx := context.Background()
	s := skewOf(t, tr)
	n := 0
	for _, r := range tr.Requests {
		if r.N%every != 0 && r.Fault != "port_reuse" && r.Fault != "networkpolicy_drop" {
			continue
		}
		n++
		base, err := c.Trace(ctx, TraceKey{RequestID: r.RequestID})
		if err != nil {
			t.Fatal(err)
		}
		keys := []TraceKey{{Client: r.Client}}
		for _, h := range base.Hops {
			switch {
			case h.Source == "elb_log" && len(h.Evidence) == 1:
				keys = append(keys, TraceKey{ELBLine: &Ref{Evidence: h.Evidence[0].Evidence, N: h.Evidence[0].N}})
			case h.Source == "capture" && h.Packets != nil:
				keys = append(keys, TraceKey{Conversation: h.Packets})
			case h.Source == "flow_log" && h.Step == "lb_node" && len(h.Evidence) > 0:
				// A record may aggregate several connections of a reused
				// port: the user says which by its time, as the capture
				// dates it.
				at := r.NodeSYN
				if r.Node == s.node2Name {
					at = at.Add(s.node2)
				}
				keys = append(keys, TraceKey{Flow: &Ref{Evidence: h.Evidence[0].Evidence, N: h.Evidence[0].N}, At: at})
			}
		}
		want := 7 // client, ELB line, 3 streams, 2 flow records
		if r.ELBTime.IsZero() {
			want = 6 // no ELB line
		}
		if len(keys) != want {
			t.Errorf("request %s: %d keys from its trace, want %d (client, ELB line, 3 streams, 2 flow records)", r.RequestID, len(keys), want)
		}
		for _, k := range keys {
			got, err := c.Trace(ctx, k)
			if err != nil {
				t.Errorf("request %s from %s: %v", r.RequestID, k, err)
				continue
			}
			if bad := checkTrace(got, r, s); len(bad) > 0 {
				t.Errorf("request %s from %s: %s", r.RequestID, k, strings.Join(bad, "; "))
			}
		}
	}
	return n
}

func TestTraceNotFound(t *testing.T) {
	c, _ := incidentCase(t)
	for _, k := range []TraceKey{
		{RequestID: "no-such-request"},
		{Client: "192.0.2.1:1"},
		{ELBLine: &Ref{Evidence: 999, N: 1}},
		{Conversation: &Ref{Evidence: 999, N: 1}},
		{Flow: &Ref{Evidence: 999, N: 1}},
	} {
		if _, err := c.Trace(context.Background(), k); !errors.Is(err, ErrNotTraced) {
			t.Errorf("%s: err = %v, want ErrNotTraced", k, err)
		}
	}
}

// A bundle without the second router node's captures nor the flow logs of
// the last ten minutes: the trace still finds what remains and says, for
// each missing hop, why it is missing.
func TestTraceExplainsMissingHops(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o := gen.Defaults()
	o.Out = filepath.Join(dir, "bundle")
	o.Requests, o.Duration = 300, 20*time.Minute
	tr, err := gen.Generate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	node2 := skewOf(t, tr).node2Name
	var paths []string
	filepath.Walk(o.Out, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || filepath.Base(p) == "truth.json" {
			return err
		}
		rel, _ := filepath.Rel(o.Out, p)
		// The second node's capture, and every flow-log object after 06:40.
		if strings.Contains(rel, node2) {
			return nil
		}
		if strings.Contains(rel, "vpcflowlogs") {
			if i := strings.Index(rel, "_20210405T"); i > 0 && rel[i+10:i+14] > "0640" {
				return nil
			}
		}
		paths = append(paths, p)
		return nil
	})
	c, err := New(ctx, filepath.Join(dir, "case"), "partial")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Import(ctx, paths, ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	var onNode2, late *gen.TruthRequest
	for i, r := range tr.Requests {
		if r.Fault != "" {
			continue
		}
		if r.Node == node2 && onNode2 == nil {
			onNode2 = &tr.Requests[i]
		}
		if r.Node != node2 && r.NodeSYN.After(tr.Start.Add(12*time.Minute)) && late == nil {
			late = &tr.Requests[i]
		}
	}
	got, err := c.Trace(ctx, TraceKey{Client: onNode2.Client})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, h := range got.Hops {
		if h.Status == "missing" {
			reasons[h.Step+"/"+h.Source] = h.Reason
		}
	}
	if got.Complete || !strings.HasPrefix(reasons["lb_node/capture"], "no capture from node "+node2) ||
		!strings.Contains(reasons["router_backend/capture"], node2) || reasons["lb_node/flow_log"] == "" {
		t.Errorf("request on %s: complete=%v, missing %q", node2, got.Complete, reasons)
	}
	if got.Outcome != "ok" || got.Request.Client != onNode2.Client {
		t.Errorf("request on %s from its ELB line alone: outcome %s, client %s", node2, got.Outcome, got.Request.Client)
	}
	got, err = c.Trace(ctx, TraceKey{RequestID: late.RequestID})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, h := range got.Hops {
		if h.Status == "missing" {
			missing = append(missing, h.Step+"/"+h.Source+" "+h.ENI+": "+h.Reason)
			if h.Source != "flow_log" || !strings.HasPrefix(h.Reason, "flow-log window for 06:") || !strings.Contains(h.Reason, "not in the bundle") {
				t.Errorf("late request: unexpected missing hop %s/%s: %s", h.Step, h.Source, h.Reason)
			}
		}
	}
	if len(missing) != 2 {
		t.Errorf("late request: missing %q, want the two ENIs' flow logs", missing)
	}
	if bad := checkTrace(got, *late, skewOf(t, tr)); len(bad) != 3 || bad[2] != "incomplete: 4 of 5 legs" {
		t.Errorf("late request: %q, want only the two ENIs' flow logs and completeness to differ", bad)
	}
}

// request_paths lists every request once, joined as the trace joins it,
// with its outcome; and the ELB lines of connections the load balancer
// could not open (the security group blocking the HTTPS NodePort) as
// requests with no capture and no response.
func TestViewRequestPaths(t *testing.T) {
	c, tr := incidentCase(t)
	checkRequestPaths(t, c, tr)
}

func checkRequestPaths(t *testing.T, c *Case, tr *gen.Truth) {
	t.Helper()
	rows := view(t, c, "request_paths", nil)
	byID := map[string]map[string]string{}
	var others []map[string]string
	for _, r := range rows {
		if r["request_id"] == "" {
			others = append(others, r)
			continue
		}
		if byID[r["request_id"]] != nil {
			t.Errorf("request %s listed twice", r["request_id"])
		}
		byID[r["request_id"]] = r
	}
	if len(byID) != len(tr.Requests) {
		t.Errorf("%d requests listed, want %d", len(byID), len(tr.Requests))
	}
	outcomes := map[string]int{}
	for _, want := range tr.Requests {
		r := byID[want.RequestID]
		if r == nil {
			t.Errorf("request %s not listed", want.RequestID)
			continue
		}
		wantOutcome := map[string]string{"networkpolicy_drop": "dropped", "backend_5xx": "http_error"}[want.Fault]
		if wantOutcome == "" {
			wantOutcome = "ok"
		}
		outcomes[wantOutcome]++
		got := []string{r["client"], r["node"], r["lb"], r["router"], r["backend"], r["backend_pod"], r["uri"], r["status"], r["outcome"], r["complete"], r["missing"]}
		exp := []string{want.Client, want.Node, want.ELBSource, want.Router, want.Backend, want.BackendPod, want.URI, fmt.Sprint(want.Status), wantOutcome, "true", ""}
		if tr.LB == "nlb" {
			exp[1] = want.Node // the NLB's client is the node's peer
		}
		if strings.Join(got, " | ") != strings.Join(exp, " | ") {
			t.Errorf("request %s:\n got %s\nwant %s", want.RequestID, strings.Join(got, " | "), strings.Join(exp, " | "))
		}
	}
	// The connections the security group blocked: an ELB line each (an
	// NLB logs none), no capture; the ALB answers them 504 itself.
	sg := sgClients(tr)
	if tr.LB == "nlb" {
		sg = 0
	}
	if len(others) != sg || sg == 0 && tr.LB != "nlb" {
		t.Errorf("%d rows without a request, want the %d the security group blocked", len(others), sg)
	}
	for _, r := range others {
		want := map[string]string{"alb": "http_error"}[tr.LB]
		if want == "" {
			want = "no_response"
		}
		if r["outcome"] != want || r["missing"] != "flow_log capture dnat backend" || r["elb_line"] == "" {
			t.Errorf("blocked connection: %v", r)
		}
		outcomes[want]++
	}
	// Its parameters select what the outcomes counted.
	for o, n := range outcomes {
		if got := len(view(t, c, "request_paths", map[string]string{"outcome": o})); got != n {
			t.Errorf("outcome=%s: %d rows, want %d", o, got, n)
		}
	}
	if got := len(view(t, c, "request_paths", map[string]string{"complete": "false"})); got != len(others) {
		t.Errorf("complete=false: %d rows, want %d", got, len(others))
	}
}

// One connection, two ENIs: the server's network ACL drops its SYN-ACKs to
// a client inside the VPC. The server's ENI logs the SYN ACCEPTed in and
// the SYN-ACK REJECTed out; the client's ENI logs only its SYN going out.
// Judged per ENI, the client's side would read "nothing listening"; judged
// once, the connection is the network ACL's, decided on the server's ENI,
// with what each ENI saw.
func TestDiagnosisOneVerdictPerConnection(t *testing.T) {
	c := diagnosedCase(t, describeENIs(
		eniSnap{"eni-0c11e0000000000c1", "10.0.1.10", "", "interface"},
		eniSnap{"eni-05e4e0000000000s1", "10.0.2.20", "", "interface"}), `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789012 eni-0c11e0000000000c1 10.0.1.10 10.0.2.20 40001 443 6 3 180 1617604400 1617604460 ACCEPT OK
2 123456789012 eni-05e4e0000000000s1 10.0.1.10 10.0.2.20 40001 443 6 3 180 1617604401 1617604461 ACCEPT OK
2 123456789012 eni-05e4e0000000000s1 10.0.2.20 10.0.1.10 443 40001 6 3 180 1617604401 1617604461 REJECT OK
`)
	rows := view(t, c, "nacl_sg_diagnosis", nil)
	if len(rows) != 1 {
		t.Fatalf("%d verdicts, want one for the one connection: %v", len(rows), rows)
	}
	r := rows[0]
	got := []string{r["verdict"], r["interface_id"], r["client"], r["client_port"], r["server"], r["server_port"], r["enis"], r["seen_on"], r["records"]}
	want := []string{"nacl_outbound", "eni-05e4e0000000000s1", "10.0.1.10", "40001", "10.0.2.20", "443", "2",
		"eni-05e4e0000000000s1 (in ACCEPT, out REJECT); eni-0c11e0000000000c1 (nothing in, out ACCEPT)", "2:2 2:3 2:4"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("verdict:\n got %s\nwant %s", strings.Join(got, " | "), strings.Join(want, " | "))
	}
	// Asked about the client's ENI, it is the same connection and verdict.
	if rows := view(t, c, "nacl_sg_diagnosis", map[string]string{"eni": "eni-0c11e0000000000c1"}); len(rows) != 1 || rows[0]["verdict"] != "nacl_outbound" {
		t.Errorf("eni=client's ENI: %v", rows)
	}
}

// Behind a NAT gateway (AWS's own example, with ports): the instance's ENI
// logs its SYN out to 203.0.113.5 and nothing back; the gateway's ENI logs
// the same packet arriving for its private address, with pkt-dstaddr the
// real destination, and nothing back either. Joined by the packet's own
// addresses they are one connection, one verdict, seen on both ENIs.
func TestDiagnosisJoinsThroughNAT(t *testing.T) {
	c := diagnosedCase(t, describeENIs(
		eniSnap{"eni-1111aaaa2222bbbb3", "10.0.1.5", "", "interface"},
		eniSnap{"eni-1235b8ca123456789", "10.0.0.220", "Interface for NAT Gateway nat-0123", "nat_gateway"}), `version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-srcaddr pkt-dstaddr
5 eni-1111aaaa2222bbbb3 10.0.1.5 203.0.113.5 40001 443 6 3 180 1617604400 1617604460 ACCEPT OK 10.0.1.5 203.0.113.5
5 eni-1235b8ca123456789 10.0.1.5 10.0.0.220 40001 443 6 3 180 1617604401 1617604461 ACCEPT OK 10.0.1.5 203.0.113.5
`)
	rows := view(t, c, "nacl_sg_diagnosis", nil)
	if len(rows) != 1 {
		t.Fatalf("%d verdicts for the one connection: %v", len(rows), rows)
	}
	r := rows[0]
	// Decided on the instance's ENI, whose record names the real server.
	if r["enis"] != "2" || r["records"] != "2:2 2:3" || !strings.Contains(r["seen_on"], "eni-1235b8ca123456789 (in ACCEPT, nothing out)") ||
		r["interface_id"] != "eni-1111aaaa2222bbbb3" || !strings.HasSuffix(r["reason"], "tcp/443 at 203.0.113.5.") {
		t.Errorf("verdict %v", r)
	}
}

// eniSnap is one interface of a describe-network-interfaces snapshot.
type eniSnap struct{ id, ip, description, kind string }

// describeENIs is the aws CLI's describe-network-interfaces output for enis.
func describeENIs(enis ...eniSnap) string {
	var parts []string
	for _, e := range enis {
		parts = append(parts, fmt.Sprintf(`{"NetworkInterfaceId": %q, "Description": %q, "SubnetId": "subnet-0a", "VpcId": "vpc-1", "PrivateIpAddress": %q,
   "PrivateIpAddresses": [{"PrivateIpAddress": %q, "Primary": true}], "Groups": [{"GroupId": "sg-0a"}], "Status": "in-use", "InterfaceType": %q}`,
			e.id, e.description, e.ip, e.ip, e.kind))
	}
	return `{"NetworkInterfaces": [` + strings.Join(parts, ",\n") + "]}"
}

// diagnosedCase is a case holding one ENI snapshot and one flow log (its
// records are evidence 2, line 2 on), closed when the test ends.
func diagnosedCase(t *testing.T, enis, flows string) *Case {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	snap, log := filepath.Join(dir, "describe-network-interfaces.json"), filepath.Join(dir, "flows.log")
	writeFile(t, snap, enis)
	writeFile(t, log, flows)
	c, err := New(ctx, filepath.Join(dir, "case"), "diagnosis")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Import(ctx, []string{snap, log}, ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// Every connection the diagnosis lists traces from its flow-log record,
// though most were seen by nothing else (health checks to a NodePort
// nothing listens on, refused SYNs, probes): the trace shows the records
// of each ENI, the REJECT where the diagnosis puts it, the initiator and
// the server on their lanes, and why no other source saw more.
func TestTraceEveryDiagnosedConnection(t *testing.T) {
	c, _ := incidentCase(t)
	ctx := context.Background()
	perVerdict := map[string]int{}
	for _, row := range view(t, c, "nacl_sg_diagnosis", nil) {
		v := row["verdict"]
		if perVerdict[v]++; perVerdict[v] > 20 {
			continue
		}
		recs := strings.Fields(row["records"])
		if len(recs) == 0 {
			t.Errorf("%s row without records: %v", v, row)
			continue
		}
		ref, err := ParseRef(recs[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Trace(ctx, TraceKey{Flow: ref})
		if err != nil {
			t.Errorf("%s %s:%s → %s:%s: %v", v, row["client"], row["client_port"], row["server"], row["server_port"], err)
			continue
		}
		name := fmt.Sprintf("%s %s (%s:%s → %s:%s)", v, recs[0], row["client"], row["client_port"], row["server"], row["server_port"])
		wantOutcome := "rejected"
		if v == "not_listening" {
			wantOutcome = "no_response"
		}
		if got.Outcome != wantOutcome {
			t.Errorf("%s: outcome %s (%s), want %s", name, got.Outcome, got.Why, wantOutcome)
		}
		addrs := map[string]bool{}
		for _, l := range got.Lanes {
			addrs[l.Addr] = true
		}
		if !addrs[row["client"]+":"+row["client_port"]] || !addrs[row["server"]+":"+row["server_port"]] {
			t.Errorf("%s: lanes %+v lack its ends", name, got.Lanes)
		}
		// The record traced from, on the ENI the verdict names when it is
		// a refusal, in a hop of that status.
		var onENI, recorded bool
		for _, h := range got.Hops {
			if h.Status == "missing" && h.Reason == "" {
				t.Errorf("%s: %s/%s missing without a reason", name, h.Step, h.Source)
			}
			if h.Source != "flow_log" || h.Status == "missing" {
				continue
			}
			for _, e := range h.Evidence {
				if e.Evidence == ref.Evidence && e.N == ref.N {
					recorded = true
				}
			}
			if h.ENI == row["interface_id"] && (h.Status == "rejected") == (wantOutcome == "rejected") {
				onENI = true
			}
		}
		if !recorded || !onENI {
			t.Errorf("%s: record in a hop %v, %s's hop %v:\n%s", name, recorded, row["interface_id"], onENI, traceText(got))
		}
	}
	t.Logf("verdicts %v", perVerdict)
	for _, v := range []string{"sg_inbound", "nacl_outbound", "not_listening"} {
		if perVerdict[v] == 0 {
			t.Errorf("the incident has no %s verdict: %v", v, perVerdict)
		}
	}
}

func traceText(tr *Trace) string {
	var b strings.Builder
	WriteTraceText(&b, tr)
	return b.String()
}
