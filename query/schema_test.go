package query

import (
	"context"
	"database/sql"
	"errors"
	"math/big"
	"net/netip"
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
	// An older case (version 1) gains what a later step adds.
	steps := append(append([]migration(nil), migrations...),
		migration{2, `ALTER TABLE evidence ADD COLUMN note VARCHAR`})
	if err := migrate(ctx, db, steps); err != nil {
		t.Fatal(err)
	}
	if v, _ := SchemaVersion(ctx, db); v != 2 {
		t.Fatalf("after migration version = %d, want 2", v)
	}
	if _, err := db.Exec(`SELECT note FROM evidence`); err != nil {
		t.Fatalf("migrated column missing: %v", err)
	}
	// That case is now newer than this build: both ways in refuse it.
	err := Migrate(ctx, db)
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Have != 2 || ve.Want != CurrentVersion {
		t.Fatalf("Migrate on newer case: %v", err)
	}
	want := "case schema version 2 is newer than this l4case understands (1): upgrade l4case to open it"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	db.Close()
	if _, err := OpenReader(path); err == nil || err.Error() != want {
		t.Errorf("OpenReader on newer case: %v", err)
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
