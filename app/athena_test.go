package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// The saved views Athena can run give, in their Athena form, the rows the
// views give in the case: the Athena text runs on DuckDB against the same
// data (the portability guarantee), with and without parameters.
func TestAthenaFormsRunAlike(t *testing.T) {
	c, tr := incidentCase(t)
	ctx := context.Background()
	portable, not := AthenaViews()
	sort.Strings(portable)
	if got := strings.Join(portable, " "); got != "elb_clients elb_errors rejects_per_minute top_talkers" {
		t.Errorf("portable views: %s", got)
	}
	for _, v := range []string{"nacl_sg_diagnosis", "request_paths", "rejects", "scanners", "http_requests"} {
		if not[v] == "" {
			t.Errorf("%s: no reason it runs in the case only", v)
		}
	}
	if !strings.Contains(not["rejects"], "reads endpoints, which only the case has") {
		t.Errorf("rejects: %s", not["rejects"])
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
	} {
		name := fmt.Sprintf("%s %v", tc.view, tc.args)
		sqlText, err := AthenaView(tc.view, tc.args)
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
		a, n := pageTexts(athena), pageTexts(native)
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
