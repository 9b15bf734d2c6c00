package query

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sandboxCase is a case database with a few awkward rows, closed so that a
// sandbox can open it.
func sandboxCase(t *testing.T) string {
	t.Helper()
	db, path := newDB(t)
	for _, q := range []string{
		`INSERT INTO evidence (evidence_id, kind, name, sha256, size) VALUES (1, 'flowlog', 'a.log', 'ab', 1)`,
		`INSERT INTO flow_logs (evidence_id, line, srcaddr, dstaddr, start_time, action, account_id)
		 SELECT 1, i, '10.0.0.' || (i % 250), '192.0.2.1', TIMESTAMPTZ '2021-04-05 06:30:00+00' + to_seconds(i), 'ACCEPT', NULL
		 FROM range(1, 1001) t(i)`,
		// RFC 4180's hard cases: comma, quote, line break.
		`UPDATE flow_logs SET account_id = 'a,b "quoted"' || chr(10) || 'next' WHERE line = 1`,
		`INSERT INTO packet_data (evidence_id, frame, ts) VALUES (1, 1, TIMESTAMP_NS '2021-04-05 06:30:00.123456789')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	return path
}

// sandboxReader opens sandboxCase the way the console does.
func sandboxReader(t *testing.T) *sql.DB {
	t.Helper()
	db, err := OpenReader(sandboxCase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSandboxRefuses(t *testing.T) {
	db := sandboxReader(t)
	ctx := context.Background()
	cases := []struct {
		sql, err string
	}{
		{"SELECT * FROM read_csv('/etc/passwd')", `Cannot access file "/etc/passwd" - file system operations are disabled`},
		{"SELECT * FROM read_text('/etc/hostname')", `Cannot access file "/etc/hostname"`},
		{"SELECT * FROM glob('/etc/*')", `Cannot access file "/etc/*"`},
		{"SELECT * FROM read_csv('https://example.com/x.csv')", `Cannot access file "https://example.com/x.csv"`},
		{"COPY flow_logs TO '/tmp/l4case-exfil.csv'", `Cannot access file "/tmp/l4case-exfil.csv"`},
		{"EXPORT DATABASE '/tmp/l4case-exfil'", `Cannot access file "/tmp/l4case-exfil/`},
		{"ATTACH '/tmp/other.duckdb' AS o", `Cannot access file "/tmp/other.duckdb"`},
		{"INSTALL httpfs", `file system operations are disabled`},
		{"LOAD httpfs", `Loading external extensions is disabled`},
		{"CALL duckdb_secrets()", `file system operations are disabled`},
		{"SET enable_external_access = true", `"enable_external_access" - the configuration has been locked`},
		{"SET lock_configuration = false", `the configuration has been locked`},
		{"RESET lock_configuration", `the configuration has been locked`},
		{"SET temp_directory = '/tmp/l4case-t'", `the configuration has been locked`},
		{"PRAGMA enable_profiling = 'json'", `the configuration has been locked`},
		{"DELETE FROM evidence", `Cannot execute statement of type "DELETE" on database "case" which is attached in read-only mode`},
		{"INSERT INTO flow_logs (evidence_id) VALUES (1)", `"INSERT" on database "case" which is attached in read-only mode`},
		{"UPDATE case_meta SET value = 'x'", `"UPDATE" on database "case" which is attached in read-only mode`},
		{"DROP TABLE flow_logs", `"DROP" on database "case" which is attached in read-only mode`},
		{"CREATE TABLE t (x INTEGER)", `"CREATE" on database "case" which is attached in read-only mode`},
	}
	for _, c := range cases {
		_, err := Console(ctx, db, c.sql, 0, 10)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s:\n got %v\nwant an error containing %q", c.sql, err, c.err)
		}
	}
	// The case is still readable, and unchanged.
	p, err := Console(ctx, db, "SELECT count(*) FROM flow_logs", 0, 10)
	if err != nil || len(p.Rows) != 1 || p.Rows[0][0] != int64(1000) {
		t.Errorf("after the attempts: %v %v", p, err)
	}
	if _, err := os.Stat("/tmp/l4case-exfil.csv"); err == nil {
		t.Error("/tmp/l4case-exfil.csv was written")
	}
}

func TestConsoleErrorPosition(t *testing.T) {
	db := sandboxReader(t)
	cases := []struct {
		sql       string
		line, col int
		msg       string
	}{
		{"SELECT * FROM read_csv('/etc/passwd')", 1, 15, "LINE 1: SELECT * FROM read_csv"},
		{"SELECT 1\n  frm x", 2, 7, "LINE 2:   frm x\n              ^"},
		{"select *\nfrom flow_logs\nwhere nosuchcol = 1", 3, 7, `Referenced column "nosuchcol" not found`},
		{"SET enable_external_access = true", 0, 0, "locked"},
	}
	for _, c := range cases {
		_, err := Console(context.Background(), db, c.sql, 0, 10)
		var se *SQLError
		if !errors.As(err, &se) {
			t.Errorf("%q: %v is not an *SQLError", c.sql, err)
			continue
		}
		if se.Line != c.line || se.Column != c.col || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q: line %d col %d %q; want %d %d containing %q", c.sql, se.Line, se.Column, se.Msg, c.line, c.col, c.msg)
		}
	}
}

func TestConsolePages(t *testing.T) {
	db := sandboxReader(t)
	ctx := context.Background()
	q := "SELECT line FROM flow_logs ORDER BY line;  "
	seen := 0
	for off := 0; ; off += 300 {
		p, err := Console(ctx, db, q, off, 300)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range p.Rows {
			if r[0] != int64(off+i+1) {
				t.Fatalf("offset %d row %d: %v", off, i, r[0])
			}
		}
		seen += len(p.Rows)
		if !p.More {
			break
		}
	}
	if seen != 1000 {
		t.Errorf("paged %d rows, want 1000", seen)
	}
	// Statements DuckDB cannot nest run as written.
	p, err := Console(ctx, db, "PRAGMA table_info('case_meta')", 0, 10)
	if err != nil || len(p.Rows) != 2 {
		t.Errorf("PRAGMA: %v %v", p, err)
	}
}

func TestConsoleCancel(t *testing.T) {
	db := sandboxReader(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	// Minutes of work if not interrupted.
	_, err := Console(ctx, db, "SELECT count(*) FROM range(10000000000) a, range(10) b WHERE a.range % 7 = b.range", 0, 10)
	if err == nil || !(errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "INTERRUPT")) {
		t.Fatalf("cancelled query: %v", err)
	}
}

func TestExportCSV(t *testing.T) {
	path := sandboxCase(t)
	out := filepath.Join(t.TempDir(), "out.csv")
	n, err := Export(context.Background(), path, "SELECT line, account_id, start_time FROM flow_logs ORDER BY line", out, CSV)
	if err != nil || n != 1000 {
		t.Fatalf("Export: %d rows, %v", n, err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll() // Go's reader is RFC 4180 strict
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1001 || strings.Join(recs[0], ",") != "line,account_id,start_time" {
		t.Fatalf("%d records, header %v", len(recs), recs[0])
	}
	if got, want := recs[1], []string{"1", "a,b \"quoted\"\nnext", "2021-04-05T06:30:01.000000Z"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("row 1 = %q, want %q", got, want)
	}
	if recs[2][1] != "" || recs[1000][2] != "2021-04-05T06:46:40.000000Z" {
		t.Errorf("NULL as %q, last time %q", recs[2][1], recs[1000][2])
	}
	// 128-bit integers (flow_logs.src_ip) take a fast path when they fit
	// 64 bits; the text must not change either way.
	n, err = Export(context.Background(), path, "SELECT 340282366920938463463374607431768211455::UHUGEINT AS big, 281470849523041::UHUGEINT AS v4, (-170141183460469231731687303715884105728)::HUGEINT AS neg, (-3)::HUGEINT AS small, NULL::UHUGEINT AS none", out, CSV)
	b, _ := os.ReadFile(out)
	if err != nil || n != 1 || string(b) != "big,v4,neg,small,none\n340282366920938463463374607431768211455,281470849523041,-170141183460469231731687303715884105728,-3,\n" {
		t.Errorf("128-bit export: %d %v %q", n, err, b)
	}
	// Nanosecond timestamps keep all nine digits.
	n, err = Export(context.Background(), path, "SELECT ts FROM packet_data", out, CSV)
	b, _ = os.ReadFile(out)
	if err != nil || n != 1 || string(b) != "ts\n2021-04-05T06:30:00.123456789Z\n" {
		t.Errorf("ns export: %d %v %q", n, err, b)
	}
}

func TestExportJSONLinesAndStream(t *testing.T) {
	path := sandboxCase(t)
	var sb strings.Builder
	n, err := ExportTo(context.Background(), path, "SELECT line, account_id, start_time FROM flow_logs WHERE line <= 3 ORDER BY line", &sb, JSON)
	if err != nil || n != 3 {
		t.Fatalf("ExportTo: %d %v", n, err)
	}
	sc := bufio.NewScanner(strings.NewReader(sb.String()))
	var lines int
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d %q: %v", lines+1, sc.Text(), err)
		}
		lines++
		if lines == 1 && (m["account_id"] != "a,b \"quoted\"\nnext" || m["start_time"] != "2021-04-05T06:30:01.000000Z" || m["line"] != float64(1)) {
			t.Errorf("first object %v", m)
		}
	}
	if lines != 3 {
		t.Errorf("%d JSON lines", lines)
	}
}

func TestExportRefuses(t *testing.T) {
	path := sandboxCase(t)
	out := filepath.Join(t.TempDir(), "out.csv")
	for _, c := range []struct{ sql, err string }{
		{"SELECT * FROM read_csv('/etc/passwd')", `Cannot access file "/etc/passwd"`},
		{"DELETE FROM flow_logs", "export takes one SELECT statement"},
		{"SELECT 1; SELECT 2", "export takes one SELECT statement"},
		{"SELECT nosuch\nFROM flow_logs", "LINE 1: SELECT nosuch"},
	} {
		if _, err := Export(context.Background(), path, c.sql, out, CSV); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.sql, err, c.err)
		}
	}
}

// A row that cannot be scanned ends iteration with an error, not as if the
// result had ended there.
func TestRowsScanErrorIsReported(t *testing.T) {
	db := sandboxReader(t)
	rows, err := Run(context.Background(), db, `SELECT 'not a number' AS s UNION ALL SELECT 'x'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n int
	rows.ptrs[0] = &n // a destination the string cannot convert to
	if rows.Next() {
		t.Fatal("Next returned a row that failed to scan")
	}
	err = rows.Err()
	if err == nil || !strings.Contains(err.Error(), "reading row") || !strings.Contains(err.Error(), "converting") {
		t.Fatalf("Err() = %v, want the scan failure", err)
	}
	if rows.Next() {
		t.Fatal("Next went on after a scan failure")
	}
}
