package ui

import (
	"bytes"
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/ui/timeline"
)

// findingsScreen lists the case's findings; one picked shows its note and
// what was seen, and can be traced again or removed; all of them export
// to Markdown or CSV.
type findingsScreen struct {
	g        *gui
	items    []app.Finding
	list     *widget.List
	detail   *widget.Label
	status   *widget.Label
	retrace  *widget.Button
	remove   *widget.Button
	selected int
	content  fyne.CanvasObject
	loaded   func() // tests wait on it
}

func newFindingsScreen(g *gui) *findingsScreen {
	s := &findingsScreen{g: g, selected: -1}
	s.list = widget.NewList(
		func() int { return len(s.items) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			f := s.items[i]
			o.(*widget.Label).SetText(fmt.Sprintf("%d. %s", f.ID, f.Title))
		})
	s.list.OnSelected = func(i widget.ListItemID) { s.pick(i) }
	s.detail = widget.NewLabel("Bookmark a trace on the Timeline, or a row of any result, with a note: it is kept in the case and travels inside a .l4case.")
	s.detail.Wrapping = fyne.TextWrapWord
	s.status = widget.NewLabel("")
	s.retrace = widget.NewButton("Trace it again", func() {
		if s.selected >= 0 {
			if key, ok := timeline.KeyOfRef(s.items[s.selected].Ref); ok {
				g.openTrace(key)
			}
		}
	})
	s.remove = widget.NewButton("Remove", func() {
		if s.selected < 0 {
			return
		}
		f := s.items[s.selected]
		dialog.ShowConfirm("Remove finding", fmt.Sprintf("Remove finding %d, %q?", f.ID, f.Title), func(ok bool) {
			if ok {
				s.removeFinding(f.ID)
			}
		}, g.w)
	})
	s.retrace.Hide()
	s.remove.Disable()
	exportMD := widget.NewButton("Export Markdown…", func() { s.export("md", "findings.md") })
	exportCSV := widget.NewButton("Export CSV…", func() { s.export("csv", "findings.csv") })
	top := container.NewHBox(exportMD, exportCSV, s.retrace, s.remove)
	split := container.NewHSplit(s.list, container.NewVScroll(s.detail))
	split.Offset = 0.35
	s.content = container.NewBorder(top, s.status, nil, nil, split)
	s.refresh()
	return s
}

// refresh reloads the findings off the UI goroutine.
func (s *findingsScreen) refresh() {
	c := s.g.c
	s.g.background(func() {
		fs, err := c.Findings(context.Background())
		s.g.do(func() {
			if err != nil {
				s.status.SetText("The findings could not be read: " + err.Error())
			} else {
				s.items = fs
				s.status.SetText(fmt.Sprintf("%d findings", len(fs)))
			}
			s.selected = -1
			s.list.UnselectAll()
			s.list.Refresh()
			s.remove.Disable()
			s.retrace.Hide()
			if s.loaded != nil {
				s.loaded()
			}
		})
	})
}

func (s *findingsScreen) pick(i int) {
	if i < 0 || i >= len(s.items) {
		return
	}
	s.selected = i
	f := s.items[i]
	text := fmt.Sprintf("%d. %s\n%s, %s, %s", f.ID, f.Title, f.Kind, f.Author, f.Created.Format("2006-01-02 15:04 MST"))
	if f.Ref != "" {
		text += "\n" + f.Ref
	}
	if f.Note != "" {
		text += "\n\n" + f.Note
	}
	if f.Data != "" {
		text += "\n\n" + f.Data
	}
	s.detail.SetText(text)
	s.remove.Enable()
	if _, ok := timeline.KeyOfRef(f.Ref); ok && f.Kind == "trace" {
		s.retrace.Show()
	} else {
		s.retrace.Hide()
	}
}

// add stores a finding off the UI goroutine.
func (s *findingsScreen) add(f app.Finding) {
	c := s.g.c
	s.g.background(func() {
		id, err := c.AddFinding(context.Background(), f)
		s.g.do(func() {
			if err != nil {
				dialog.ShowError(err, s.g.w)
				return
			}
			s.status.SetText(fmt.Sprintf("added finding #%d: %s", id, f.Title))
			s.refresh()
		})
	})
}

func (s *findingsScreen) removeFinding(id int) {
	c := s.g.c
	s.g.background(func() {
		err := c.RemoveFinding(context.Background(), id)
		s.g.do(func() {
			if err != nil {
				dialog.ShowError(err, s.g.w)
				return
			}
			s.refresh()
		})
	})
}

// export writes every finding to a file the user picks.
func (s *findingsScreen) export(format, name string) {
	c := s.g.c
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		s.g.background(func() {
			var buf bytes.Buffer
			err := c.ExportFindings(context.Background(), &buf, format)
			if err == nil {
				_, err = w.Write(buf.Bytes())
			}
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			s.g.do(func() {
				if err != nil {
					dialog.ShowError(err, s.g.w)
					return
				}
				s.status.SetText("wrote " + w.URI().Path())
			})
		})
	}, s.g.w)
	d.SetFileName(name)
	d.SetFilter(storage.NewExtensionFileFilter([]string{"." + format}))
	d.Show()
}

// bookmark asks for a note, then stores f with it.
func (g *gui) bookmark(f app.Finding) {
	title := widget.NewEntry()
	title.SetText(f.Title)
	note := widget.NewMultiLineEntry()
	note.SetPlaceHolder("What it shows, what to do about it")
	note.SetMinRowsVisible(4)
	d := dialog.NewForm("Bookmark as a finding", "Save", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Title", title), widget.NewFormItem("Note", note),
	}, func(ok bool) {
		if !ok {
			return
		}
		f.Title, f.Note = title.Text, note.Text
		g.findings.add(f)
	}, g.w)
	d.Resize(fyne.NewSize(640, 320))
	d.Show()
}
