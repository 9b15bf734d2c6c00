package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// Rows streams the result of a query; Values are valid until the next Next.
type Rows struct {
	rows  *sql.Rows
	cols  []string
	types []string
	vals  []any
	ptrs  []any
	err   error // a Scan failure, which ends iteration like an error from the driver
}

// Run runs SQL on db and streams its rows.
func Run(ctx context.Context, db *sql.DB, sqlText string, args ...any) (*Rows, error) {
	rows, err := db.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, err
	}
	return newRows(rows)
}

func newRows(rows *sql.Rows) (*Rows, error) {
	cts, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	r := &Rows{rows: rows}
	for _, ct := range cts {
		r.cols = append(r.cols, ct.Name())
		r.types = append(r.types, ct.DatabaseTypeName())
	}
	r.vals = make([]any, len(cts))
	r.ptrs = make([]any, len(cts))
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	return r, nil
}

// Columns are the result's column names.
func (r *Rows) Columns() []string { return r.cols }

// Types are the result's DuckDB column types.
func (r *Rows) Types() []string { return r.types }

// Next advances to the next row.
func (r *Rows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.err = fmt.Errorf("reading row: %w", err)
		return false
	}
	return true
}

// Values is the current row.
func (r *Rows) Values() []any { return r.vals }

// Err is the error that ended iteration, if any: the driver's, or a row
// that could not be scanned (which must not look like the end of the result).
func (r *Rows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

// Close releases the result.
func (r *Rows) Close() error { return r.rows.Close() }

// Page is one page of a console result.
type Page struct {
	Columns []string
	Types   []string
	Rows    [][]any
	Offset  int
	More    bool // there are rows after this page
}

// Console runs untrusted SQL for the SQL console and returns one page of its
// result. A single SELECT-like statement (SELECT, FROM, WITH, DESCRIBE,
// SUMMARIZE, SHOW) is wrapped in LIMIT/OFFSET, so DuckDB computes only the
// page however big the result; anything else runs as written.
func Console(ctx context.Context, db *sql.DB, sqlText string, offset, limit int) (*Page, error) {
	q := sqlText
	paged := false
	if selectLike(ctx, db, sqlText) {
		q = fmt.Sprintf("SELECT * FROM (\n%s\n) LIMIT %d OFFSET %d", trimStatement(sqlText), limit+1, offset)
		paged = true
	}
	rows, err := Run(ctx, db, q)
	if err != nil {
		if paged {
			return nil, sqlError(err, 1)
		}
		return nil, sqlError(err, 0)
	}
	defer rows.Close()
	p := &Page{Columns: rows.Columns(), Types: rows.Types(), Offset: offset}
	skipped := 0
	for rows.Next() {
		if !paged && skipped < offset {
			skipped++
			continue
		}
		if len(p.Rows) == limit {
			p.More = true
			break
		}
		p.Rows = append(p.Rows, append([]any(nil), rows.Values()...))
	}
	if err := rows.Err(); err != nil {
		return nil, sqlError(err, 0)
	}
	return p, ctx.Err()
}

// SQLError is DuckDB's error for a statement, with its position in the
// text the user wrote (not in the wrapper l4case put around it).
type SQLError struct {
	Line   int // 1-based line of the error in the user's SQL; 0 when DuckDB gave none
	Column int // 1-based column, 0 when unknown (DuckDB elides long lines)
	Msg    string
	Err    error
}

func (e *SQLError) Error() string { return e.Msg }
func (e *SQLError) Unwrap() error { return e.Err }

var lineRE = regexp.MustCompile(`(?m)^LINE (\d+): (.*)\n( *)\^`)

// sqlError locates err in the user's SQL. shift is how many lines l4case
// prepended; DuckDB prints "LINE n: <text>" and a caret under the error.
func sqlError(err error, shift int) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	msg := err.Error()
	m := lineRE.FindStringSubmatchIndex(msg)
	if m == nil {
		return &SQLError{Msg: msg, Err: err}
	}
	line, _ := strconv.Atoi(msg[m[2]:m[3]])
	line -= shift
	prefix := fmt.Sprintf("LINE %d: ", line)
	e := &SQLError{Line: line, Err: err}
	text := msg[m[4]:m[5]]
	// The caret's indent counts DuckDB's "LINE n: " prefix.
	caret := (m[7] - m[6]) - len(fmt.Sprintf("LINE %s: ", msg[m[2]:m[3]]))
	if !strings.HasPrefix(text, "...") && caret >= 0 {
		e.Column = caret + 1
	}
	e.Msg = msg[:m[0]] + prefix + text + "\n" + strings.Repeat(" ", max(0, caret)+len(prefix)) + "^" + msg[m[1]:]
	return e
}

// selectLike reports whether sqlText is exactly one statement that DuckDB
// can nest in a FROM clause.
func selectLike(ctx context.Context, db *sql.DB, sqlText string) bool {
	var isErr sql.NullBool
	var n sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT (j->>'$.error')::BOOLEAN, json_array_length(j->'$.statements')
		FROM (SELECT json_serialize_sql(?::VARCHAR) AS j)`, sqlText).Scan(&isErr, &n)
	return err == nil && isErr.Valid && !isErr.Bool && n.Int64 == 1
}

func trimStatement(s string) string {
	s = strings.TrimSpace(s)
	for strings.HasSuffix(s, ";") {
		s = strings.TrimSpace(strings.TrimSuffix(s, ";"))
	}
	return s
}

// ExportFormat is csv or json (JSON lines).
type ExportFormat string

const (
	CSV  ExportFormat = "csv"
	JSON ExportFormat = "json"
)

// Export writes the result of untrusted SQL over the case database at dbPath
// to out: CSV per RFC 4180 with a header row, or JSON lines; timestamps in
// RFC 3339 UTC. DuckDB's own writer streams it, so memory does not grow with
// the row count. The SQL runs in a sandbox that may read the case and write
// out, nothing else. It returns the number of rows written.
//
// DuckDB keeps one configuration per file per process: other handles on
// dbPath must be closed while Export runs.
func Export(ctx context.Context, dbPath, sqlText, out string, format ExportFormat) (int64, error) {
	n, err := export(ctx, dbPath, sqlText, out, format, ExportMemoryLimit)
	if fi, serr := os.Stat(out); isOutOfMemory(err) && serr == nil && fi.Mode().IsRegular() {
		if err := os.Truncate(out, 0); err != nil {
			return 0, err
		}
		return export(ctx, dbPath, sqlText, out, format, bigExportMemory())
	}
	return n, err
}

func export(ctx context.Context, dbPath, sqlText, out string, format ExportFormat, memory string) (int64, error) {
	if format != CSV && format != JSON {
		return 0, fmt.Errorf("export format %q: use csv or json", format)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().IsRegular() {
		// Create it first so the sandbox can resolve the exact path.
		f, err := os.Create(out)
		if err != nil {
			return 0, err
		}
		f.Close()
	}
	db, err := openSandboxMem(dbPath, []string{out}, memory)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	body := trimStatement(sqlText)
	if !selectLike(ctx, db, body) {
		return 0, fmt.Errorf("export takes one SELECT statement")
	}
	body, shift, err := rfc3339Projection(ctx, db, body)
	if err != nil {
		return 0, err
	}
	opts := "FORMAT csv, HEADER true, USE_TMP_FILE false, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%fZ', DATEFORMAT '%Y-%m-%d'"
	if format == JSON {
		opts = "FORMAT json, USE_TMP_FILE false, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%fZ', DATEFORMAT '%Y-%m-%d'"
	}
	res, err := db.ExecContext(ctx, fmt.Sprintf("COPY (\n%s\n) TO %s (%s)", body, quoteSQL(out), opts))
	if err != nil {
		return 0, sqlError(err, shift+1)
	}
	return res.RowsAffected()
}

// rfc3339Projection wraps q so that nanosecond timestamps print as RFC 3339
// too (COPY's TIMESTAMPFORMAT stops at microseconds), and 128-bit integers
// print fast.
// It also says how many lines it put before q.
func rfc3339Projection(ctx context.Context, db *sql.DB, q string) (string, int, error) {
	rows, err := Run(ctx, db, fmt.Sprintf("SELECT * FROM (\n%s\n) LIMIT 0", q))
	if err != nil {
		return "", 0, sqlError(err, 1)
	}
	rows.Close()
	seen := map[string]bool{}
	var repl []string
	for i, c := range rows.Columns() {
		if seen[c] {
			return q, 0, nil // duplicate names cannot be replaced by name
		}
		seen[c] = true
		id := `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
		switch rows.Types()[i] {
		case "TIMESTAMP_NS":
			repl = append(repl, fmt.Sprintf(`strftime(%[1]s, '%%Y-%%m-%%dT%%H:%%M:%%S.') || lpad((epoch_ns(%[1]s) %% 1000000000)::VARCHAR, 9, '0') || 'Z' AS %[1]s`, id))
		case "UHUGEINT", "HUGEINT":
			// DuckDB spells a 128-bit integer at ~6 µs each, which made
			// SELECT * FROM flow_logs (src_ip, dst_ip) export at 35 k
			// rows/s; values that fit 64 bits (every IPv4 address) go
			// through the fast 64-bit cast. The text is the same; in JSON
			// lines the value becomes a string, as JSON numbers above 2^53
			// are not safe in most readers anyway.
			small := "UBIGINT"
			if rows.Types()[i] == "HUGEINT" {
				small = "BIGINT"
			}
			repl = append(repl, fmt.Sprintf(`CASE WHEN TRY_CAST(%[1]s AS %[2]s) IS NOT NULL THEN %[1]s::%[2]s::VARCHAR ELSE %[1]s::VARCHAR END AS %[1]s`, id, small))
		}
	}
	if len(repl) == 0 {
		return q, 0, nil
	}
	return fmt.Sprintf("SELECT * REPLACE (%s) FROM (\n%s\n)", strings.Join(repl, ", "), q), 1, nil
}

// ExportTo is Export to a stream (stdout, a pipe): DuckDB writes into a
// FIFO that is copied to w, so nothing is truncated and nothing buffered
// whole.
func ExportTo(ctx context.Context, dbPath, sqlText string, w io.Writer, format ExportFormat) (int64, error) {
	cw := &countWriter{w: w}
	n, err := exportTo(ctx, dbPath, sqlText, cw, format, ExportMemoryLimit)
	if isOutOfMemory(err) && cw.n == 0 {
		// Nothing went out yet: run again with the bigger pool.
		return exportTo(ctx, dbPath, sqlText, cw, format, bigExportMemory())
	}
	return n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func exportTo(ctx context.Context, dbPath, sqlText string, w io.Writer, format ExportFormat, memory string) (int64, error) {
	dir, err := os.MkdirTemp("", "l4case-export-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	fifo := filepath.Join(dir, "out")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return 0, err
	}
	copied := make(chan error, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until a writer opens it
		if err != nil {
			copied <- err
			return
		}
		_, err = io.Copy(w, f)
		f.Close()
		copied <- err
	}()
	n, err := export(ctx, dbPath, sqlText, fifo, format, memory)
	if err != nil {
		// DuckDB may have failed before opening the FIFO: open it ourselves
		// so that the reader sees EOF and returns.
		if f, oerr := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); oerr == nil {
			f.Close()
		}
		<-copied
		return 0, err
	}
	return n, <-copied
}

// TableCount is a table and its row count, or one of the schema's views
// (elb_logs, flows, packets, endpoints), whose rows are not counted (-1).
type TableCount struct {
	Table string
	Rows  int64
	View  bool
}

// TableCounts counts the rows of every table of the case, in schema order,
// then lists the schema's views.
func TableCounts(ctx context.Context, db *sql.DB) ([]TableCount, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY table_oid`)
	if err != nil {
		return nil, err
	}
	var out []TableCount
	for rows.Next() {
		var tc TableCount
		if err := rows.Scan(&tc.Table, &tc.Rows); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, tc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// estimated_size is exact for tables that were only appended to, but
	// count to be sure.
	for i := range out {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "`+out[i].Table+`"`).Scan(&out[i].Rows); err != nil {
			return nil, err
		}
	}
	views, err := db.QueryContext(ctx, `SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal ORDER BY view_oid`)
	if err != nil {
		return nil, err
	}
	defer views.Close()
	for views.Next() {
		tc := TableCount{Rows: -1, View: true}
		if err := views.Scan(&tc.Table); err != nil {
			return nil, err
		}
		out = append(out, tc)
	}
	return out, views.Err()
}

// SortedSQL is sqlText's result ordered by one of its columns.
func SortedSQL(sqlText, column string, desc bool) string {
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	return `SELECT * FROM (` + "\n" + trimStatement(sqlText) + "\n" + `) ORDER BY "` + strings.ReplaceAll(column, `"`, `""`) + `" ` + dir + ` NULLS LAST`
}

// BrowseSQL is the query that shows a table or view whole.
func BrowseSQL(table string) string {
	return `SELECT * FROM "` + strings.ReplaceAll(table, `"`, `""`) + `"`
}

// VerdictCount is how many conversations got a verdict, with the reason of
// the first of them.
type VerdictCount struct {
	Verdict string
	Count   int64
	Example string
}

// SummarizeDiagnosis counts the verdicts of a rendered nacl_sg_diagnosis
// and says whether the EC2 snapshots postdate the flows they judge.
func SummarizeDiagnosis(ctx context.Context, db *sql.DB, diagnosisSQL string) ([]VerdictCount, bool, error) {
	rows, err := Run(ctx, db, `SELECT verdict, count(*), arg_min(coalesce(culprit, reason), first_time), bool_or(coalesce(snapshot_after_incident, false))
		FROM (`+diagnosisSQL+`) GROUP BY verdict ORDER BY count(*) DESC, verdict`)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []VerdictCount
	after := false
	for rows.Next() {
		v := rows.Values()
		n, _ := v[1].(int64)
		out = append(out, VerdictCount{Verdict: Text(v[0]), Count: n, Example: Text(v[2])})
		if b, _ := v[3].(bool); b {
			after = true
		}
	}
	return out, after, rows.Err()
}

// ColumnInfo is a column of a table or view of the case, with what
// schema.sql says of it.
type ColumnInfo struct {
	Table   string
	Name    string
	Type    string
	Comment string
}

// Columns lists the columns of the case's tables and views, in their order.
func Columns(ctx context.Context, db *sql.DB) ([]ColumnInfo, error) {
	rows, err := db.QueryContext(ctx, `SELECT table_name, column_name, data_type, coalesce(comment, '')
		FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal ORDER BY table_oid, column_index`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ColumnInfo
	for rows.Next() {
		var c ColumnInfo
		if err := rows.Scan(&c.Table, &c.Name, &c.Type, &c.Comment); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
