package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
)

// interleaved writes rows to drops in batches of 7 and rejects every fifth
// record (ingest_errors, batches of 3), asking the database mid-way how many
// drops it holds: batches of one table go to DuckDB as one streamed
// statement, which another table's batch or a query must end first.
type interleaved struct {
	n     int
	seen  []int64 // drops counted by each query, after i rows
	after []int64
}

func (interleaved) Kind() string                { return "test" }
func (interleaved) Detect(string, []byte) error { return nil }
func (imp *interleaved) Import(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	t, err := w.Records("drops", "evidence_id", "line", "kind")
	if err != nil {
		return "", err
	}
	t.SetBatch(7)
	var rows int64
	for i := 1; i <= imp.n; i++ {
		if i%5 == 0 {
			w.Reject(int64(i), "line", fmt.Sprint("bad ", i), "every fifth")
			continue
		}
		t.Int(0, int64(src.ID))
		t.Int(1, int64(i))
		t.Str(2, "packet")
		t.Row()
		rows++
		if i%41 == 0 {
			var n int64
			if err := w.QueryRow(ctx, `SELECT count(*) FROM drops`, nil, &n); err != nil {
				return "", err
			}
			imp.seen, imp.after = append(imp.seen, n), append(imp.after, rows)
		}
	}
	return "test", nil
}

func TestWriterStreamsBatchesInOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("x"), 0o644)
	imp := &interleaved{n: 1000}
	r := ingesttest.Import(t, imp, p, ingest.Options{})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Records != 800 || r.Rejected != 200 {
		t.Errorf("records %d, rejected %d; want 800, 200", r.Records, r.Rejected)
	}
	for i := range imp.seen {
		if imp.seen[i] != imp.after[i] {
			t.Errorf("query after %d rows saw %d drops", imp.after[i], imp.seen[i])
		}
	}
	if len(imp.seen) != 20 { // multiples of 41 up to 1000 (24) but not of 205 (4)
		t.Errorf("%d queries ran, want 20", len(imp.seen))
	}
	got := ingesttest.Rows(t, r.DB, `SELECT count(*), count(DISTINCT line), min(line), max(line), sum(line) FROM drops`)[0]
	// 1..1000 without the multiples of 5: 500500 - 5*(1+...+200) = 400000.
	if want := []string{"800", "800", "1", "999", "400000"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("drops: %v, want %v", got, want)
	}
	got = ingesttest.Rows(t, r.DB, `SELECT count(*), min(line_or_offset), max(line_or_offset), count(*) FILTER (WHERE raw = 'bad ' || line_or_offset) FROM ingest_errors`)[0]
	if want := []string{"200", "5", "1000", "200"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ingest_errors: %v, want %v", got, want)
	}
}
