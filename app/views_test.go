package app

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/query"
)

// incident is one generated incident imported into a case, shared by the
// view tests. Every expectation below is computed from its truth.json.
var incident struct {
	once  sync.Once
	dir   string
	c     *Case
	truth *gen.Truth
	err   error
}

func incidentCase(t *testing.T) (*Case, *gen.Truth) {
	t.Helper()
	incident.once.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "l4case-views-*")
		if err != nil {
			incident.err = err
			return
		}
		incident.dir = dir
		o := gen.Defaults()
		o.Out = filepath.Join(dir, "bundle")
		o.Requests = 800
		tr, err := gen.Generate(ctx, o)
		if err != nil {
			incident.err = err
			return
		}
		c, err := New(ctx, filepath.Join(dir, "case"), "views")
		if err != nil {
			incident.err = err
			return
		}
		rep, err := c.Import(ctx, []string{o.Out}, ImportOptions{}, nil)
		if err == nil {
			for _, f := range rep.Files {
				if f.Err != nil {
					err = f.Err
				}
			}
		}
		incident.c, incident.truth, incident.err = c, tr, err
	})
	if incident.err != nil {
		t.Fatal(incident.err)
	}
	return incident.c, incident.truth
}

func TestMain(m *testing.M) {
	code := m.Run()
	if incident.c != nil {
		incident.c.Close()
	}
	if incident.dir != "" {
		filepath.Walk(incident.dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(incident.dir)
	}
	os.Exit(code)
}

// view runs a view and returns its rows as maps of column to text.
func view(t *testing.T, c *Case, name string, args map[string]string) []map[string]string {
	t.Helper()
	p, err := c.RunView(context.Background(), name, args, 0, 1_000_000)
	if err != nil {
		t.Fatalf("view %s: %v", name, err)
	}
	var out []map[string]string
	for _, r := range p.Rows {
		m := map[string]string{}
		for i, col := range p.Columns {
			m[col] = query.Text(r[i])
		}
		out = append(out, m)
	}
	return out
}

// byKey sums column val of rows per value of column key.
func byKey(rows []map[string]string, key, val string) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		var n int
		fmt.Sscan(r[val], &n)
		out[r[key]] += n
	}
	return out
}

// sum adds up column val of rows.
func sum(rows []map[string]string, val string) int {
	return byKey(rows, "", val)[""]
}

func sortedSet(xs []string) string {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	var out []string
	for x := range m {
		out = append(out, x)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func faults(tr *gen.Truth, kind string) []gen.TruthFault {
	var out []gen.TruthFault
	for _, f := range tr.Faults {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// flowParts splits "src:port>dst:port".
func flowParts(f string) (netip.AddrPort, netip.AddrPort) {
	a, b, _ := strings.Cut(f, ">")
	return netip.MustParseAddrPort(a), netip.MustParseAddrPort(b)
}

func TestViewRejects(t *testing.T) {
	c, tr := incidentCase(t)
	var want []string
	var packets int
	for _, f := range tr.Faults {
		for _, fl := range f.Flows {
			src, dst := flowParts(fl)
			switch f.Kind {
			case "scanner":
				want = append(want, fmt.Sprintf("%s>%s:%d", src.Addr(), dst.Addr(), dst.Port()))
				packets++
			case "sg_block":
				want = append(want, fmt.Sprintf("%s>%s:%d", src.Addr(), dst.Addr(), dst.Port()))
				packets += 3 // the SYN and its two retransmissions
			case "nacl_return":
				// what is rejected is the reply, to the client's port
				want = append(want, fmt.Sprintf("%s>%s:%d", dst.Addr(), src.Addr(), src.Port()))
				packets += 4 // the SYN-ACK and three retransmissions
			}
		}
	}
	var got []string
	for _, r := range view(t, c, "rejects", nil) {
		got = append(got, r["srcaddr"]+">"+r["dstaddr"]+":"+r["dstport"])
	}
	if sortedSet(got) != sortedSet(want) {
		t.Errorf("rejects: %d rows, truth has %d rejected flows", len(got), len(want))
	}
	if total := sum(view(t, c, "rejects_per_minute", nil), "packets"); total != packets {
		t.Errorf("rejects_per_minute: %d packets, truth %d", total, packets)
	}
	// Filters: by port and by CIDR.
	var sgFlows []string
	for _, f := range faults(tr, "sg_block") {
		for _, fl := range f.Flows {
			src, dst := flowParts(fl)
			sgFlows = append(sgFlows, fmt.Sprintf("%s>%s:%d %s", src.Addr(), dst.Addr(), dst.Port(), f.ENI))
		}
	}
	var got30443 []string
	for _, r := range view(t, c, "rejects", map[string]string{"port": "30443"}) {
		got30443 = append(got30443, r["srcaddr"]+">"+r["dstaddr"]+":"+r["dstport"]+" "+r["interface_id"])
	}
	if sortedSet(got30443) != sortedSet(sgFlows) {
		t.Errorf("rejects port=30443:\n got %s\nwant %s", sortedSet(got30443), sortedSet(sgFlows))
	}
	if rows := view(t, c, "rejects", map[string]string{"addr": "198.51.100.0/24"}); len(rows) != len(faults(tr, "nacl_return")) {
		t.Errorf("rejects addr=198.51.100.0/24: %d rows, want %d", len(rows), len(faults(tr, "nacl_return")))
	}
}

func TestViewScanners(t *testing.T) {
	c, tr := incidentCase(t)
	want := map[string]int{}
	for _, f := range faults(tr, "scanner") {
		ports := map[int]bool{}
		for _, p := range f.Ports {
			ports[p] = true
		}
		want[f.Src] += len(ports) // a source may have scanned twice
	}
	if got := byKey(view(t, c, "scanners", nil), "srcaddr", "ports"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scanners:\n got %v\nwant %v", got, want)
	}
}

func TestViewTopTalkersAndClients(t *testing.T) {
	c, tr := incidentCase(t)
	// Rejected pairs by the pair view equal the truth's rejected pairs.
	var want []string
	for _, f := range tr.Faults {
		for _, fl := range f.Flows {
			src, dst := flowParts(fl)
			switch f.Kind {
			case "scanner", "sg_block":
				want = append(want, src.Addr().String()+" > "+dst.Addr().String())
			case "nacl_return":
				want = append(want, dst.Addr().String()+" > "+src.Addr().String())
			}
		}
	}
	var got []string
	for _, r := range view(t, c, "top_talkers", map[string]string{"by": "pair", "action": "REJECT", "limit": "100000"}) {
		got = append(got, r["talker"])
	}
	if sortedSet(got) != sortedSet(want) {
		t.Errorf("top_talkers pair/REJECT: %d talkers, truth %d", len(got), len(sortedSet(want))-len(strings.ReplaceAll(sortedSet(want), "\n", ""))+1)
	}
	// ELB clients by requests: the truth's requests and the HTTPS clients of the sg_block fault.
	clients := map[string]int{}
	for _, q := range tr.Requests {
		clients[netip.MustParseAddrPort(q.Client).Addr().String()]++
	}
	for _, f := range faults(tr, "sg_block") {
		for _, cl := range f.Clients {
			clients[netip.MustParseAddrPort(cl).Addr().String()]++
		}
	}
	gotClients := byKey(view(t, c, "elb_clients", map[string]string{"limit": "100000"}), "client_ip", "requests")
	if fmt.Sprint(gotClients) != fmt.Sprint(clients) {
		t.Errorf("elb_clients differ from truth: %d vs %d clients", len(gotClients), len(clients))
	}
	// Captures: every conversation the truth counts, once.
	total := 0
	for _, cp := range tr.Captures {
		total += cp.TCPConversations
	}
	if n := sum(view(t, c, "top_talkers_captures", map[string]string{"by": "port", "limit": "1000"}), "conversations"); n != total {
		t.Errorf("top_talkers_captures: %d conversations, truth %d", n, total)
	}
}

func TestViewNoReturnTraffic(t *testing.T) {
	c, tr := incidentCase(t)
	// Not listening: the health checks on the worker's ENI and on the ELB's.
	// An sg_block flow is accepted out of the ELB's ENI with nothing back,
	// and the peer column must say the worker's ENI rejected it.
	want := map[string]string{}
	for _, f := range faults(tr, "not_listening") {
		for _, fl := range f.Flows {
			want[fl] = "saw no reply either"
		}
	}
	for _, f := range faults(tr, "sg_block") {
		for _, fl := range f.Flows {
			want[fl] = f.ENI + " rejected it inbound"
		}
	}
	got := map[string]string{}
	for _, r := range view(t, c, "no_return_traffic", nil) {
		fl := r["client"] + ":" + r["client_port"] + ">" + r["server"] + ":" + r["server_port"]
		if _, ok := want[fl]; !ok {
			t.Errorf("no_return_traffic: %s on %s, which the truth answered", fl, r["interface_id"])
			continue
		}
		if !strings.Contains(r["peer"], want[fl]) {
			t.Errorf("no_return_traffic %s on %s: peer %q, want %q", fl, r["interface_id"], r["peer"], want[fl])
		}
		got[fl] = want[fl]
	}
	if len(got) != len(want) {
		t.Errorf("no_return_traffic: %d distinct flows, truth has %d unanswered", len(got), len(want))
	}
}

// sgClients counts the HTTPS connections the security group blocked: each
// is one ELB log line with no backend.
func sgClients(tr *gen.Truth) int {
	n := 0
	for _, f := range faults(tr, "sg_block") {
		n += len(f.Clients)
	}
	return n
}

func TestViewELB(t *testing.T) {
	c, tr := incidentCase(t)
	sg := sgClients(tr)
	if rows := view(t, c, "elb_errors", nil); len(rows) != sg {
		t.Errorf("elb_errors: %d rows, truth has %d backend connections refused", len(rows), sg)
	}
	want := map[string]int{"(none reached)": sg}
	for _, q := range tr.Requests {
		want[q.NodePort]++
	}
	if got := byKey(view(t, c, "elb_backends", nil), "backend", "requests"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("elb_backends:\n got %v\nwant %v", got, want)
	}
}

func TestViewDrops(t *testing.T) {
	c, tr := incidentCase(t)
	f := faults(tr, "networkpolicy_drop")
	if len(f) != 1 {
		t.Fatalf("%d networkpolicy_drop faults", len(f))
	}
	rows := view(t, c, "drops", nil)
	var packets int
	for _, r := range rows {
		var n int
		fmt.Sscan(r["packets"], &n)
		packets += n
		if r["dst"] != f[0].Dst || !strings.HasPrefix(r["dst_pod"], "payments/api-") || r["dpt"] != "8080" {
			t.Errorf("drop %v: truth says %s (payments/api) port 8080", r, f[0].Dst)
		}
	}
	if packets != 3*f[0].Count {
		t.Errorf("drops: %d packets, truth: %d requests x 3 SYNs", packets, f[0].Count)
	}
}

func TestViewCaptures(t *testing.T) {
	c, tr := incidentCase(t)
	total := 0
	for _, cp := range tr.Captures {
		total += cp.TCPConversations
	}
	if rows := view(t, c, "conversations", nil); len(rows) != total {
		t.Errorf("conversations: %d, truth %d", len(rows), total)
	}
	// Every request is there on the NodePort leg (ELB -> node, what the
	// client got) and, unless a NetworkPolicy dropped it, on the router ->
	// backend leg, each with the truth's request-id and status.
	legs := map[string]map[string]string{} // "src>dst request-id" -> row (ports are reused)
	for _, r := range view(t, c, "http_requests", nil) {
		legs[r["src_addr"]+":"+r["src_port"]+">"+r["dst_addr"]+":"+r["dst_port"]+" "+r["request_id"]] = r
	}
	for _, q := range tr.Requests {
		check := func(leg string) {
			r, ok := legs[leg+" "+q.RequestID]
			if !ok {
				t.Errorf("request %s (%s): no HTTP request on %s", q.RequestID, q.Fault, leg)
				return
			}
			if r["request_id"] != q.RequestID || r["status"] != fmt.Sprint(q.Status) || r["uri"] != q.URI {
				t.Errorf("request on %s: id %q status %q uri %q; truth %s %d %s", leg, r["request_id"], r["status"], r["uri"], q.RequestID, q.Status, q.URI)
			}
		}
		check(q.ELBSource + ">" + q.NodePort)
		if q.Fault != "networkpolicy_drop" {
			check(q.RouterSrc + ">" + q.Backend)
		}
	}
	slow := view(t, c, "http_requests", map[string]string{"min_latency_ms": "900", "node": tr.Requests[0].Node})
	for _, r := range slow {
		var ms float64
		fmt.Sscan(r["latency_ms"], &ms)
		if ms <= 900 || r["node"] != tr.Requests[0].Node {
			t.Errorf("min_latency_ms filter let %v through", r)
		}
	}
}

// TestDiagnosisNamesEveryInjectedFault: for every flow of every injected
// fault, the diagnosis row of that flow on the fault's ENI gives the
// truth's verdict.
func TestDiagnosisNamesEveryInjectedFault(t *testing.T) {
	c, tr := incidentCase(t)
	got := map[string]map[string]string{} // eni -> flow -> verdict
	culprit := map[string]string{}
	for _, r := range view(t, c, "nacl_sg_diagnosis", nil) {
		fl := r["client"] + ":" + r["client_port"] + ">" + r["server"] + ":" + r["server_port"]
		if got[r["interface_id"]] == nil {
			got[r["interface_id"]] = map[string]string{}
		}
		got[r["interface_id"]][fl] = r["verdict"]
		culprit[r["interface_id"]+fl] = r["culprit"]
	}
	total, right := 0, 0
	for _, f := range tr.Faults {
		for _, fl := range f.Flows {
			total++
			if v := got[f.ENI][fl]; v == f.Verdict {
				right++
			} else {
				t.Errorf("%s %s on %s: verdict %q, truth %q", f.Kind, fl, f.ENI, v, f.Verdict)
			}
			switch f.Kind {
			case "nacl_return":
				if !strings.HasPrefix(culprit[f.ENI+fl], "network ACL acl-") || !strings.Contains(culprit[f.ENI+fl], "rule 90 (outbound, deny tcp 1024-65535 to 198.51.100.0/24)") {
					t.Errorf("nacl_return culprit %q", culprit[f.ENI+fl])
				}
			case "sg_block":
				if !strings.Contains(culprit[f.ENI+fl], "has no inbound rule for tcp/30443 from") {
					t.Errorf("sg_block culprit %q", culprit[f.ENI+fl])
				}
			}
		}
	}
	if total < 100 || right != total {
		t.Errorf("diagnosis right for %d of %d injected fault flows", right, total)
	}
	// Nothing else is called rejected: the healthy requests get no verdict.
	for eni, flows := range got {
		for fl, v := range flows {
			if v != "not_listening" && v != "blocked_at_peer" && !isFault(tr, eni, fl) {
				t.Errorf("%s on %s: verdict %s, but the truth injected nothing there", fl, eni, v)
			}
		}
	}
	d, err := c.DiagnosisSummary(context.Background(), nil)
	if err != nil || !d.SnapshotAfter {
		t.Errorf("summary %+v %v: the generated snapshots postdate the incident", d, err)
	}
}

func isFault(tr *gen.Truth, eni, flow string) bool {
	for _, f := range tr.Faults {
		if f.ENI != eni {
			continue
		}
		for _, fl := range f.Flows {
			if fl == flow {
				return true
			}
		}
	}
	return false
}

// TestDiagnosisSeedICMP is the AWS documentation's example: ICMP ACCEPTed
// in and the reply REJECTed out, which can only be the network ACL.
func TestDiagnosisSeedICMP(t *testing.T) {
	ctx := context.Background()
	c, err := New(ctx, filepath.Join(t.TempDir(), "icmp"), "icmp")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Import(ctx, []string{flowDir + "aws-docs-v2-header.log"}, ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	rows := view(t, c, "nacl_sg_diagnosis", map[string]string{"addr": "203.0.113.12/32"})
	if len(rows) != 1 {
		t.Fatalf("%d rows: %v", len(rows), rows)
	}
	r := rows[0]
	if r["verdict"] != "nacl_outbound" || r["protocol"] != "icmp" || r["client"] != "203.0.113.12" || r["server"] != "172.31.16.139" ||
		r["in_action"] != "ACCEPT" || r["out_action"] != "REJECT" ||
		r["reason"] != "Inbound ACCEPT and the reply REJECTed outbound: security groups are stateful and would have let the reply out, so it is the network ACL." {
		t.Errorf("ICMP pair: %v", r)
	}
}

// The network ACL rule that decides is told as it is: a rule for every
// protocol has no ports, even when a later rule that also matches has some
// (DuckDB's arg_min skipped the first rule's NULL ports and named the
// later rule's).
func TestDiagnosisNamesTheDecidingRule(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files := map[string]string{
		"enis.json": `{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-0a1b2c3d4e5f60718","SubnetId":"subnet-1","VpcId":"vpc-1","Status":"in-use","InterfaceType":"interface",
			"PrivateIpAddress":"10.0.1.5","PrivateIpAddresses":[{"PrivateIpAddress":"10.0.1.5","Primary":true}],"Groups":[{"GroupId":"sg-1","GroupName":"web"}]}]}`,
		"acls.json": `{"NetworkAcls":[{"NetworkAclId":"acl-1","VpcId":"vpc-1","IsDefault":false,
			"Associations":[{"NetworkAclAssociationId":"aclassoc-1","NetworkAclId":"acl-1","SubnetId":"subnet-1"}],
			"Entries":[{"CidrBlock":"0.0.0.0/0","Egress":true,"Protocol":"-1","RuleAction":"deny","RuleNumber":100},
			           {"CidrBlock":"0.0.0.0/0","Egress":true,"Protocol":"6","PortRange":{"From":1024,"To":65535},"RuleAction":"allow","RuleNumber":200},
			           {"CidrBlock":"0.0.0.0/0","Egress":false,"Protocol":"-1","RuleAction":"allow","RuleNumber":100}]}]}`,
		"flow.log": "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
			"2 123456789012 eni-0a1b2c3d4e5f60718 198.51.100.7 10.0.1.5 40000 443 6 3 180 1618000000 1618000060 ACCEPT OK\n" +
			"2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.5 198.51.100.7 443 40000 6 3 180 1618000000 1618000060 REJECT OK\n",
	}
	var paths []string
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	c, err := New(ctx, filepath.Join(dir, "case"), "rule")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep, err := c.Import(ctx, paths, ImportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Files {
		if f.Err != nil || f.Evidence == nil {
			t.Fatalf("%s: %v %s", f.Name, f.Err, f.Skipped)
		}
	}
	rows := view(t, c, "nacl_sg_diagnosis", nil)
	if len(rows) != 1 {
		t.Fatalf("%d rows: %v", len(rows), rows)
	}
	if r := rows[0]; r["verdict"] != "nacl_outbound" || r["culprit"] != "network ACL acl-1 rule 100 (outbound, deny all to 0.0.0.0/0)" {
		t.Errorf("verdict %q, culprit %q", r["verdict"], r["culprit"])
	}
}

func TestViewParams(t *testing.T) {
	c, _ := incidentCase(t)
	if _, err := c.RunView(context.Background(), "rejects", map[string]string{"port": "eighty"}, 0, 1); err == nil || err.Error() != `parameter port: "eighty" is not an integer` {
		t.Errorf("bad port: %v", err)
	}
	if _, err := c.RunView(context.Background(), "rejects", map[string]string{"colour": "red"}, 0, 1); err == nil || !strings.HasPrefix(err.Error(), `view rejects has no parameter "colour" (it takes: from, to, addr, eni, port)`) {
		t.Errorf("unknown param: %v", err)
	}
	if _, err := c.RunView(context.Background(), "nope", nil, 0, 1); err == nil || !strings.HasPrefix(err.Error(), `no view "nope" (views: conversations, drops,`) {
		t.Errorf("unknown view: %v", err)
	}
	rows := view(t, c, "rejects", map[string]string{"from": "2021-04-05 06:40:00", "to": "2021-04-05T06:45:00Z"})
	for _, r := range rows {
		if r["last_time"] < "2021-04-05T06:40:00Z" || r["first_time"] >= "2021-04-05T06:45:00Z" {
			t.Errorf("time filter let %v through", r)
		}
	}
}
