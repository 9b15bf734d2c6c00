package app

import (
	"context"
	"io"

	"dev.l4case/l4case/query"
)

// Console runs untrusted SQL and returns one page of its result.
func (c *Case) Console(ctx context.Context, sqlText string, offset, limit int) (*query.Page, error) {
	c.use.RLock()
	defer c.use.RUnlock()
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
	c.use.Lock()
	defer c.use.Unlock()
	if err := c.closeReader(); err != nil {
		return 0, err
	}
	return query.Export(ctx, c.DBPath(), sqlText, out, format)
}

// ExportTo is Export to a stream such as stdout.
func (c *Case) ExportTo(ctx context.Context, sqlText string, w io.Writer, format query.ExportFormat) (int64, error) {
	c.use.Lock()
	defer c.use.Unlock()
	if err := c.closeReader(); err != nil {
		return 0, err
	}
	return query.ExportTo(ctx, c.DBPath(), sqlText, w, format)
}

// Summary counts the rows of every table of the case.
func (c *Case) Summary(ctx context.Context) ([]query.TableCount, error) {
	c.use.RLock()
	defer c.use.RUnlock()
	db, err := c.Reader()
	if err != nil {
		return nil, err
	}
	return query.TableCounts(ctx, db)
}

// Views lists the saved views.
func (c *Case) Views() []query.View { return query.Views() }

// RunView runs a saved view with its parameters and returns one page.
func (c *Case) RunView(ctx context.Context, name string, args map[string]string, offset, limit int) (*query.Page, error) {
	sqlText, err := renderView(name, args)
	if err != nil {
		return nil, err
	}
	return c.Console(ctx, sqlText, offset, limit)
}

// ViewSQL is the SQL a view runs with these parameters (for export and the console).
func (c *Case) ViewSQL(name string, args map[string]string) (string, error) {
	return renderView(name, args)
}

func renderView(name string, args map[string]string) (string, error) {
	v, err := query.LookupView(name)
	if err != nil {
		return "", err
	}
	return v.Render(args)
}

// VerdictCount is how many conversations got a verdict, with one reason.
type VerdictCount struct {
	Verdict string
	Count   int64
	Example string
}

// Diagnosis sums up nacl_sg_diagnosis.
type Diagnosis struct {
	Verdicts      []VerdictCount
	SnapshotAfter bool // the EC2 snapshots postdate the flows
}

// DiagnosisSummary counts the diagnosis verdicts.
func (c *Case) DiagnosisSummary(ctx context.Context, args map[string]string) (*Diagnosis, error) {
	sqlText, err := renderView("nacl_sg_diagnosis", args)
	if err != nil {
		return nil, err
	}
	c.use.RLock()
	defer c.use.RUnlock()
	db, err := c.Reader()
	if err != nil {
		return nil, err
	}
	vs, after, err := query.SummarizeDiagnosis(ctx, db, sqlText)
	if err != nil {
		return nil, err
	}
	d := &Diagnosis{SnapshotAfter: after}
	for _, v := range vs {
		d.Verdicts = append(d.Verdicts, VerdictCount{Verdict: v.Verdict, Count: v.Count, Example: v.Example})
	}
	return d, nil
}

// SortedSQL is a query's result ordered by one of its columns, for result
// tables sorted by a header.
func SortedSQL(sqlText, column string, desc bool) string {
	return query.SortedSQL(sqlText, column, desc)
}

// BrowseSQL is the query that shows a table whole, for a console that lists
// the tables (the console pages it).
func BrowseSQL(table string) string { return query.BrowseSQL(table) }

// CapturePacketsSQL is the query that decodes one stream's packets from
// its capture (the capture_packets table function).
func CapturePacketsSQL(evidenceID int, stream int64) string {
	return query.CapturePacketsSQL(evidenceID, stream)
}
