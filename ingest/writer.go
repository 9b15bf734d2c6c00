package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Writer appends one evidence file's rows to the case database, inside the
// transaction its caller opened for that file (so an interrupted import
// leaves nothing behind).
//
// Importers fill rows column by column into Arrow builders on their own
// goroutine; full batches go to DuckDB on the Writer's goroutine, so parsing
// and inserting overlap. Only the Writer's goroutine touches the connection.
type Writer struct {
	src  *Source
	conn *sql.Conn
	ctx  context.Context

	jobs chan job
	done chan struct{}
	mu   sync.Mutex
	err  error // first database error

	tables  []*Table
	errs    *Table
	notes   map[string]int64
	noteOrd []string

	records  atomic.Int64
	rejected atomic.Int64
	first    time.Time
	last     time.Time
	firstNS  int64 // the same, kept as nanoseconds by hot loops
	lastNS   int64
	state    any // per-build insertion state (appenders)
}

type job struct {
	t    *Table
	rec  arrow.RecordBatch
	exec func(*sql.Conn) error
	res  chan error
}

// NewWriter starts a writer for src on conn, which must stay unused by
// anyone else until Close or Abort returns.
func NewWriter(ctx context.Context, conn *sql.Conn, src *Source) *Writer {
	w := &Writer{
		src: src, conn: conn, ctx: ctx,
		jobs:  make(chan job, 2),
		done:  make(chan struct{}),
		notes: map[string]int64{},
	}
	go w.run()
	return w
}

// Source is the file being imported.
func (w *Writer) Source() *Source { return w.src }

func (w *Writer) run() {
	defer close(w.done)
	var held *job // taken off the queue to end a stream of batches; runs next
	for {
		var j job
		if held != nil {
			j, held = *held, nil
		} else {
			var ok bool
			if j, ok = <-w.jobs; !ok {
				return
			}
		}
		err := w.failed()
		switch {
		case err != nil:
			if j.rec != nil {
				j.rec.Release()
			}
		case j.rec != nil:
			// Batches of one table that follow each other go to DuckDB as
			// one INSERT: a statement per batch keeps DuckDB on one thread.
			more := func() arrow.RecordBatch {
				if w.failed() != nil {
					return nil
				}
				select {
				case n, ok := <-w.jobs:
					if !ok {
						return nil
					}
					if n.rec != nil && n.t == j.t {
						return n.rec
					}
					held = &n
				case <-w.ctx.Done():
				}
				return nil
			}
			err = w.insert(w.ctx, j.t, j.rec, more)
		case j.exec != nil:
			err = j.exec(w.conn)
		}
		if err != nil && j.res == nil {
			w.fail(err)
		}
		if j.res != nil {
			j.res <- err
		}
	}
}

func (w *Writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *Writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Exec runs SQL on the import's connection once the rows queued before it
// are in, and waits for it. Importers use it to let DuckDB read a file
// itself (read_csv, read_parquet) into the same transaction.
func (w *Writer) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := w.Do(func(c *sql.Conn) error {
		var err error
		res, err = c.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// QueryRow runs a one-row query on the import's connection and scans it.
func (w *Writer) QueryRow(ctx context.Context, query string, args []any, dest ...any) error {
	return w.Do(func(c *sql.Conn) error {
		return c.QueryRowContext(ctx, query, args...).Scan(dest...)
	})
}

// Do runs f on the import's connection, after the rows queued before it
// are in, and waits for it.
func (w *Writer) Do(f func(*sql.Conn) error) error {
	for _, t := range w.tables {
		t.flush()
	}
	res := make(chan error, 1)
	w.jobs <- job{exec: f, res: res}
	return <-res
}

// Records opens a table whose rows are the file's records: they are what
// the evidence table counts and progress shows. A file whose records go to
// several tables (one per load balancer type) opens each with Records.
func (w *Writer) Records(table string, columns ...string) (*Table, error) {
	t, err := w.Table(table, columns...)
	if err == nil {
		t.records = true
	}
	return t, err
}

// Table opens a table for appending the named columns, in that order; the
// setters take a column's position in this list. Columns not named get
// their default (NULL).
//
// A name of the form "name:TYPE" is a staging column of that DuckDB type
// that is not inserted itself; Derive computes table columns from it.
func (w *Writer) Table(table string, columns ...string) (*Table, error) {
	types, err := w.columnTypes(table)
	if err != nil {
		return nil, err
	}
	t := &Table{w: w, name: table, batch: rowGroup}
	fields := make([]arrow.Field, len(columns))
	var targets []string
	for i, name := range columns {
		dt, ok := types[name]
		if n, typ, staged := strings.Cut(name, ":"); staged {
			name, dt, ok = n, typ, true
		} else {
			targets = append(targets, name)
		}
		if !ok {
			return nil, fmt.Errorf("table %s has no column %s", table, name)
		}
		k, at, err := arrowType(dt)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", table, name, err)
		}
		t.cols = append(t.cols, &column{name: name, duck: dt, kind: k})
		fields[i] = arrow.Field{Name: name, Type: at, Nullable: true}
	}
	t.schema = arrow.NewSchema(fields, nil)
	t.bld = array.NewRecordBuilder(memory.DefaultAllocator, t.schema)
	for i, c := range t.cols {
		c.bind(t.bld.Field(i))
	}
	t.set = make([]bool, len(columns))
	t.targets, t.exprs = targets, append([]string(nil), targets...)
	t.sql()
	w.tables = append(w.tables, t)
	return t, nil
}

// Derive inserts column target as the SQL expression expr over the batch's
// columns: work that is cheap for DuckDB on a whole vector and costly per
// row in Go, or the other way round.
func (t *Table) Derive(target, expr string) {
	t.targets = append(t.targets, target)
	t.exprs = append(t.exprs, expr)
	t.sql()
}

func (t *Table) sql() {
	t.insertSQL = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %%s", t.name, strings.Join(t.targets, ", "), strings.Join(t.exprs, ", "))
}

func (w *Writer) columnTypes(table string) (map[string]string, error) {
	types := map[string]string{}
	err := w.Do(func(c *sql.Conn) error {
		rows, err := c.QueryContext(w.ctx, `SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?`, table)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n, t string
			if err := rows.Scan(&n, &t); err != nil {
				return err
			}
			types[n] = t
		}
		return rows.Err()
	})
	if err == nil && len(types) == 0 {
		err = fmt.Errorf("no table %s in the case database", table)
	}
	return types, err
}

// Reject records a record that could not be parsed. n counts in unit
// (line, packet, byte). It does not stop the import.
func (w *Writer) Reject(n int64, unit, raw, reason string) {
	if w.errs == nil {
		var err error
		w.errs, err = w.Table("ingest_errors", "evidence_id", "file", "line_or_offset", "unit", "raw", "reason")
		if err != nil {
			w.fail(err)
			return
		}
	}
	if len(raw) > 4096 {
		raw = raw[:4096]
	}
	t := w.errs
	t.Int(0, int64(w.src.ID))
	t.Str(1, w.src.Name)
	t.Int(2, n)
	t.Str(3, unit)
	t.Str(4, raw)
	t.Str(5, reason)
	t.Row()
	w.rejected.Add(1)
}

// Note records a non-fatal finding; the same message is counted, not repeated.
func (w *Writer) Note(msg string) {
	if _, ok := w.notes[msg]; !ok {
		w.noteOrd = append(w.noteOrd, msg)
	}
	w.notes[msg]++
}

// Notes returns the findings so far with their counts, in first-seen order.
func (w *Writer) Notes() []string {
	out := make([]string, len(w.noteOrd))
	for i, m := range w.noteOrd {
		out[i] = fmt.Sprintf("%s (%d)", m, w.notes[m])
	}
	return out
}

// SeeTime widens the file's time range.
func (w *Writer) SeeTime(t time.Time) {
	if t.IsZero() {
		return
	}
	if w.first.IsZero() || t.Before(w.first) {
		w.first = t
	}
	if t.After(w.last) {
		w.last = t
	}
}

// SeeTimeNS widens the file's time range with a time in Unix nanoseconds.
func (w *Writer) SeeTimeNS(ns int64) {
	if w.firstNS == 0 || ns < w.firstNS {
		w.firstNS = ns
	}
	if ns > w.lastNS {
		w.lastNS = ns
	}
}

// Span is the earliest and latest record time seen.
func (w *Writer) Span() (first, last time.Time) {
	first, last = w.first, w.last
	if w.firstNS != 0 && (first.IsZero() || w.firstNS < first.UnixNano()) {
		first = time.Unix(0, w.firstNS).UTC()
	}
	if w.lastNS != 0 && w.lastNS > last.UnixNano() {
		last = time.Unix(0, w.lastNS).UTC()
	}
	return first, last
}

// RecordCount is the number of records appended so far (progress).
func (w *Writer) RecordCount() int64 { return w.records.Load() }

// RejectCount is the number of records rejected so far (progress).
func (w *Writer) RejectCount() int64 { return w.rejected.Load() }

// AddRecords counts records that went in without passing through a Table
// (DuckDB's own readers).
func (w *Writer) AddRecords(n int64) { w.records.Add(n) }

// Close flushes every table, writes the notes, and waits for DuckDB. The
// caller commits the transaction afterwards.
func (w *Writer) Close() error {
	if len(w.notes) > 0 && w.failed() == nil {
		if t, err := w.Table("ingest_notes", "evidence_id", "file", "message", "count"); err != nil {
			w.fail(err)
		} else {
			for _, m := range w.noteOrd {
				t.Int(0, int64(w.src.ID))
				t.Str(1, w.src.Name)
				t.Str(2, m)
				t.Int(3, w.notes[m])
				t.Row()
			}
		}
	}
	for _, t := range w.tables {
		t.flush()
	}
	close(w.jobs)
	<-w.done
	for _, t := range w.tables {
		if err := w.closeTable(t); err != nil {
			w.fail(err)
		}
		t.bld.Release()
	}
	if err := w.failed(); err != nil {
		return fmt.Errorf("%s: writing to the case database: %w", w.src.Name, err)
	}
	return nil
}

// Abort drops what has not been inserted and waits for the writer to stop.
// The caller rolls the transaction back.
func (w *Writer) Abort() {
	w.fail(errors.New("import aborted"))
	close(w.jobs)
	<-w.done
	for _, t := range w.tables {
		w.closeTable(t)
		t.bld.Release()
	}
}
