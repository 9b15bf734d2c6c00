package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/query"
)

// flowRowsTarget is how many flow log rows the views benchmark analyses.
const flowRowsTarget = 10_000_000

var bigCase struct {
	once sync.Once
	path string // case.duckdb
	rows int64
	err  error
}

// viewsCase builds (once per run) a case with at least flowRowsTarget flow
// log rows: the generator's default incident, imported, then its flow logs
// repeated shifted by 30 minutes a copy, so the mix of accepted, rejected
// and unanswered flows, ENIs and flow logs is the incident's, only longer.
// Deriving flow_conversations over the result is timed and reported.
func viewsCase(b *testing.B) string {
	bigCase.once.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "l4case-bench-views-*")
		if err != nil {
			bigCase.err = err
			return
		}
		files.Lock()
		extra = append(extra, dir)
		files.Unlock()
		o := gen.Defaults()
		o.Out = filepath.Join(dir, "bundle")
		if _, err := gen.Generate(ctx, o); err != nil {
			bigCase.err = err
			return
		}
		c, err := app.New(ctx, filepath.Join(dir, "case"), "views benchmark")
		if err != nil {
			bigCase.err = err
			return
		}
		if _, err := c.Import(ctx, []string{o.Out}, app.ImportOptions{}, nil); err != nil {
			bigCase.err = err
			return
		}
		path := c.DBPath()
		c.Close()
		db, err := query.OpenWriter(ctx, path)
		if err != nil {
			bigCase.err = err
			return
		}
		defer db.Close()
		var n int64
		db.QueryRow(`SELECT count(*) FROM flow_logs`).Scan(&n)
		copies := (flowRowsTarget + n - 1) / n
		start := time.Now()
		if _, err := db.Exec(`INSERT INTO flow_logs
			SELECT f.* REPLACE (f.line + k * 10000000 AS line,
			                    f.start_time + k * INTERVAL 30 MINUTE AS start_time,
			                    f.end_time + k * INTERVAL 30 MINUTE AS end_time)
			FROM flow_logs f, range(1, ?) t(k)`, copies); err != nil {
			bigCase.err = err
			return
		}
		b.Logf("repeated %d flow log rows %d times in %v", n, copies, time.Since(start).Round(time.Millisecond))
		start = time.Now()
		if err := query.Derive(ctx, db); err != nil {
			bigCase.err = err
			return
		}
		var convs int64
		db.QueryRow(`SELECT count(*) FROM flow_logs`).Scan(&bigCase.rows)
		db.QueryRow(`SELECT count(*) FROM flow_conversations`).Scan(&convs)
		b.Logf("derived %d flow conversations from %d flow log rows in %v", convs, bigCase.rows, time.Since(start).Round(time.Millisecond))
		bigCase.path = path
	})
	if bigCase.err != nil {
		b.Fatal(bigCase.err)
	}
	return bigCase.path
}

// BenchmarkViews runs every saved view with its default parameters on a
// case of ten million flow log rows and fetches the first page (1000 rows),
// which is what l4case view and the GUI show; ORDER BY means the whole
// result is computed even so.
func BenchmarkViews(b *testing.B) {
	path := viewsCase(b)
	db, err := query.OpenReader(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, v := range query.Views() {
		b.Run(v.Name, func(b *testing.B) {
			q, err := v.Render(nil)
			if err != nil {
				b.Fatal(err)
			}
			var rows int
			for i := 0; i < b.N; i++ {
				p, err := query.Console(context.Background(), db, q, 0, 1000)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(p.Rows)
			}
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(float64(bigCase.rows), "flow_rows")
		})
	}
}

// BenchmarkExport10M exports 1 M and then 10 M flow log rows to CSV with
// the l4case binary, as a user would, and reports each run's peak RSS:
// export streams, so the two should match.
func BenchmarkExport10M(b *testing.B) {
	path := viewsCase(b)
	caseDir := filepath.Dir(path)
	exe := filepath.Join(caseDir, "l4case")
	build := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", exe, "..")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	out := filepath.Join(caseDir, "export.csv")
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			var rss int64
			for i := 0; i < b.N; i++ {
				msg, kib, err := measured(exe, "export", caseDir, "--out", out,
					"--query", fmt.Sprintf("SELECT * EXCLUDE (extra) FROM flow_logs LIMIT %d", n))
				if err != nil || !strings.Contains(msg, fmt.Sprintf("exported %d rows", n)) {
					b.Fatalf("%v: %s", err, msg)
				}
				rss = max(rss, kib)
			}
			fi, _ := os.Stat(out)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(fi.Size())/1e6, "MB_csv")
			b.ReportMetric(float64(rss)/1024, "MiB_peak_RSS")
		})
	}
}
