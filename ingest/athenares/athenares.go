// Package athenares imports the result of an Athena query that l4case ran
// (l4case athena run): a CSV whose first line is "# l4case athena_result "
// and the query's description as JSON (query id, SQL, database, workgroup,
// state, bytes scanned), then the result's header and rows. Each result
// becomes its own table, athena_result_EVIDENCE, with the result's columns
// (as text, as Athena's CSV gives them), so that the console, the views'
// "Trace this", findings and export work on it like on any table.
package athenares

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"dev.l4case/l4case/ingest"
)

// Importer reads Athena results.
type Importer struct{}

// Kind is "athena_result".
func (Importer) Kind() string { return "athena_result" }

// Marker starts the first line of a result file.
const Marker = "# l4case athena_result "

// Meta describes the query a result file holds.
type Meta struct {
	QueryID      string `json:"query_id"`
	SQL          string `json:"sql"`
	Database     string `json:"database,omitempty"`
	Workgroup    string `json:"workgroup,omitempty"`
	State        string `json:"state"`
	ScannedBytes int64  `json:"scanned_bytes"`
	Submitted    string `json:"submitted,omitempty"`
	Completed    string `json:"completed,omitempty"`
}

// Detect accepts a file that starts with the marker line.
func (Importer) Detect(name string, head []byte) error {
	if !bytes.HasPrefix(head, []byte(Marker)) {
		return errors.New("not an l4case Athena result (no \"# l4case athena_result\" line)")
	}
	return nil
}

var unsafe = regexp.MustCompile(`[^a-z0-9_]+`)

// columnName makes a result column an identifier, distinct from the
// others.
func columnName(s string, seen map[string]bool) string {
	n := strings.Trim(unsafe.ReplaceAllString(strings.ToLower(s), "_"), "_")
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		n = "c_" + n
	}
	base := n
	for i := 2; seen[n]; i++ {
		n = fmt.Sprintf("%s_%d", base, i)
	}
	seen[n] = true
	return n
}

// Import creates the result's table and appends its rows; a row with
// another number of fields than the header is rejected at its line.
func (Importer) Import(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	rc, err := src.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var first []byte
	buf := make([]byte, 1)
	for {
		if _, err := rc.Read(buf); err != nil {
			return "", &ingest.PosError{ErrorPos: ingest.ErrorPos{File: src.Name, Unit: "line", N: 1}, Err: fmt.Errorf("no header: %w", err)}
		}
		if buf[0] == '\n' {
			break
		}
		first = append(first, buf[0])
	}
	var meta Meta
	if err := json.Unmarshal(bytes.TrimPrefix(first, []byte(Marker)), &meta); err != nil {
		return "", &ingest.PosError{ErrorPos: ingest.ErrorPos{File: src.Name, Unit: "line", N: 1}, Err: fmt.Errorf("query description: %w", err)}
	}
	r := csv.NewReader(rc)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return "", &ingest.PosError{ErrorPos: ingest.ErrorPos{File: src.Name, Unit: "line", N: 2}, Err: fmt.Errorf("result header: %w", err)}
	}
	seen := map[string]bool{"evidence_id": true, "line": true}
	cols := []string{"evidence_id", "line"}
	decl := []string{"evidence_id INTEGER", "line BIGINT"}
	for _, h := range header {
		n := columnName(h, seen)
		cols = append(cols, n)
		decl = append(decl, n+" VARCHAR")
	}
	table := fmt.Sprintf("athena_result_%d", src.ID)
	if _, err := w.Exec(ctx, "CREATE TABLE "+table+" ("+strings.Join(decl, ", ")+")"); err != nil {
		return "", err
	}
	if _, err := w.Exec(ctx, "COMMENT ON TABLE "+table+" IS "+quote("Athena query "+meta.QueryID+": "+meta.SQL)); err != nil {
		return "", err
	}
	t, err := w.Records(table, cols...)
	if err != nil {
		return "", err
	}
	for n := 0; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if n&0x3ff == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		// The file's line: the CSV reader counts from the header, the
		// description line is before it.
		var line int64
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = int64(pe.StartLine) + 1
		} else {
			l, _ := r.FieldPos(0)
			line = int64(l) + 1
		}
		if err != nil {
			w.Reject(line, "line", "", err.Error())
			continue
		}
		if len(rec) != len(header) {
			w.Reject(line, "line", strings.Join(rec, ","), fmt.Sprintf("%d fields, the header has %d", len(rec), len(header)))
			continue
		}
		t.Int(0, int64(src.ID))
		t.Int(1, line)
		for i, v := range rec {
			t.Str(i+2, v)
		}
		t.Row()
	}
	w.Note("Athena query " + meta.QueryID + " (" + meta.State + fmt.Sprintf(", %d bytes scanned", meta.ScannedBytes) + "): " + meta.SQL)
	return fmt.Sprintf("Athena result %s: %d columns in %s", meta.QueryID, len(header), table), nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
