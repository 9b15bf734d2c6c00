package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func newDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "case.duckdb")
	db, err := OpenWriter(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestEveryColumnIsDocumented(t *testing.T) {
	db, _ := newDB(t)
	rows, err := db.Query(`SELECT table_name, column_name FROM duckdb_columns()
		WHERE schema_name = 'main' AND NOT internal
		  AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main')
		  AND coalesce(comment, '') = ''`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var tbl, col string
		rows.Scan(&tbl, &col)
		t.Errorf("column %s.%s has no comment in schema.sql", tbl, col)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM duckdb_tables() WHERE schema_name='main' AND coalesce(comment,'') = ''`).Scan(&n)
	if n != 0 {
		t.Errorf("%d tables have no '-- table:' comment", n)
	}
}

func TestSchemaVersionRecorded(t *testing.T) {
	db, _ := newDB(t)
	v, err := SchemaVersion(context.Background(), db)
	if err != nil || v != CurrentVersion {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, CurrentVersion)
	}
}

func TestMigrateOlderAndRefuseNewer(t *testing.T) {
	ctx := context.Background()
	db, path := newDB(t)
	// An older case gains what a later step adds.
	next := CurrentVersion + 1
	steps := append(append([]migration(nil), migrations...),
		migration{next, `ALTER TABLE evidence ADD COLUMN note VARCHAR`})
	if err := migrate(ctx, db, fresh, steps); err != nil {
		t.Fatal(err)
	}
	if v, _ := SchemaVersion(ctx, db); v != next {
		t.Fatalf("after migration version = %d, want %d", v, next)
	}
	if _, err := db.Exec(`SELECT note FROM evidence`); err != nil {
		t.Fatalf("migrated column missing: %v", err)
	}
	// That case is now newer than this build: both ways in refuse it.
	err := Migrate(ctx, db)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Have != next || ve.Want != CurrentVersion {
		t.Fatalf("Migrate on newer case: %v", err)
	}
	want := fmt.Sprintf("case schema version %d is newer than this l4case understands (%d): upgrade l4case to open it", next, CurrentVersion)
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	db.Close()
	if _, err := OpenReader(path); err == nil || err.Error() != want {
		t.Errorf("OpenReader on newer case: %v", err)
	}
}

// TestMigrateSplitsELBLogs opens a version 1 case, whose access log entries
// are in one table, and finds them, unchanged, in the per-type tables and
// through the elb_logs view.
func TestMigrateSplitsELBLogs(t *testing.T) {
	ctx := context.Background()
	db, _ := newDB(t)
	v1, err := os.ReadFile("testdata/to_version1.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		string(v1),
		`INSERT INTO elb_logs (evidence_id, line, lb_type, time, elb, client_ip, client_port, request, extra)
		 VALUES (1, 1, 'classic', '2021-04-05 06:00:00Z', 'my-clb', '192.0.2.1', 40000, '- - - ', ['x'])`,
		`INSERT INTO elb_logs (evidence_id, line, lb_type, type, time, elb, client_ip, client_port, trace_id, conn_trace_id)
		 VALUES (2, 7, 'alb', 'https', '2021-04-05 06:00:01Z', 'app/my-alb/1', '192.0.2.2', 40001, 'Root=1-abc', 'TID_1')`,
		`INSERT INTO elb_logs (evidence_id, line, lb_type, type, version, time, elb, listener, tls_named_group)
		 VALUES (3, 2, 'nlb', 'tls', '2.0', '2021-04-05 06:00:02Z', 'net/my-nlb/2', 'listener/net/my-nlb/2/3', 'x25519')`,
		`INSERT INTO http_messages (evidence_id, conv_id, headers) VALUES (4, 1, MAP {'host': 'x', 'x-request-id': 'r1'}), (4, 2, MAP {})`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("making a version 1 case: %v\n%s", err, q)
		}
	}
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if v, _ := SchemaVersion(ctx, db); v != CurrentVersion {
		t.Fatalf("version %d after Migrate, want %d", v, CurrentVersion)
	}
	for q, want := range map[string]string{
		`SELECT count(*) FROM elb_classic_logs`: "1",
		`SELECT count(*) FROM alb_logs`:         "1",
		`SELECT count(*) FROM nlb_logs`:         "1",
		`SELECT string_agg(concat_ws('|', evidence_id, line, lb_type, type, version, strftime(time, '%S'), elb, listener, client_ip, client_port, request, extra, trace_id, conn_trace_id, tls_named_group), ';' ORDER BY line)
		 FROM elb_logs`: "1|1|classic|00|my-clb|192.0.2.1|40000|- - - |[x];3|2|nlb|tls|2.0|02|net/my-nlb/2|listener/net/my-nlb/2/3|x25519;2|7|alb|https|01|app/my-alb/1|192.0.2.2|40001|Root=1-abc|TID_1",
		`SELECT count(*) FROM duckdb_tables() WHERE table_name = 'elb_logs_v1'`:                                                                                     "0",
		`SELECT string_agg(concat_ws('|', conv_id, headers, http_header(headers, 'X-Request-ID'), http_headers(headers)), ';' ORDER BY conv_id) FROM http_messages`: "1|host: x\r\nx-request-id: r1|r1|{host=x, x-request-id=r1};2",
		`SELECT comment FROM duckdb_columns() WHERE table_name = 'http_messages' AND column_name = 'headers'`:                                                       columnComment("http_messages", "headers"),
		`SELECT comment FROM duckdb_tables() WHERE table_name = 'alb_logs'`:                                                                                         "Application Load Balancer access log entries, one row per line; read through the elb_logs view.",
		`SELECT comment FROM duckdb_tables() WHERE table_name = 'findings'`:                                                                                         "findings: rows, connections and traces an engineer bookmarked with a note; they travel inside a .l4case.",
		`SELECT comment FROM duckdb_columns() WHERE table_name = 'findings' AND column_name = 'ref'`:                                                                columnComment("findings", "ref"),
	} {
		var got string
		if err := db.QueryRow(q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("%s\n got %s\nwant %s", q, got, want)
		}
	}
}

func TestHTTPHeaderMacros(t *testing.T) {
	db, _ := newDB(t)
	h := "Host: a.example\r\nX-Forwarded-For: 1.1.1.1\r\nUser-Agent: x: y \r\n folded\r\nx-forwarded-for: 2.2.2.2\r\nX.Odd+Name: 1"
	for q, want := range map[string]string{
		`SELECT http_headers(?)::VARCHAR`:                            "{host=a.example, x-forwarded-for='1.1.1.1, 2.2.2.2', user-agent='x: y', x.odd+name=1}",
		`SELECT http_headers(?)['user-agent']`:                       "x: y",
		`SELECT http_header(?, 'X-FORWARDED-FOR')`:                   "1.1.1.1, 2.2.2.2",
		`SELECT http_header(?, 'x.odd+name')`:                        "1",
		`SELECT coalesce(http_header(?, 'xodd+name'), 'NULL')`:       "NULL",
		`SELECT cardinality(http_headers(substr(?, 1, 0)))::VARCHAR`: "0",
	} {
		var got string
		if err := db.QueryRow(q, h).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
}

func TestAddressMacrosAgreeWithNetip(t *testing.T) {
	db, _ := newDB(t)
	num := func(a netip.Addr) string {
		if a.Is4() {
			a = netip.AddrFrom16(a.As16())
		}
		b := a.As16()
		return new(big.Int).SetBytes(b[:]).String()
	}
	addrs := []string{"0.0.0.0", "10.0.134.187", "255.255.255.255", "192.168.1.1",
		"::", "::1", "2001:db8:1234:a100:8d6e:3477:df66:f105", "fe80::1", "2001:db8::", "fd00:2:1::2", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}
	for _, s := range addrs {
		var got sql.NullString
		if err := db.QueryRow(`SELECT ip_num(?)::VARCHAR`, s).Scan(&got); err != nil {
			t.Fatal(s, err)
		}
		if want := num(netip.MustParseAddr(s)); got.String != want {
			t.Errorf("ip_num(%s) = %s, want %s", s, got.String, want)
		}
	}
	for _, bad := range []string{"", "-", "10.0.0", "256.1.1.1", "10.0.0.1.2", "1:2:3", "gg::1", "abc"} {
		var got sql.NullString
		if err := db.QueryRow(`SELECT ip_num(?)::VARCHAR`, bad).Scan(&got); err != nil {
			t.Fatal(bad, err)
		}
		if got.Valid {
			t.Errorf("ip_num(%q) = %s, want NULL", bad, got.String)
		}
	}
	cases := []struct {
		addr, cidr string
	}{
		{"10.0.134.187", "10.0.0.0/16"}, {"10.1.0.1", "10.0.0.0/16"}, {"10.0.0.0", "10.0.0.0/16"},
		{"10.0.255.255", "10.0.0.0/16"}, {"8.8.8.8", "0.0.0.0/0"}, {"10.0.0.5", "10.0.0.5/32"},
		{"10.0.0.6", "10.0.0.5/32"}, {"2001:db8::1", "2001:db8::/32"}, {"2001:db9::1", "2001:db8::/32"},
		{"::1", "::/0"}, {"10.0.0.1", "::/0"}, {"2001:db8::1", "0.0.0.0/0"}, {"172.31.16.139", "172.16.0.0/12"},
	}
	for _, c := range cases {
		var got bool
		if err := db.QueryRow(`SELECT in_cidr(?, ?)`, c.addr, c.cidr).Scan(&got); err != nil {
			t.Fatal(c, err)
		}
		p := netip.MustParsePrefix(c.cidr)
		a := netip.MustParseAddr(c.addr)
		want := p.Contains(a)
		if p.Bits() == 0 && p.Addr().Is6() && a.Is4() {
			want = true // ::/0 is every address, IPv4 included, in the mapped numeric space
		}
		if got != want {
			t.Errorf("in_cidr(%s, %s) = %v, want %v", c.addr, c.cidr, got, want)
		}
	}
}
