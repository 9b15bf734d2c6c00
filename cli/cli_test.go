package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs l4case in-process and returns stdout, stderr and the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, &out, &errb)
	return out.String(), errb.String(), code
}

const flows = "../testdata/flowlogs/"

func TestSession(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "incident-42")
	if _, stderr, code := run(t, "new", dir, "--name", "incident 42"); code != 0 || stderr != `created case "incident 42" in `+dir+"\n" {
		t.Fatalf("new: %d %q", code, stderr)
	}
	stdout, stderr, code := run(t, "import", dir, flows+"aws-docs-v2-broken.log", flows+"aws-docs-v5.log", "-o", "csv")
	if code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	want := "file,kind,evidence_id,rows,rejected,result\n" +
		flows + "aws-docs-v2-broken.log,flowlog,1,7,1,imported\n" +
		flows + "aws-docs-v5.log,flowlog,2,2,0,imported\n"
	if stdout != want {
		t.Errorf("import stdout:\n%s\nwant\n%s", stdout, want)
	}
	if !strings.Contains(stderr, "2 imported, 0 skipped, 0 failed") {
		t.Errorf("import stderr: %s", stderr)
	}
	stdout, _, code = run(t, "evidence", dir, "-o", "csv")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 3 || lines[0] != "id,kind,file,size,sha256,rows,rejected,format,node,imported_at" ||
		!strings.HasPrefix(lines[1], "1,flowlog,"+flows+"aws-docs-v2-broken.log,1015,bc3a7bd0b1d5a849cbef87099996da8b981062ceeca5287795f440c13479734e,7,1,") {
		t.Errorf("evidence: %d\n%s", code, stdout)
	}
	stdout, stderr, code = run(t, "query", dir, "SELECT srcaddr, dstport, action, start_time FROM flow_logs WHERE action = 'REJECT' ORDER BY evidence_id, line", "-o", "csv")
	if want := "srcaddr,dstport,action,start_time\n172.31.9.69,3389,REJECT,2014-12-14T04:06:50.000000Z\n172.31.16.139,0,REJECT,2015-05-29T16:31:34.000000Z\n"; code != 0 || stdout != want {
		t.Errorf("query csv: %d %s\n%s\nwant\n%s", code, stderr, stdout, want)
	}
	if stderr != "2 rows\n" {
		t.Errorf("query stderr %q", stderr)
	}
	stdout, _, code = run(t, "query", dir, "SELECT line_or_offset, reason FROM ingest_errors", "-o", "json")
	if want := `{"line_or_offset":4,"reason":"field dstport: \"twenty-two\" is not a 32-bit integer"}` + "\n"; code != 0 || stdout != want {
		t.Errorf("query json: %s, want %s", stdout, want)
	}
	stdout, _, code = run(t, "query", dir, "SELECT count(*) AS n FROM flow_logs")
	if code != 0 || stdout != "N\n9\n" {
		t.Errorf("query table: %q", stdout)
	}
	pack := filepath.Join(t.TempDir(), "incident-42.l4case")
	if _, stderr, code = run(t, "pack", dir, "--out", pack); code != 0 {
		t.Fatalf("pack: %s", stderr)
	}
	stdout, stderr, code = run(t, "verify", pack)
	if code != 0 || !strings.Contains(stderr, "all 3 members match the manifest") || !strings.Contains(stdout, "evidence/0001/aws-docs-v2-broken.log  ok") {
		t.Errorf("verify: %d %s %s", code, stdout, stderr)
	}
	opened := filepath.Join(t.TempDir(), "opened")
	if _, stderr, code = run(t, "open", pack, "--out", opened); code != 0 || !strings.Contains(stderr, `verified and opened case "incident 42"`) {
		t.Errorf("open: %d %s", code, stderr)
	}
}

func TestSandboxedQueries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	run(t, "new", dir)
	for _, q := range []string{
		"SELECT * FROM read_csv('/etc/passwd')",
		"COPY flow_logs TO '/tmp/l4case-exfil.csv'",
		"ATTACH '/tmp/other.duckdb'",
		"INSTALL httpfs",
		"LOAD httpfs",
		"SET enable_external_access = true",
		"DELETE FROM evidence",
		"INSERT INTO flow_logs (evidence_id) VALUES (1)",
		"DROP TABLE flow_logs",
	} {
		_, stderr, code := run(t, "query", dir, q)
		if code != 1 || !strings.HasPrefix(stderr, "l4case: ") {
			t.Errorf("%s: exit %d, %s", q, code, stderr)
		}
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"frobnicate"}, 2, "l4case: unknown command \"frobnicate\"\nRun 'l4case --help' for usage."},
		{[]string{"new"}, 2, "l4case: new takes 1 argument(s), got 0: new CASE_DIR [--name NAME]"},
		{[]string{"evidence", "--output", "xml", "x"}, 2, `l4case: invalid argument "xml" for "-o, --output" flag: must be table, csv or json`},
		{[]string{"pack", "x"}, 2, "l4case: pack needs --out FILE.l4case"},
		{[]string{"evidence", "/nonexistent/case"}, 1, "l4case: /nonexistent/case is not an l4case case: no manifest.json (create one with: l4case new /nonexistent/case)"},
	}
	for _, c := range cases {
		_, stderr, code := run(t, c.args...)
		if code != c.code || !strings.HasPrefix(stderr, c.msg) {
			t.Errorf("%v: exit %d %q, want %d %q", c.args, code, stderr, c.code, c.msg)
		}
	}
}

func TestNoDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	_, stderr, code := run(t)
	want := "l4case: cannot open the GUI: no display (DISPLAY is not set). Use the command line instead: 'l4case --help'"
	if code != 1 || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestAnalysis runs the analysis commands a user reaches for first on the
// AWS documentation's records: the rejected ICMP reply is the network ACL's.
func TestAnalysis(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	run(t, "new", dir)
	if _, stderr, code := run(t, "import", dir, flows+"aws-docs-v2-broken.log"); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	stdout, _, code := run(t, "views")
	if code != 0 || !strings.Contains(stdout, "nacl_sg_diagnosis") || !strings.Contains(stdout, "from timestamptz, to timestamptz, addr varchar, eni varchar, port integer") {
		t.Errorf("views: %d\n%s", code, stdout)
	}
	stdout, stderr, code := run(t, "diagnose", dir, "--param", "verdict=nacl_outbound", "-o", "csv")
	want := "nacl_outbound,,\"Inbound ACCEPT and the reply REJECTed outbound: security groups are stateful and would have let the reply out, so it is the network ACL.\",eni-1235b8ca123456789,icmp,203.0.113.12,0,172.31.16.139,0,inbound,ACCEPT,REJECT,8,2015-05-29T16:30:27.000000Z,2015-05-29T16:32:22.000000Z,,1,\"eni-1235b8ca123456789 (in ACCEPT, out REJECT)\",1:7 1:8\n"
	if code != 0 || !strings.HasSuffix(stdout, want) || strings.Count(stdout, "\n") != 2 {
		t.Errorf("diagnose: %d %s\n%s\nwant the row\n%s", code, stderr, stdout, want)
	}
	out := filepath.Join(t.TempDir(), "rejects.csv")
	_, stderr, code = run(t, "export", dir, "--view", "rejects", "--param", "addr=203.0.113.0/24", "--out", out)
	b, _ := os.ReadFile(out)
	if code != 0 || stderr != "exported 1 row to "+out+"\n" ||
		string(b) != "srcaddr,dstaddr,dstport,protocol,interface_id,src_is,dst_is,records,packets,bytes,first_time,last_time,reject_reason\n"+
			"172.31.16.139,203.0.113.12,0,ICMP,eni-1235b8ca123456789,external,external,1,4,336,2015-05-29T16:31:34.000000Z,2015-05-29T16:32:22.000000Z,\n" {
		t.Errorf("export: %d %s\n%s", code, stderr, b)
	}
	stdout, _, code = run(t, "export", dir, "--query", "SELECT line, action FROM flow_logs WHERE protocol = 1 ORDER BY line", "--out", "-", "-o", "json")
	if code != 0 || stdout != "{\"line\":7,\"action\":\"ACCEPT\"}\n{\"line\":8,\"action\":\"REJECT\"}\n" {
		t.Errorf("export json: %d %q", code, stdout)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"view", dir, "nosuch"}, `l4case: no view "nosuch"`},
		{[]string{"view", dir, "rejects", "--param", "port=http"}, `l4case: parameter port: "http" is not an integer`},
		{[]string{"view", dir, "rejects", "--param", "colour=red"}, `l4case: view rejects has no parameter "colour"`},
		{[]string{"export", dir, "--view", "rejects"}, "l4case: export needs --out FILE and one of --view NAME or --query SQL"},
	} {
		if _, stderr, code := run(t, c.args...); code != 2 || !strings.HasPrefix(stderr, c.msg) {
			t.Errorf("%v: %d %q, want 2 %q", c.args, code, stderr, c.msg)
		}
	}
}

// --progress json is one JSON object per line: a line per file with what
// became of it, and the totals at the end, for programs that drive import.
func TestImportProgressJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "c")
	run(t, "new", dir)
	_, stderr, code := run(t, "import", dir, flows+"aws-docs-v2-broken.log", flows+"aws-docs-v5.log", flows+"aws-docs-v5.log", "--progress", "json")
	if code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q is not JSON: %v", l, err)
		}
		if ev["type"] == "status" {
			continue // ticks: how many depends on the speed
		}
		got = append(got, ev)
	}
	want := []map[string]any{
		{"type": "file", "file": flows + "aws-docs-v2-broken.log", "kind": "flowlog", "result": "imported", "evidence_id": 1.0, "records": 7.0, "rejected": 1.0, "size": 1015.0},
		{"type": "file", "file": flows + "aws-docs-v5.log", "kind": "flowlog", "result": "imported", "evidence_id": 2.0, "records": 2.0, "rejected": 0.0},
		{"type": "file", "file": flows + "aws-docs-v5.log", "kind": "flowlog", "result": "skipped", "reason": "already in the case as evidence #2 (" + flows + "aws-docs-v5.log)", "records": 0.0, "rejected": 0.0},
		{"type": "end", "imported": 1.0 + 1, "skipped": 1.0, "failed": 0.0, "records": 0.0, "rejected": 0.0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d:\n%s", len(got), len(want), stderr)
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("event %d: %s = %v, want %v", i, k, got[i][k], v)
			}
		}
	}
	if _, stderr, code := run(t, "import", dir, flows, "--progress", "loud"); code != 2 || !strings.Contains(stderr, "text, json, none") {
		t.Errorf("bad --progress: %d %s", code, stderr)
	}
}

// trace from the command line: the text names every lane and hop, -o json
// is one object with the same, and the usage errors exit 2.
func TestTrace(t *testing.T) {
	dir := t.TempDir()
	bundle, cs := filepath.Join(dir, "bundle"), filepath.Join(dir, "case")
	if _, stderr, code := run(t, "gen", "--out", bundle, "--requests", "60", "--duration", "2m", "--scanners", "0", "--sg-block", "0", "--nacl-return", "0", "--netpol-drops", "0"); code != 0 {
		t.Fatalf("gen: %s", stderr)
	}
	run(t, "new", cs)
	if _, stderr, code := run(t, "import", cs, bundle, "-q"); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	requests := readTruth(t, bundle)
	r := requests[len(requests)/2]
	stdout, stderr, code := run(t, "trace", cs, "--request-id", r.RequestID)
	if code != 0 {
		t.Fatalf("trace: %d %s", code, stderr)
	}
	for _, want := range []string{
		"trace of request-id " + r.RequestID, "client " + r.Client, "complete: 5 of 5 legs found",
		"node     " + r.NodePort, fmt.Sprintf("backend  %-22s %s", r.Backend, r.BackendPod),
		"client → lb       elb_log", "lb → node         capture", "node → router     capture", "router → backend  capture",
		"matched by exact key: request-id", "skew (against the capture of the node):",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("trace text lacks %q:\n%s", want, stdout)
		}
	}
	stdout, _, code = run(t, "trace", cs, "--client", r.Client, "-o", "json")
	var got struct {
		Request struct {
			RequestID string `json:"request_id"`
			Status    int
		}
		Outcome  string
		Complete bool
		Lanes    []struct{ ID, Label, Addr string }
		Hops     []struct {
			Step, Source, Status string
			Evidence             []struct {
				File, Unit string
				N          int64
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != 0 {
		t.Fatalf("trace -o json: %d %v\n%s", code, err, stdout)
	}
	if got.Request.RequestID != r.RequestID || got.Request.Status != r.Status || !got.Complete || len(got.Lanes) != 5 || got.Lanes[4].Addr != r.Backend {
		t.Errorf("trace -o json: %+v", got)
	}
	for _, h := range got.Hops {
		if len(h.Evidence) == 0 || h.Evidence[0].File == "" || h.Evidence[0].N <= 0 {
			t.Errorf("hop %s/%s without evidence: %+v", h.Step, h.Source, h.Evidence)
		}
	}
	for _, args := range [][]string{
		{"trace", cs},
		{"trace", cs, "--request-id", "x", "--client", "1.2.3.4:5"},
		{"trace", cs, "--elb-line", "nope"},
		{"trace", cs, "--request-id", "x", "-o", "table"},
	} {
		if _, _, code := run(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if _, stderr, code := run(t, "trace", cs, "--request-id", "no-such-id"); code != 1 || !strings.Contains(stderr, "nothing in the case matches") {
		t.Errorf("unknown request-id: %d %s", code, stderr)
	}
}

// Findings: added from a trace and by hand, listed, exported as Markdown
// and CSV, removed, and carried inside a .l4case to another engineer.
func TestFindings(t *testing.T) {
	dir := t.TempDir()
	bundle, cs := filepath.Join(dir, "bundle"), filepath.Join(dir, "case")
	if _, stderr, code := run(t, "gen", "--out", bundle, "--requests", "20", "--duration", "1m", "--scanners", "0", "--sg-block", "0", "--nacl-return", "0"); code != 0 {
		t.Fatalf("gen: %s", stderr)
	}
	run(t, "new", cs, "--name", "incident 7")
	if _, stderr, code := run(t, "import", cs, bundle, "-q"); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	r := readTruth(t, bundle)[2]
	if _, stderr, code := run(t, "findings", cs, "add", "--trace", r.RequestID, "--note", "the slow one"); code != 0 || !strings.Contains(stderr, "added finding #1: GET "+r.URI) {
		t.Fatalf("add --trace: %d %s", code, stderr)
	}
	if _, stderr, code := run(t, "findings", cs, "add", "--title", "health checks unanswered", "--note", "no router pod on that node"); code != 0 || !strings.Contains(stderr, "#2") {
		t.Fatalf("add: %d %s", code, stderr)
	}
	stdout, _, code := run(t, "findings", cs, "-o", "csv")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 3 || lines[0] != "finding_id,created,author,kind,ref,title,note" ||
		!strings.Contains(lines[1], ",trace,request-id "+r.RequestID+",GET "+r.URI) || !strings.HasSuffix(lines[2], ",note,,health checks unanswered,no router pod on that node") {
		t.Errorf("list:\n%s", stdout)
	}
	stdout, _, _ = run(t, "findings", cs, "export", "--format", "md")
	for _, want := range []string{"# Findings: incident 7", "## 1. GET " + r.URI, "`request-id " + r.RequestID + "`", "the slow one", "lb_node capture ok: stream", "## 2. health checks unanswered"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("markdown lacks %q:\n%s", want, stdout)
		}
	}
	// The findings travel inside the .l4case.
	pack, opened := filepath.Join(dir, "c.l4case"), filepath.Join(dir, "opened")
	if _, stderr, code := run(t, "pack", cs, "--out", pack); code != 0 {
		t.Fatalf("pack: %s", stderr)
	}
	if _, stderr, code := run(t, "open", pack, "--out", opened); code != 0 {
		t.Fatalf("open: %s", stderr)
	}
	if _, stderr, code := run(t, "findings", opened, "rm", "1"); code != 0 || stderr != "removed finding #1\n" {
		t.Errorf("rm in the opened copy: %d %q", code, stderr)
	}
	stdout, _, _ = run(t, "findings", opened, "export", "--format", "csv")
	if got := strings.Split(strings.TrimSpace(stdout), "\n"); len(got) != 2 || !strings.HasPrefix(got[1], "2,") {
		t.Errorf("the opened copy after rm:\n%s", stdout)
	}
	for _, args := range [][]string{
		{"findings", cs, "add"},
		{"findings", cs, "frobnicate"},
		{"findings", cs, "rm", "x"},
		{"findings", cs, "export", "--format", "pdf"},
	} {
		if _, _, code := run(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if _, stderr, code := run(t, "findings", cs, "rm", "9"); code != 1 || !strings.Contains(stderr, "no finding #9") {
		t.Errorf("rm 9: %d %s", code, stderr)
	}
}
