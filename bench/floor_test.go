package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/elblog"
	"dev.l4case/l4case/ingest/ingesttest"
	"dev.l4case/l4case/ingest/pcap"
)

// The floor benchmarks time DuckDB alone: rows already parsed, held in an
// in-memory DuckDB table, inserted into a fresh case's table and committed.
// An importer does this work too, on top of reading and parsing, so these
// bound it on this machine whatever parses the files; BENCHMARKS.md
// compares the importers' targets with them.

// floor copies tables of an imported case into memory, then times
// inserting them into a fresh case at each thread count.
func floor(b *testing.B, path string, tables []string, threads int) {
	ctx := context.Background()
	db := ingesttest.DB(b)
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	exec(`ATTACH '` + path + `' AS src (READ_ONLY)`)
	exec(`ATTACH ':memory:' AS mem`)
	var rows, packets int64
	for _, t := range tables {
		exec(`CREATE TABLE mem.` + t + ` AS SELECT * FROM src.` + t)
		var n int64
		conn.QueryRowContext(ctx, `SELECT count(*) FROM mem.`+t).Scan(&n)
		rows += n
		if t == "packet_data" {
			packets = n
		}
	}
	exec(`DETACH src`)
	exec(fmt.Sprintf(`SET threads = %d`, threads))
	defer conn.ExecContext(ctx, `RESET threads`)
	var took time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		exec(`BEGIN`)
		for _, t := range tables {
			exec(`INSERT INTO ` + t + ` SELECT * FROM mem.` + t)
		}
		exec(`COMMIT`)
		took += time.Since(t0)
		exec(`BEGIN`)
		for _, t := range tables {
			exec(`DELETE FROM ` + t)
		}
		exec(`COMMIT`)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/took.Seconds(), "rows/s")
	if packets > 0 {
		b.ReportMetric(float64(packets)*float64(b.N)/took.Seconds(), "packets/s")
	}
	b.ReportMetric(0, "ns/op")
}

// imported is the path of a case database the importer filled from path,
// closed (DuckDB attaches a file only once per process).
func imported(b *testing.B, imp ingest.Importer, path string, opts ingest.Options) string {
	r := ingesttest.Import(b, imp, path, opts)
	if r.Err != nil {
		b.Fatal(r.Err)
	}
	var db string
	if err := r.DB.QueryRow(`SELECT path FROM duckdb_databases() WHERE database_name = current_database()`).Scan(&db); err != nil {
		b.Fatal(err)
	}
	if err := r.DB.Close(); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkFloorELBInsert inserts each ELB benchmark file's million
// entries, already parsed, into elb_classic_logs and alb_logs.
func BenchmarkFloorELBInsert(b *testing.B) {
	for _, kind := range elbKinds {
		src := imported(b, elblog.Importer{}, elbFile(b, kind), ingest.Options{})
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", kind, threads), func(b *testing.B) {
				floor(b, src, []string{"elb_classic_logs", "alb_logs"}, threads)
			})
		}
	}
}

// BenchmarkFloorELBReadCSV is DuckDB's own CSV reader splitting the same
// file into 30 text columns (quotes honoured, nothing converted) in a
// temporary table: DuckDB parsing alone, both cores.
func BenchmarkFloorELBReadCSV(b *testing.B) {
	p := elbFile(b, "mix")
	db := ingesttest.DB(b)
	cols := make([]string, 30)
	for i := range cols {
		cols[i] = fmt.Sprintf("'c%d': 'VARCHAR'", i)
	}
	q := `CREATE OR REPLACE TEMP TABLE raw AS SELECT * FROM read_csv('` + p + `', delim = ' ', quote = '"', escape = '\',
		header = false, null_padding = true, strict_mode = false, auto_detect = false, new_line = '\n', columns = {` + strings.Join(cols, ", ") + `})`
	b.ResetTimer()
	var rows int64
	for i := 0; i < b.N; i++ {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
		db.QueryRow(`SELECT count(*) FROM raw`).Scan(&rows)
	}
	if rows != lines {
		b.Fatalf("%d rows, want %d", rows, lines)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkFloorPacketInsert inserts the capture benchmark's packets,
// already decoded, into packet_data; and, for the whole import's work,
// its conversations, HTTP messages and PROXY headers too.
func BenchmarkFloorPacketInsert(b *testing.B) {
	p, _ := capture2M(b)
	src := imported(b, pcap.Importer{}, p, ingest.Options{Node: "bench"})
	for _, tables := range [][]string{{"packet_data"}, {"packet_data", "tcp_conversations", "http_messages", "proxy_headers"}} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("tables=%d/threads=%d", len(tables), threads), func(b *testing.B) {
				floor(b, src, tables, threads)
			})
		}
	}
}
