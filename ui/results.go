package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/query"
	"dev.l4case/l4case/ui/timeline"
)

// pageSize is how many rows a result shows at a time: the case may hold
// hundreds of millions, and only a page is ever fetched.
const pageSize = 500

// fetchFunc fetches one page of a result; the caller says which.
type fetchFunc func(ctx context.Context, offset, limit int) (*query.Page, error)

// A results table's SQL can be sorted by a column: tapping a header sorts
// by it, tapping it again reverses, a third time goes back to the SQL's own order.

// results shows a query result a page at a time, with Previous/Next, a
// status line (rows shown, time taken, or the error with its position) and
// a Cancel button while a page is being computed.
type results struct {
	g       *gui
	fetch   fetchFunc
	sqlText string // what runSQL runs; sorted by sortCol when set
	sortCol string
	desc    bool
	page    *query.Page
	cells   [][]string
	table   *widget.Table
	status  *widget.Label
	prev    *widget.Button
	next    *widget.Button
	cancel  *widget.Button
	traceIt *widget.Button // traces the selected row, when it names a request
	key     app.TraceKey
	markRow *widget.Button // bookmarks the selected row as a finding
	copy    *widget.Button // copies the selected cell, or its row
	row     int            // the selected row, -1 for none
	col     int
	source  string // what the rows are, for a finding: "view rejects", "SQL console"
	stop    context.CancelFunc
	gen     int // which load is current; an older one's page is dropped
	content fyne.CanvasObject

	// onLoaded, when set, runs on the UI goroutine after every load.
	onLoaded func(err error)
}

func newResults(g *gui, source string) *results {
	r := &results{g: g, source: source}
	r.table = widget.NewTableWithHeaders(
		func() (int, int) {
			if r.page == nil {
				return 0, 0
			}
			return len(r.cells), len(r.page.Columns)
		},
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(r.cells[id.Row][id.Col])
		})
	// Cells are cut to their column; selecting one shows all of it.
	r.table.OnSelected = func(id widget.TableCellID) {
		if r.page != nil && id.Row >= 0 && id.Row < len(r.cells) && id.Col >= 0 {
			r.status.SetText(r.page.Columns[id.Col] + ": " + r.cells[id.Row][id.Col])
			r.row, r.col = id.Row, id.Col
			r.markRow.Show()
			r.copy.Show()
			if key, ok := timeline.KeyOfRow(r.page.Columns, r.cells[id.Row]); ok {
				r.key = key
				r.traceIt.Show()
			} else {
				r.traceIt.Hide()
			}
			r.content.Refresh()
		}
	}
	// Column headers are buttons that sort; row headers number the rows,
	// wide enough for a page deep into a result.
	r.table.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("0000000", nil)
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		return b
	}
	r.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		b := o.(*widget.Button)
		b.OnTapped = nil
		switch {
		case id.Row < 0 && id.Col >= 0 && r.page != nil:
			col := r.page.Columns[id.Col]
			text := col
			if col == r.sortCol {
				text += map[bool]string{false: " ▲", true: " ▼"}[r.desc]
			}
			b.SetText(text)
			b.OnTapped = func() { r.sortBy(col) }
		case id.Col < 0 && id.Row >= 0 && r.page != nil:
			b.SetText(fmt.Sprint(r.page.Offset + id.Row + 1))
		default:
			b.SetText("")
		}
	}
	r.status = widget.NewLabel("")
	r.status.Wrapping = fyne.TextWrapWord
	r.prev = widget.NewButton("Previous", func() { r.load(r.page.Offset - pageSize) })
	r.next = widget.NewButton("Next", func() { r.load(r.page.Offset + pageSize) })
	r.cancel = widget.NewButton("Cancel", func() {
		if r.stop != nil {
			r.stop()
		}
	})
	r.traceIt = widget.NewButton("Trace this", func() { r.g.openTrace(r.key) })
	r.markRow = widget.NewButton("Bookmark…", func() {
		if r.page != nil && r.row >= 0 && r.row < len(r.cells) {
			r.g.bookmark(app.RowFinding(r.source, r.page.Columns, r.cells[r.row], "", ""))
		}
	})
	// Copy: the cell; its whole row as tab-separated text when the Shift
	// key is not at hand (a second tap copies the row).
	r.copy = widget.NewButton("Copy", func() {
		if r.page == nil || r.row < 0 || r.row >= len(r.cells) {
			return
		}
		cell := r.cells[r.row][r.col]
		clip := r.g.a.Clipboard()
		if clip.Content() == cell {
			clip.SetContent(strings.Join(r.cells[r.row], "\t"))
			r.status.SetText("copied the row")
			return
		}
		clip.SetContent(cell)
		r.status.SetText("copied " + r.page.Columns[r.col] + " (Copy again for the whole row)")
	})
	r.copy.Hide()
	r.prev.Disable()
	r.next.Disable()
	r.cancel.Hide()
	r.traceIt.Hide()
	r.markRow.Hide()
	r.row = -1
	bar := container.NewBorder(nil, nil, nil, container.NewHBox(r.traceIt, r.markRow, r.copy, r.cancel, r.prev, r.next), r.status)
	r.content = container.NewBorder(nil, bar, nil, nil, r.table)
	return r
}

// runSQL runs SQL over the case a page at a time, sortable by a header.
func (r *results) runSQL(sqlText string) {
	r.sqlText, r.sortCol, r.desc = sqlText, "", false
	r.run(r.sqlFetch)
}

func (r *results) sqlFetch(ctx context.Context, offset, limit int) (*query.Page, error) {
	q := r.sqlText
	if r.sortCol != "" {
		q = app.SortedSQL(q, r.sortCol, r.desc)
	}
	return r.g.c.Console(ctx, q, offset, limit)
}

// sortBy sorts an SQL result by col: ascending, then descending, then as
// the SQL orders it.
func (r *results) sortBy(col string) {
	if r.sqlText == "" {
		return
	}
	switch {
	case r.sortCol != col:
		r.sortCol, r.desc = col, false
	case !r.desc:
		r.desc = true
	default:
		r.sortCol, r.desc = "", false
	}
	r.load(0)
}

// run starts a new result from its first page.
func (r *results) run(f fetchFunc) {
	r.fetch = f
	r.load(0)
}

// load fetches the page at offset off the UI goroutine.
func (r *results) load(offset int) {
	if r.fetch == nil || offset < 0 {
		return
	}
	if r.stop != nil {
		r.stop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	r.gen++
	gen := r.gen
	r.status.SetText("running…")
	r.cancel.Show()
	r.prev.Disable()
	r.next.Disable()
	fetch := r.fetch
	start := time.Now()
	r.g.background(func() {
		p, err := fetch(ctx, offset, pageSize)
		took := time.Since(start)
		cancel()
		var cells [][]string
		if err == nil {
			cells = texts(p) // formatting 500 rows is not the UI goroutine's job
		}
		r.g.do(func() {
			if gen != r.gen {
				return // superseded by a newer run
			}
			r.stop = nil
			r.cancel.Hide()
			r.show(p, cells, err, took)
			if r.onLoaded != nil {
				r.onLoaded(err)
			}
		})
	})
}

// texts is a page's values as the table shows them.
func texts(p *query.Page) [][]string {
	out := make([][]string, len(p.Rows))
	for i, row := range p.Rows {
		cells := make([]string, len(row))
		for j, v := range row {
			cells[j] = query.Text(v)
		}
		out[i] = cells
	}
	return out
}

// show displays a fetched page and its cell texts, or why there is none
// (UI goroutine).
func (r *results) show(p *query.Page, cells [][]string, err error, took time.Duration) {
	if err != nil {
		// No stale rows under a new query's error.
		r.page, r.cells = nil, nil
		r.table.Refresh()
		// Monospace so that DuckDB's caret points at the column.
		r.status.TextStyle.Monospace = true
		if errors.Is(err, context.Canceled) {
			r.status.SetText("cancelled")
		} else {
			r.status.SetText(err.Error())
		}
		r.content.Refresh() // the message may take several lines
		return
	}
	r.page, r.cells = p, cells
	for j, c := range p.Columns {
		r.table.SetColumnWidth(j, columnWidth(c, r.cells, j))
	}
	r.table.Refresh()
	r.table.ScrollToTop()
	r.table.UnselectAll()
	more := ""
	if p.More {
		more = ", more after"
	}
	r.status.TextStyle.Monospace = false
	r.content.Refresh() // back to a one-line status
	if len(p.Rows) == 0 {
		r.status.SetText(fmt.Sprintf("no rows (%s)", took.Round(time.Millisecond)))
	} else {
		r.status.SetText(fmt.Sprintf("rows %d–%d%s (%s)", p.Offset+1, p.Offset+len(p.Rows), more, took.Round(time.Millisecond)))
	}
	if p.Offset > 0 {
		r.prev.Enable()
	}
	if p.More {
		r.next.Enable()
	}
}

// columnWidth sizes a column to its header and the first rows' text,
// within bounds, as spreadsheet tools do on open.
func columnWidth(title string, cells [][]string, j int) float32 {
	n := len(title)
	for i := 0; i < len(cells) && i < 50; i++ {
		n = max(n, len([]rune(cells[i][j])))
	}
	return min(max(float32(n)*8+16, 60), 420)
}
