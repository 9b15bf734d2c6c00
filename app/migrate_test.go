package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"dev.l4case/l4case/query"
)

// TestOpenMigratesAVersion1Case turns a case holding the three kinds of
// access log back into what l4case with schema version 1 wrote (one
// elb_logs table), opens it, and gets the same answers as before.
func TestOpenMigratesAVersion1Case(t *testing.T) {
	ctx := context.Background()
	c, err := New(ctx, filepath.Join(t.TempDir(), "case"), "old case")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range []string{"clb", "alb", "nlb"} {
		files = append(files, "../testdata/elb/"+f+"-access-log-examples.log")
	}
	if _, err := c.Import(ctx, files, ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	answers := func(c *Case) string {
		p, err := c.Console(ctx, `SELECT lb_type, count(*), count(DISTINCT client_ip), max(time), list_sort(list(DISTINCT coalesce(trace_id, listener, elb)))
			FROM elb_logs GROUP BY ALL ORDER BY 1`, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		sql, err := c.ViewSQL("elb_clients", nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Console(ctx, sql, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		// request_paths reads a table derived at import since version 6:
		// the migration fills it from what the case holds.
		r, err := c.RunView(ctx, "request_paths", nil, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(p.Rows, v.Rows, len(r.Rows), r.Rows)
	}
	want := answers(c)
	if len(want) < 100 {
		t.Fatalf("too little to compare: %s", want)
	}
	c.Close()

	// Back to version 1: the view's rows into one table with the old DDL.
	v1, err := os.ReadFile("../query/testdata/to_version1.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := query.OpenWriter(ctx, c.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(v1)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(filepath.Join(c.Dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	m["schema_version"] = 1
	b, _ = json.Marshal(m)
	if err := os.WriteFile(filepath.Join(c.Dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}

	c2, err := Open(ctx, c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if v := c2.Manifest().SchemaVersion; v != query.CurrentVersion {
		t.Errorf("manifest schema version %d after opening, want %d", v, query.CurrentVersion)
	}
	if got := answers(c2); got != want {
		t.Errorf("after migration:\n%s\nbefore:\n%s", got, want)
	}
}
