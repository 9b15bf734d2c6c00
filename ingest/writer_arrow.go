//go:build duckdb_arrow

package ingest

import (
	"context"
	"database/sql/driver"
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// InsertPath says how batches reach DuckDB in this build.
const InsertPath = "arrow"

// insert hands Arrow batches to DuckDB as a view and inserts from it:
// DuckDB reads the columns as they are, without a value-by-value copy. The
// view is a stream: first, then whatever more returns until it returns nil,
// all in one statement, which DuckDB fills on all its threads.
func (w *Writer) insert(ctx context.Context, t *Table, first arrow.RecordBatch, more func() arrow.RecordBatch) error {
	rdr := &stream{schema: first.Schema(), next: first, more: more}
	rdr.refs.Store(1)
	defer rdr.Release()
	return w.conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		// Per file: captures import side by side, and DuckDB refuses a
		// second Arrow view of a name another connection registered.
		view := fmt.Sprintf("l4case_batch_%s_%d", t.name, w.src.ID)
		release, err := ar.RegisterView(rdr, view)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		defer release()
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, fmt.Sprintf(t.insertSQL, view), nil)
		return err
	})
}

// stream is an array.RecordReader over batches that arrive while DuckDB
// reads it. Like array.NewRecordReader's, a batch is released when the
// reader moves past it (DuckDB holds its own reference meanwhile).
type stream struct {
	schema    *arrow.Schema
	cur, next arrow.RecordBatch
	more      func() arrow.RecordBatch
	refs      atomic.Int64
}

func (s *stream) Schema() *arrow.Schema          { return s.schema }
func (s *stream) RecordBatch() arrow.RecordBatch { return s.cur }
func (s *stream) Record() arrow.RecordBatch      { return s.cur }
func (s *stream) Err() error                     { return nil }
func (s *stream) Retain()                        { s.refs.Add(1) }

func (s *stream) Next() bool {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if s.next != nil {
		s.cur, s.next = s.next, nil
		return true
	}
	if s.more != nil {
		if s.cur = s.more(); s.cur != nil {
			return true
		}
		s.more = nil
	}
	return false
}

func (s *stream) Release() {
	if s.refs.Add(-1) != 0 {
		return
	}
	for _, r := range []arrow.RecordBatch{s.cur, s.next} {
		if r != nil {
			r.Release()
		}
	}
	s.cur, s.next = nil, nil
}

func (w *Writer) closeTable(*Table) error { return nil }
