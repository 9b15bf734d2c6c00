// Package bench holds l4case's speed and memory benchmarks. They are not
// run by the test suite; bench/run.sh runs them and prints the figures that
// go into BENCHMARKS.md.
package bench

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/elblog"
	"dev.l4case/l4case/ingest/flowlog"
	"dev.l4case/l4case/ingest/ingesttest"
	"dev.l4case/l4case/ingest/opflex"
)

// lines is how many records each log benchmark imports.
const lines = 1_000_000

var files struct {
	sync.Mutex
	dir string
	m   map[string]string
}

// file writes (once per run) a log of n lines made by line(i).
func file(b testing.TB, name string, header string, line func(r *rand.Rand, i int) string) string {
	files.Lock()
	defer files.Unlock()
	if files.m == nil {
		files.m = map[string]string{}
		d, err := os.MkdirTemp("", "l4case-bench-*")
		if err != nil {
			b.Fatal(err)
		}
		files.dir = d
	}
	if p, ok := files.m[name]; ok {
		return p
	}
	p := filepath.Join(files.dir, name)
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if header != "" {
		w.WriteString(header + "\n")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < lines; i++ {
		w.WriteString(line(r, i))
		w.WriteByte('\n')
	}
	w.Flush()
	f.Close()
	files.m[name] = p
	return p
}

// extra are more temporary folders to remove at the end (guarded by files).
var extra []string

func TestMain(m *testing.M) {
	code := m.Run()
	if files.dir != "" {
		os.RemoveAll(files.dir)
	}
	for _, d := range extra {
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil {
				os.Chmod(p, 0o755) // evidence copies are read-only
			}
			return nil
		})
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func flowLine(r *rand.Rand, i int) string {
	action := "ACCEPT"
	if r.IntN(10) == 0 {
		action = "REJECT"
	}
	start := 1617604400 + i/1000
	return fmt.Sprintf("2 123456789012 eni-0%016x 10.0.%d.%d 10.0.%d.%d %d %d 6 %d %d %d %d %s OK",
		r.IntN(8), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256), 1024+r.IntN(60000), []int{80, 443, 31790, 30443, 22}[r.IntN(5)],
		1+r.IntN(50), 40+r.IntN(60000), start, start+r.IntN(60), action)
}

func flowLog(b *testing.B) string {
	return file(b, "flow.log", "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status", flowLine)
}

func report(b *testing.B, rows int64) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkFlowLogImport is the flow log importer end to end: parse in Go,
// Arrow batches into DuckDB on a second goroutine, committed.
func BenchmarkFlowLogImport(b *testing.B) {
	p := flowLog(b)
	b.ResetTimer()
	var rows int64
	for i := 0; i < b.N; i++ {
		r := ingesttest.Import(b, flowlog.Importer{}, p, ingest.Options{})
		if r.Err != nil || r.Records != lines {
			b.Fatalf("%v: %d records", r.Err, r.Records)
		}
		rows = r.Records
	}
	report(b, rows)
}

// BenchmarkFlowLogReadCSV is the same file read by DuckDB's read_csv into
// the same table, with the same conversions (epoch seconds to TIMESTAMPTZ).
func BenchmarkFlowLogReadCSV(b *testing.B) {
	p := flowLog(b)
	b.ResetTimer()
	var rows int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := ingesttest.DB(b)
		b.StartTimer()
		res, err := db.Exec(`INSERT INTO flow_logs (evidence_id, line, version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport,
			protocol, packets, bytes, start_time, end_time, action, log_status)
			SELECT 1, 0, version, "account-id", "interface-id", srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes,
			       to_timestamp("start"), to_timestamp("end"), action, "log-status"
			FROM read_csv('` + p + `', delim = ' ', header = true, nullstr = '-', columns = {
				'version': 'INTEGER', 'account-id': 'VARCHAR', 'interface-id': 'VARCHAR', 'srcaddr': 'VARCHAR', 'dstaddr': 'VARCHAR',
				'srcport': 'INTEGER', 'dstport': 'INTEGER', 'protocol': 'INTEGER', 'packets': 'BIGINT', 'bytes': 'BIGINT',
				'start': 'BIGINT', 'end': 'BIGINT', 'action': 'VARCHAR', 'log-status': 'VARCHAR'})`)
		if err != nil {
			b.Fatal(err)
		}
		rows, _ = res.RowsAffected()
	}
	report(b, rows)
}

func elbLine(r *rand.Rand, i int) string {
	t := fmt.Sprintf("2021-04-05T06:%02d:%02d.%06dZ", (i/60000)%60, (i/1000)%60, r.IntN(1000000))
	client := fmt.Sprintf("%d.%d.%d.%d:%d", 1+r.IntN(223), r.IntN(256), r.IntN(256), r.IntN(256), 1024+r.IntN(60000))
	if r.IntN(4) == 0 {
		return fmt.Sprintf(`http %s app/my-alb/50dc6c495c0c9188 %s 10.0.0.%d:80 0.000 0.%03d 0.000 200 200 34 %d "GET http://www.example.com:80/item/%d HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 %s "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_dc57cebed65b444ebc8177bb698fe166`,
			t, client, r.IntN(256), r.IntN(1000), 200+r.IntN(5000), i, t)
	}
	return fmt.Sprintf(`%s a17a43204638c41818a7d130503ccfa1 %s 10.0.134.187:31790 0.000%03d 0.000009 0.000013 - - %d %d "- - - " "-" - -`,
		t, client, r.IntN(1000), 200+r.IntN(600), 200+r.IntN(5000))
}

// elbFile is a million access log lines of one kind: "mix" (3/4 Classic
// TCP, 1/4 ALB, as one file never is but a bundle is), "classic" or "alb"
// (one load balancer's file, as AWS writes them).
func elbFile(b *testing.B, kind string) string {
	if kind == "mix" {
		return file(b, "elb.log", "", elbLine)
	}
	return file(b, "elb-"+kind+".log", "", func(r *rand.Rand, i int) string {
		for {
			if l := elbLine(r, i); strings.HasPrefix(l, "http ") == (kind == "alb") {
				return l
			}
		}
	})
}

var elbKinds = []string{"mix", "classic", "alb"}

// BenchmarkELBImport imports 1M access log lines of each kind.
func BenchmarkELBImport(b *testing.B) {
	for _, kind := range elbKinds {
		b.Run(kind, func(b *testing.B) {
			p := elbFile(b, kind)
			b.ResetTimer()
			var rows int64
			for i := 0; i < b.N; i++ {
				r := ingesttest.Import(b, elblog.Importer{}, p, ingest.Options{})
				if r.Err != nil || r.Records != lines {
					b.Fatalf("%v: %d records", r.Err, r.Records)
				}
				rows = r.Records
			}
			report(b, rows)
		})
	}
}

func opflexLine(r *rand.Rand, i int) string {
	return fmt.Sprintf("[2024-Feb-20 07:%02d:%02d.%06d] [info] [ovs/PacketLogHandler.cpp:262:parseLog] Acc-SEC_GROUP_IN_TABLE MISS  SMAC=00:22:bd:f8:19:ff DMAC=0a:58:0a:02:00:c3 ETYP=IPv4 SRC=10.2.0.%d DST=10.2.0.195 LEN=60 DSCP=0 TTL=62 ID=%d FLAGS=2 FRAG=0 PROTO=TCP SPT=%d DPT=80 SEQ=%d ACK=0 LEN=10 WINDOWS=62020 SYN  URGP=0",
		(i/60000)%60, (i/1000)%60, r.IntN(1000000), r.IntN(256), r.IntN(65536), 1024+r.IntN(60000), r.Uint32())
}

// BenchmarkOpFlexImport imports 1M drop log lines.
func BenchmarkOpFlexImport(b *testing.B) {
	p := file(b, "opflex.log", "", opflexLine)
	b.ResetTimer()
	var rows int64
	for i := 0; i < b.N; i++ {
		r := ingesttest.Import(b, opflex.Importer{}, p, ingest.Options{})
		if r.Err != nil || r.Records != lines {
			b.Fatalf("%v: %d records", r.Err, r.Records)
		}
		rows = r.Records
	}
	report(b, rows)
}
