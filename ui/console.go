package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/query"
)

// consoleScreen is the SQL console: the case's tables and views on the
// left, each with its columns and what schema.sql says of them (a table
// tapped is shown whole, a column tapped goes into the SQL at the cursor),
// the user's SQL above its result, and the SQL run before. The SQL runs in
// the case's sandbox (read only, no files, no network), a page at a time,
// and can be cancelled.
type consoleScreen struct {
	g       *gui
	editor  *sqlEntry
	tree    *widget.Tree
	names   []query.TableCount
	columns map[string][]query.ColumnInfo
	about   *widget.Label // what the tapped table or column is
	history *widget.Select
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
	s.columns = map[string][]query.ColumnInfo{}
	s.tree = widget.NewTree(s.childUIDs, s.isBranch,
		func(bool) fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(uid widget.TreeNodeID, _ bool, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.nodeText(uid)) })
	s.tree.OnSelected = s.tap
	s.about = widget.NewLabel("Tap a table to see it whole, a column to put its name in the SQL.")
	s.about.Wrapping = fyne.TextWrapWord
	s.history = widget.NewSelect(nil, func(sqlText string) {
		if sqlText != "" {
			s.setSQL(sqlText)
		}
	})
	s.history.PlaceHolder = "History"
	s.loadHistory("")
	run := widget.NewButton("Run", s.run)
	export := widget.NewButton("Export…", func() { g.export(s.editor.Text, "query") })
	bar := container.NewBorder(nil, nil, container.NewHBox(run, export), nil, s.history)
	top := container.NewBorder(nil, bar, nil, nil, s.editor)
	split := container.NewVSplit(top, s.results.content)
	split.Offset = 0.3
	side := container.NewVSplit(s.tree, container.NewVScroll(s.about))
	side.Offset = 0.75
	main := container.NewHSplit(side, split)
	main.Offset = 0.22
	s.content = main
	s.refreshTables()
	return s
}

// Tree node ids: "" the root, "t:NAME" a table or view, "c:NAME.COLUMN".
func (s *consoleScreen) childUIDs(uid widget.TreeNodeID) []widget.TreeNodeID {
	var out []widget.TreeNodeID
	switch {
	case uid == "":
		for _, n := range s.names {
			out = append(out, "t:"+n.Table)
		}
		out = append(out, capturePacketsNode)
	case strings.HasPrefix(uid, "t:"):
		for _, c := range s.columns[uid[2:]] {
			out = append(out, "c:"+c.Table+"."+c.Name)
		}
	}
	return out
}

func (s *consoleScreen) isBranch(uid widget.TreeNodeID) bool {
	return uid == "" || strings.HasPrefix(uid, "t:")
}

// capturePacketsNode is the table function that decodes a stream's
// packets from its capture: listed after the tables and views.
const capturePacketsNode = "f:capture_packets"

func (s *consoleScreen) nodeText(uid widget.TreeNodeID) string {
	if uid == capturePacketsNode {
		return "capture_packets(evidence_id, stream)"
	}
	if t, ok := strings.CutPrefix(uid, "t:"); ok {
		for _, n := range s.names {
			if n.Table == t {
				if n.View {
					return t + " (view)"
				}
				return fmt.Sprintf("%s (%d)", t, n.Rows)
			}
		}
	}
	if c, ok := s.column(uid); ok {
		return c.Name + "  " + strings.ToLower(c.Type)
	}
	return uid
}

func (s *consoleScreen) column(uid widget.TreeNodeID) (query.ColumnInfo, bool) {
	rest, ok := strings.CutPrefix(uid, "c:")
	if !ok {
		return query.ColumnInfo{}, false
	}
	table, name, _ := strings.Cut(rest, ".")
	for _, c := range s.columns[table] {
		if c.Name == name {
			return c, true
		}
	}
	return query.ColumnInfo{}, false
}

// tap shows a table whole, or puts a column's name in the SQL.
func (s *consoleScreen) tap(uid widget.TreeNodeID) {
	defer s.tree.UnselectAll()
	if uid == capturePacketsNode {
		s.about.SetText("capture_packets(evidence_id, stream): table function\nOne TCP stream's packets decoded from the kept capture (tshark's tcp.stream eq N), with the packets view's columns.")
		ev := 0
		for _, e := range s.g.c.Evidence() {
			if e.Kind == "pcap" {
				ev = e.ID
				break
			}
		}
		if ev > 0 {
			s.setSQL(app.CapturePacketsSQL(ev, 0))
		}
		return
	}
	if t, ok := strings.CutPrefix(uid, "t:"); ok {
		s.about.SetText(t)
		s.setSQL(app.BrowseSQL(t))
		s.run()
		return
	}
	if c, ok := s.column(uid); ok {
		about := c.Table + "." + c.Name + "  " + c.Type
		if c.Comment != "" {
			about += "\n" + c.Comment
		}
		s.about.SetText(about)
		for _, r := range c.Name {
			s.editor.TypedRune(r)
		}
	}
}

// loadHistory reads the history off the UI goroutine, after adding
// sqlText to it when that is not empty.
func (s *consoleScreen) loadHistory(sqlText string) {
	c := s.g.c
	s.g.background(func() {
		if sqlText != "" {
			c.AddHistory(sqlText)
		}
		h := c.History()
		s.g.do(func() {
			s.history.Options = h
			s.history.Refresh()
		})
	})
}

// refreshTables lists the tables with their row counts and columns, off
// the UI goroutine.
func (s *consoleScreen) refreshTables() {
	c := s.g.c
	s.g.background(func() {
		names, err := c.Summary(context.Background())
		cols, cerr := c.Columns(context.Background())
		s.g.do(func() {
			if err != nil || cerr != nil {
				return
			}
			s.names = names
			s.columns = map[string][]query.ColumnInfo{}
			for _, col := range cols {
				s.columns[col.Table] = append(s.columns[col.Table], col)
			}
			s.tree.Refresh()
		})
	})
}

func (s *consoleScreen) setSQL(text string) { s.editor.SetText(text) }

func (s *consoleScreen) run() {
	text := s.editor.Text
	s.loadHistory(text)
	s.results.runSQL(text)
}
