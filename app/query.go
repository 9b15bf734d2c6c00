package app

import (
	"context"
	"io"

	"dev.l4case/l4case/query"
)

// Console runs untrusted SQL and returns one page of its result.
func (c *Case) Console(ctx context.Context, sqlText string, offset, limit int) (*query.Page, error) {
	db, err := c.Reader()
	if err != nil {
		return nil, err
	}
	return query.Console(ctx, db, sqlText, offset, limit)
}

// Export streams the result of untrusted SQL to out as CSV or JSON lines
// and returns the number of rows written. The case's reader is closed for
// the duration: the export's sandbox may write out, the reader may not.
func (c *Case) Export(ctx context.Context, sqlText, out string, format query.ExportFormat) (int64, error) {
	if err := c.closeReader(); err != nil {
		return 0, err
	}
	return query.Export(ctx, c.DBPath(), sqlText, out, format)
}

// ExportTo is Export to a stream such as stdout.
func (c *Case) ExportTo(ctx context.Context, sqlText string, w io.Writer, format query.ExportFormat) (int64, error) {
	if err := c.closeReader(); err != nil {
		return 0, err
	}
	return query.ExportTo(ctx, c.DBPath(), sqlText, w, format)
}

// Summary counts the rows of every table of the case.
func (c *Case) Summary(ctx context.Context) ([]query.TableCount, error) {
	db, err := c.Reader()
	if err != nil {
		return nil, err
	}
	return query.TableCounts(ctx, db)
}
