package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/query"
)

// viewsScreen lists the saved views; picking one shows its description and
// a field per parameter, and runs it into a result table that can be paged
// and exported, or opened in the SQL console to be changed.
type viewsScreen struct {
	g       *gui
	views   []query.View
	list    *widget.List
	title   *widget.Label
	desc    *widget.Label
	form    *widget.Form
	params  map[string]*widget.Entry
	current *query.View
	run     *widget.Button
	export  *widget.Button
	toSQL   *widget.Button
	athena  *widget.Button
	results *results
	// What the last "Athena SQL…" showed: its text, or why not (tests).
	athenaText *widget.Entry
	athenaErr  string
	head       *fyne.Container
	right      *fyne.Container
	content    fyne.CanvasObject
}

func newViewsScreen(g *gui) *viewsScreen {
	s := &viewsScreen{g: g, views: g.c.Views()}
	s.list = widget.NewList(
		func() int { return len(s.views) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(s.views[i].Title) },
	)
	s.list.OnSelected = func(i widget.ListItemID) { s.pick(i) }
	s.title = widget.NewLabelWithStyle("Pick a view", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.desc = widget.NewLabel("")
	s.desc.Wrapping = fyne.TextWrapWord
	s.form = widget.NewForm()
	s.results = newResults(g, "view")
	s.run = widget.NewButton("Run", s.runView)
	s.export = widget.NewButton("Export…", func() {
		if sqlText, ok := s.sql(); ok {
			g.export(sqlText, s.current.Name)
		}
	})
	s.toSQL = widget.NewButton("Open in SQL console", func() {
		if sqlText, ok := s.sql(); ok {
			g.console.setSQL(sqlText)
			g.selectScreen("sql")
		}
	})
	s.athena = widget.NewButton("Athena SQL…", s.showAthena)
	for _, b := range []*widget.Button{s.run, s.export, s.toSQL, s.athena} {
		b.Disable()
	}
	s.head = container.NewVBox(s.title, s.desc, s.form, container.NewHBox(s.run, s.export, s.toSQL, s.athena))
	s.right = container.NewBorder(s.head, nil, nil, nil, s.results.content)
	split := container.NewHSplit(s.list, s.right)
	split.Offset = 0.22
	s.content = split
	return s
}

// pick shows view i's description and parameter fields.
func (s *viewsScreen) pick(i int) {
	v := s.views[i]
	s.current = &v
	s.title.SetText(v.Title + "  (" + v.Name + ")")
	s.desc.SetText(v.Description)
	s.params = map[string]*widget.Entry{}
	s.form = widget.NewForm()
	for _, p := range v.Params {
		e := widget.NewEntry()
		e.SetPlaceHolder(strings.ToLower(p.Type) + " — " + p.Doc)
		e.OnSubmitted = func(string) { s.runView() }
		s.params[p.Name] = e
		s.form.Append(p.Name, e)
	}
	// A new form changes the header's height: lay the screen out again.
	s.head.Objects[2] = s.form
	s.head.Refresh()
	s.right.Refresh()
	for _, b := range []*widget.Button{s.run, s.export, s.toSQL, s.athena} {
		b.Enable()
	}
}

// showAthena shows the view as Athena runs it over the logs in S3 (l4case
// athena view --case), the case's endpoints written in, to copy into
// Athena's console; or why the view runs in the case only.
func (s *viewsScreen) showAthena() {
	if s.current == nil {
		return
	}
	name, args, g := s.current.Name, s.args(), s.g
	g.background(func() {
		sqlText, err := g.c.AthenaView(context.Background(), name, args, time.Time{}, time.Time{})
		g.do(func() {
			if err != nil {
				s.athenaText, s.athenaErr = nil, err.Error()
				dialog.ShowInformation("Not on Athena", err.Error(), g.w)
				return
			}
			text := widget.NewMultiLineEntry()
			text.SetText(sqlText)
			text.Wrapping = fyne.TextWrapOff
			text.TextStyle = fyne.TextStyle{Monospace: true}
			copyButton := widget.NewButton("Copy", func() { g.a.Clipboard().SetContent(sqlText) })
			note := widget.NewLabel("The view in Athena's SQL, over the tables of 'l4case athena ddl'; 'l4case athena view " + name + " --run --case CASE' runs it and imports the result.")
			note.Wrapping = fyne.TextWrapWord
			d := dialog.NewCustom("Athena SQL: "+name, "Close", container.NewBorder(note, copyButton, nil, nil, text), g.w)
			d.Resize(fyne.NewSize(900, 600))
			s.athenaText, s.athenaErr = text, ""
			d.Show()
		})
	})
}

// sql is the current view's SQL with the parameters filled in; a bad
// parameter is said in the status line.
func (s *viewsScreen) sql() (string, bool) {
	if s.current == nil {
		return "", false
	}
	sqlText, err := s.g.c.ViewSQL(s.current.Name, s.args())
	if err != nil {
		s.results.status.SetText(err.Error())
		return "", false
	}
	return sqlText, true
}

// args are the parameters the user filled in; empty ones are not given.
func (s *viewsScreen) args() map[string]string {
	out := map[string]string{}
	for k, e := range s.params {
		if t := strings.TrimSpace(e.Text); t != "" {
			out[k] = t
		}
	}
	return out
}

func (s *viewsScreen) runView() {
	if s.current == nil {
		return
	}
	name, args := s.current.Name, s.args()
	c := s.g.c
	s.results.source = "view " + name
	sqlText, err := c.ViewSQL(name, args)
	if err != nil {
		s.results.status.SetText(err.Error())
		return
	}
	s.results.runSQL(sqlText)
}
