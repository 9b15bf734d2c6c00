//go:build duckdb_arrow

package ingest

import (
	"context"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// InsertPath says how batches reach DuckDB in this build.
const InsertPath = "arrow"

// insertBatch hands an Arrow batch to DuckDB as a view and inserts from it:
// DuckDB reads the columns as they are, without a value-by-value copy.
func (w *Writer) insertBatch(ctx context.Context, t *Table, rec arrow.RecordBatch) error {
	return w.conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rdr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
		if err != nil {
			return err
		}
		defer rdr.Release()
		view := "l4case_batch_" + t.name
		release, err := ar.RegisterView(rdr, view)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		defer release()
		_, err = dc.(driver.ExecerContext).ExecContext(ctx, fmt.Sprintf(t.insertSQL, view), nil)
		return err
	})
}

func (w *Writer) closeTable(*Table) error { return nil }
