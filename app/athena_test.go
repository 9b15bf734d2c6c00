package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"dev.l4case/l4case/internal/fakeaws"
	"dev.l4case/l4case/query"
)

// The saved views Athena can run give, in their Athena form, the rows the
// views give in the case: the Athena text runs on DuckDB against the same
// data (the portability guarantee), with and without parameters.
func TestAthenaFormsRunAlike(t *testing.T) {
	c, tr := incidentCase(t)
	ctx := context.Background()
	portable, withCase, not := AthenaViews()
	sort.Strings(portable)
	sort.Strings(withCase)
	if got := strings.Join(portable, " "); got != "elb_clients elb_errors rejects_per_minute top_talkers" {
		t.Errorf("portable views: %s", got)
	}
	if got := strings.Join(withCase, " "); got != "elb_backends nacl_sg_diagnosis no_return_traffic rejects scanners" {
		t.Errorf("views portable with the case's endpoints: %s", got)
	}
	for _, v := range []string{"request_paths", "http_requests", "conversations", "drops", "top_talkers_captures"} {
		if !strings.Contains(not[v], "which only the case has") {
			t.Errorf("%s: no reason it runs in the case only: %q", v, not[v])
		}
	}
	if _, err := AthenaView("rejects", nil); err == nil || !strings.Contains(err.Error(), "reads endpoints (what the case's inventory names each address): give the case") {
		t.Errorf("rejects without the case: %v", err)
	}
	from := tr.Start.Add(5 * 60e9).Format("2006-01-02 15:04:05")
	to := tr.Start.Add(12 * 60e9).Format("2006-01-02 15:04:05")
	eni := view(t, c, "rejects", nil)[0]["interface_id"]
	for _, tc := range []struct {
		view string
		args map[string]string
	}{
		{"elb_errors", nil}, {"elb_errors", map[string]string{"from": from, "to": to}},
		{"top_talkers", nil}, {"top_talkers", map[string]string{"by": "port", "action": "REJECT", "limit": "500"}},
		{"top_talkers", map[string]string{"by": "pair", "from": from, "to": to}},
		{"rejects_per_minute", nil}, {"rejects_per_minute", map[string]string{"eni": eni, "from": from}},
		{"elb_clients", nil}, {"elb_clients", map[string]string{"limit": "7"}},
		// With the case's endpoints in the SQL.
		{"rejects", nil}, {"rejects", map[string]string{"port": "30443", "from": from}}, {"rejects", map[string]string{"eni": eni}},
		// Rewritten: the first ports without list slicing, exact
		// percentiles without quantile_cont.
		{"scanners", nil}, {"scanners", map[string]string{"min_ports": "3", "from": from}},
		{"elb_backends", nil}, {"elb_backends", map[string]string{"from": from, "to": to}},
		// The flow records paired on Athena as at import, peers included.
		{"no_return_traffic", nil}, {"no_return_traffic", map[string]string{"port": "30443"}},
		// The diagnosis with the case's EC2 snapshot written in.
		{"nacl_sg_diagnosis", nil}, {"nacl_sg_diagnosis", map[string]string{"verdict": "nacl_outbound"}},
		{"nacl_sg_diagnosis", map[string]string{"eni": eni}},
	} {
		name := fmt.Sprintf("%s %v", tc.view, tc.args)
		sqlText, err := c.AthenaView(ctx, tc.view, tc.args, time.Time{}, time.Time{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// Trino has no GROUP BY ALL, no :: casts, no || of a number.
		if strings.Contains(sqlText, "$") || strings.Contains(sqlText, "GROUP BY ALL") || strings.Contains(sqlText, "::") || strings.Contains(sqlText, "|| dstport") {
			t.Errorf("%s: DuckDB forms left:\n%s", name, sqlText)
		}
		athena, err := c.Console(ctx, sqlText, 0, 1_000_000)
		if err != nil {
			t.Errorf("%s: the Athena form does not run on DuckDB: %v\n%s", name, err, sqlText)
			continue
		}
		native, err := c.RunView(ctx, tc.view, tc.args, 0, 1_000_000)
		if err != nil {
			t.Fatal(err)
		}
		// The same rows; in the same order up to ties of the views' ORDER
		// BY, which neither engine promises to break alike.
		a, n := pageTexts(athena), pageTexts(native)
		sort.Strings(a)
		sort.Strings(n)
		if strings.Join(a, "\n") != strings.Join(n, "\n") || len(n) == 0 {
			t.Errorf("%s: Athena form %d rows, the view %d:\n%s", name, len(a), len(n), sqlText)
		}
		if strings.Join(athena.Columns, ",") != strings.Join(native.Columns, ",") {
			t.Errorf("%s: columns %v, the view's %v", name, athena.Columns, native.Columns)
		}
	}
	if _, err := AthenaView("elb_clients", map[string]string{"exclude": "10.0.0.0/8"}); err == nil || !strings.Contains(err.Error(), "uses in_cidr") {
		t.Errorf("elb_clients with exclude: %v", err)
	}
}

// A view run on Athena through the SDK's real client against recorded
// responses: the Athena form is what is sent, the query is polled through
// QUEUED and RUNNING, its two pages of results become an athena_result
// evidence with its own table; a failed query says why.
func TestAthenaRun(t *testing.T) {
	ctx := context.Background()
	srv := fakeaws.New("../testdata/aws")
	defer srv.Close()
	awsEnv(t, srv)
	c := emptyCase(t, "athena")
	var states []string
	o := AthenaRunOptions{View: "top_talkers", Params: map[string]string{"by": "port"}, Workgroup: "primary", Output: "s3://athena-results/",
		Region: "ap-northeast-1", EndpointURL: srv.URL, Poll: time.Millisecond}
	report, err := c.AthenaRun(ctx, o, func(s AthenaStatus) { states = append(states, s.State) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(states, " ") != "QUEUED RUNNING SUCCEEDED" {
		t.Errorf("states %v", states)
	}
	want, _ := AthenaView("top_talkers", o.Params)
	calls := map[string]int{}
	for _, r := range srv.Requests() {
		calls[r.Action]++
		if r.Action == "StartQueryExecution" {
			var in struct {
				QueryString         string
				WorkGroup           string
				ResultConfiguration struct{ OutputLocation string }
			}
			json.Unmarshal([]byte(r.Body), &in)
			if in.QueryString != want || in.WorkGroup != "primary" || in.ResultConfiguration.OutputLocation != "s3://athena-results/" {
				t.Errorf("StartQueryExecution %s", r.Body)
			}
		}
	}
	if calls["GetQueryResults"] != 2 || calls["GetQueryExecution"] != 3 {
		t.Errorf("calls %v", calls)
	}
	if imported, _, failed := report.Counts(); imported != 1 || failed != 0 {
		t.Fatalf("%+v", report.Files)
	}
	e := report.Files[0].Evidence
	if e.Kind != "athena_result" || e.Name != "athena:5d2b7c1e-0c5a-4b9d-9d6e-2f1a6c0e8b11" || e.Rows != 4 || !strings.Contains(strings.Join(e.Notes, " "), "GROUP BY 1") {
		t.Errorf("evidence %+v", e)
	}
	p, err := c.Console(ctx, fmt.Sprintf("SELECT talker, bytes, first_time FROM athena_result_%d ORDER BY line", e.ID), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pageTexts(p), "\n"); got != "TCP/31790|9912345|2021-04-05 06:30:01.000 UTC\nTCP/443|5519200|2021-04-05 06:30:00.000 UTC\nUDP/8472|2888|2021-04-05 06:30:06.000 UTC\nTCP/110||2021-04-05 06:30:36.000 UTC" {
		t.Errorf("result rows:\n%s", got)
	}
	if _, err := c.AthenaRun(ctx, AthenaRunOptions{SQL: "SELECT FAIL", Region: "ap-northeast-1", EndpointURL: srv.URL, Poll: time.Millisecond}, nil, nil); err == nil ||
		!strings.Contains(err.Error(), "Athena query q-fail FAILED: COLUMN_NOT_FOUND") {
		t.Errorf("failed query: %v", err)
	}
	if _, err := c.AthenaRun(ctx, AthenaRunOptions{View: "request_paths", Region: "ap-northeast-1", EndpointURL: srv.URL}, nil, nil); err == nil || !strings.Contains(err.Error(), "only the case has") {
		t.Errorf("a view Athena cannot run: %v", err)
	}
}

// athena ddl --apply runs each statement to its end, in the default
// database (the statements create and name theirs).
func TestAthenaApply(t *testing.T) {
	srv := fakeaws.New("../testdata/aws")
	defer srv.Close()
	awsEnv(t, srv)
	stmts, err := AthenaDDL(AthenaSources{FlowLogs: []string{"s3://logs"}, Accounts: []string{"123456789012"}, Regions: []string{"ap-northeast-1"}})
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	err = AthenaApply(context.Background(), stmts, AthenaRunOptions{Workgroup: "primary", Region: "ap-northeast-1", EndpointURL: srv.URL, Poll: time.Millisecond},
		func(s AthenaStatus) {
			if s.State == "SUCCEEDED" {
				done++
			}
		})
	if err != nil || done != len(stmts) {
		t.Fatalf("%v: %d of %d done", err, done, len(stmts))
	}
	var sent []string
	for _, r := range srv.Requests() {
		if r.Action == "StartQueryExecution" {
			var in struct {
				QueryString           string
				QueryExecutionContext struct{ Database string }
			}
			json.Unmarshal([]byte(r.Body), &in)
			if in.QueryExecutionContext.Database != "default" {
				t.Errorf("database %q", in.QueryExecutionContext.Database)
			}
			sent = append(sent, in.QueryString)
		}
	}
	if strings.Join(sent, ";") != strings.Join(stmts, ";") {
		t.Errorf("sent %d statements, want the %d of athena ddl in order", len(sent), len(stmts))
	}
	// A failing statement stops the rest and says which.
	err = AthenaApply(context.Background(), []string{"SELECT FAIL", "CREATE DATABASE x"}, AthenaRunOptions{Region: "ap-northeast-1", EndpointURL: srv.URL, Poll: time.Millisecond}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "statement 1 of 2: Athena query q-fail FAILED") {
		t.Errorf("failing statement: %v", err)
	}
}

// The pairing of flow records Athena runs (query.AthenaPairing, written in
// SQL Trino runs too) gives the conversations the import's pairing
// (query/derive.sql) gives, column for column, peers and records included.
func TestAthenaPairingIsTheImports(t *testing.T) {
	c, _ := incidentCase(t)
	ctx := context.Background()
	db, err := c.Reader()
	if err != nil {
		t.Fatal(err)
	}
	facts, err := query.CaseFacts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	cols := "interface_id, protocol, local_addr, local_port, remote_addr, remote_port, client_addr, client_port, server_addr, server_port, " +
		"first_time, last_time, in_action, out_action, in_packets, in_bytes, out_packets, out_bytes, in_first, out_first, " +
		"initiated, reject_reason, eni_from, pattern, peer, peer_eni, conv_id, list_sort(records) AS records, pkt_local_addr"
	athena := "SELECT " + cols + " FROM flow_conversations"
	native := "SELECT " + cols + " FROM main.flow_conversations"
	q := "WITH " + query.AthenaPairing(facts) + "\nSELECT (SELECT count(*) FROM (" + athena + " EXCEPT ALL " + native + ")), " +
		"(SELECT count(*) FROM (" + native + " EXCEPT ALL " + athena + ")), (SELECT count(*) FROM main.flow_conversations), " +
		"(SELECT count(*) FROM main.flow_conversations WHERE peer IS NOT NULL)"
	p, err := c.Console(ctx, q, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rows[0]
	if fmt.Sprint(r[0], r[1]) != "0 0" || fmt.Sprint(r[2]) == "0" || fmt.Sprint(r[3]) == "0" {
		t.Errorf("Athena's pairing only %v, the import's only %v, of %v conversations (%v with peers)", r[0], r[1], r[2], r[3])
	}
}
