//go:build !duckdb_arrow

package ingest

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// InsertPath says how batches reach DuckDB in this build. Without the
// duckdb_arrow build tag the driver has no Arrow support, so rows go through
// DuckDB's Appender one by one: same rows, about half the speed.
const InsertPath = "appender"

// insert appends first and the batches more returns until nil, releasing each.
func (w *Writer) insert(ctx context.Context, t *Table, first arrow.RecordBatch, more func() arrow.RecordBatch) error {
	for rec := first; rec != nil; rec = more() {
		err := w.insertBatch(ctx, t, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) insertBatch(ctx context.Context, t *Table, rec arrow.RecordBatch) error {
	return w.conn.Raw(func(dc any) error {
		a, _ := t.state.(*duckdb.Appender)
		if a == nil {
			types := make([]duckdb.TypeInfo, len(t.cols))
			for i, c := range t.cols {
				ti, err := typeInfo(c.kind)
				if err != nil {
					return err
				}
				types[i] = ti
			}
			names := make([]string, len(t.cols))
			for i, c := range t.cols {
				names[i] = c.name
			}
			var err error
			a, err = duckdb.NewQueryAppender(dc.(driver.Conn), fmt.Sprintf(t.insertSQL, "appended_data"), "appended_data", types, names)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			t.state = a
		}
		row := make([]driver.Value, rec.NumCols())
		for r := 0; r < int(rec.NumRows()); r++ {
			for i := range row {
				row[i] = value(rec.Column(i), r)
			}
			if err := a.AppendRow(row...); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
		return a.FlushWithCancel(ctx)
	})
}

func (w *Writer) closeTable(t *Table) error {
	a, _ := t.state.(*duckdb.Appender)
	if a == nil {
		return nil
	}
	t.state = nil
	var err error
	w.conn.Raw(func(any) error { err = a.Close(); return nil })
	return err
}

func typeInfo(k kind) (duckdb.TypeInfo, error) {
	simple := map[kind]duckdb.Type{
		kString: duckdb.TYPE_VARCHAR, kInt8: duckdb.TYPE_TINYINT, kInt16: duckdb.TYPE_SMALLINT,
		kInt32: duckdb.TYPE_INTEGER, kInt64: duckdb.TYPE_BIGINT, kUint8: duckdb.TYPE_UTINYINT,
		kUint16: duckdb.TYPE_USMALLINT, kUint32: duckdb.TYPE_UINTEGER, kUint64: duckdb.TYPE_UBIGINT,
		kFloat64: duckdb.TYPE_DOUBLE, kBool: duckdb.TYPE_BOOLEAN, kTimeUS: duckdb.TYPE_TIMESTAMP_TZ,
		kTimeNS: duckdb.TYPE_TIMESTAMP_NS,
	}
	if t, ok := simple[k]; ok {
		return duckdb.NewTypeInfo(t)
	}
	str, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return nil, err
	}
	if k == kMap {
		return duckdb.NewMapInfo(str, str)
	}
	return duckdb.NewListInfo(str)
}

func value(col arrow.Array, r int) driver.Value {
	if col.IsNull(r) {
		return nil
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(r)
	case *array.Int8:
		return a.Value(r)
	case *array.Int16:
		return a.Value(r)
	case *array.Int32:
		return a.Value(r)
	case *array.Int64:
		return a.Value(r)
	case *array.Uint8:
		return a.Value(r)
	case *array.Uint16:
		return a.Value(r)
	case *array.Uint32:
		return a.Value(r)
	case *array.Uint64:
		return a.Value(r)
	case *array.Float64:
		return a.Value(r)
	case *array.Boolean:
		return a.Value(r)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(r).ToTime(unit).UTC()
	case *array.Map:
		m := duckdb.Map{}
		keys := a.Keys().(*array.String)
		items := a.Items().(*array.String)
		start, end := a.ValueOffsets(r)
		for j := start; j < end; j++ {
			m[keys.Value(int(j))] = items.Value(int(j))
		}
		return m
	case *array.List:
		vals := a.ListValues().(*array.String)
		start, end := a.ValueOffsets(r)
		out := make([]any, 0, end-start)
		for j := start; j < end; j++ {
			out = append(out, vals.Value(int(j)))
		}
		return out
	}
	return nil
}
