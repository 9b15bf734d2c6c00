package ui

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/query"
)

// consoleScreen is the SQL console: the case's tables on the left, the
// user's SQL above its result. The SQL runs in the case's sandbox (read
// only, no files, no network), a page at a time, and can be cancelled.
type consoleScreen struct {
	g       *gui
	editor  *sqlEntry
	tables  *widget.List
	names   []query.TableCount
	results *results
	content fyne.CanvasObject
}

// sqlEntry is a multi-line entry where Ctrl+Enter runs the SQL, as in
// Athena's and DBeaver's editors.
type sqlEntry struct {
	widget.Entry
	onRun func()
}

func newSQLEntry(onRun func()) *sqlEntry {
	e := &sqlEntry{onRun: onRun}
	e.MultiLine = true
	e.TextStyle = fyne.TextStyle{Monospace: true}
	e.Wrapping = fyne.TextWrapOff
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut runs the SQL on Ctrl+Enter and leaves the rest to Entry.
func (e *sqlEntry) TypedShortcut(s fyne.Shortcut) {
	if cs, ok := s.(*desktop.CustomShortcut); ok && cs.KeyName == fyne.KeyReturn && cs.Modifier == fyne.KeyModifierShortcutDefault {
		e.onRun()
		return
	}
	e.Entry.TypedShortcut(s)
}

func newConsoleScreen(g *gui) *consoleScreen {
	s := &consoleScreen{g: g}
	s.results = newResults(g, "SQL console")
	s.editor = newSQLEntry(s.run)
	// Put the cursor where DuckDB says the error is.
	s.results.onLoaded = func(err error) {
		var se *query.SQLError
		if errors.As(err, &se) && se.Line > 0 {
			s.editor.CursorRow = se.Line - 1
			s.editor.CursorColumn = max(se.Column-1, 0)
			s.editor.Refresh()
		}
	}
	s.editor.SetPlaceHolder("SQL over the case — Ctrl+Enter runs it. The console reads the case only: no files, no network, no writes.")
	s.tables = widget.NewList(
		func() int { return len(s.names) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if n := s.names[i]; n.View {
				o.(*widget.Label).SetText(n.Table + " (view)")
			} else {
				o.(*widget.Label).SetText(fmt.Sprintf("%s (%d)", n.Table, n.Rows))
			}
		})
	s.tables.OnSelected = func(i widget.ListItemID) {
		s.setSQL(app.BrowseSQL(s.names[i].Table))
		s.run()
		s.tables.UnselectAll()
	}
	run := widget.NewButton("Run", s.run)
	export := widget.NewButton("Export…", func() { g.export(s.editor.Text, "query") })
	bar := container.NewHBox(run, export)
	top := container.NewBorder(nil, bar, nil, nil, s.editor)
	split := container.NewVSplit(top, s.results.content)
	split.Offset = 0.3
	main := container.NewHSplit(s.tables, split)
	main.Offset = 0.18
	s.content = main
	s.refreshTables()
	return s
}

// refreshTables lists the tables with their row counts, off the UI goroutine.
func (s *consoleScreen) refreshTables() {
	c := s.g.c
	s.g.background(func() {
		names, err := c.Summary(context.Background())
		s.g.do(func() {
			if err == nil {
				s.names = names
				s.tables.Refresh()
			}
		})
	})
}

func (s *consoleScreen) setSQL(text string) { s.editor.SetText(text) }

func (s *consoleScreen) run() {
	text := s.editor.Text
	c := s.g.c
	s.results.run(func(ctx context.Context, offset, limit int) (*query.Page, error) {
		return c.Console(ctx, text, offset, limit)
	})
}
