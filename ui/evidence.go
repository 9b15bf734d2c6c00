package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
)

var evidenceCols = []struct {
	title string
	width float32
}{
	{"#", 40}, {"Kind", 70}, {"File", 360}, {"Size", 90}, {"Rows", 90}, {"Rejected", 80},
	{"Format", 260}, {"Node", 120}, {"Imported", 170}, {"SHA-256", 130},
}

// evidenceScreen lists the case's evidence and imports more.
type evidenceScreen struct {
	g       *gui
	rows    [][]string
	table   *widget.Table
	status  *widget.Label
	bar     *widget.ProgressBar
	cancel  *widget.Button
	stop    context.CancelFunc
	content fyne.CanvasObject

	evidence []app.Evidence // the rows' files
	selected int            // row picked, -1 for none
	copySHA  *widget.Button
	rejected *widget.Button

	collectForm *collectForm // kept between dialogs: a second run resumes the first
}

func newEvidenceScreen(g *gui) *evidenceScreen {
	s := &evidenceScreen{g: g, selected: -1}
	s.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(s.rows), len(evidenceCols) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.Truncation = fyne.TextTruncateEllipsis
			l.SetText(s.rows[id.Row][id.Col])
		})
	s.table.ShowHeaderColumn = false // the # column numbers the evidence
	s.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	s.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		if id.Row < 0 && id.Col >= 0 {
			l.TextStyle.Bold = true
			l.SetText(evidenceCols[id.Col].title)
		} else if id.Col < 0 && id.Row >= 0 {
			l.SetText(fmt.Sprint(id.Row + 1))
		}
	}
	for i, c := range evidenceCols {
		s.table.SetColumnWidth(i, c.width)
	}
	s.status = widget.NewLabel("")
	s.bar = widget.NewProgressBar()
	s.bar.Hide()
	s.cancel = widget.NewButton("Cancel", func() {
		if s.stop != nil {
			s.stop()
		}
	})
	s.cancel.Hide()
	// A row picked shows the whole path and hash, which the table cuts.
	s.table.OnSelected = func(id widget.TableCellID) {
		if id.Row < 0 || id.Row >= len(s.evidence) {
			return
		}
		s.selected = id.Row
		e := s.evidence[id.Row]
		s.status.SetText(fmt.Sprintf("#%d %s\nSHA-256 %s, imported %s", e.ID, e.Name, e.SHA256, e.ImportedAt.Format("2006-01-02 15:04:05 MST")))
		s.copySHA.Show()
		if e.Rejected > 0 {
			s.rejected.Show()
		} else {
			s.rejected.Hide()
		}
	}
	s.copySHA = widget.NewButton("Copy SHA-256", func() {
		if s.selected >= 0 {
			g.a.Clipboard().SetContent(s.evidence[s.selected].SHA256)
		}
	})
	s.rejected = widget.NewButton("Show rejected records", func() {
		if s.selected >= 0 {
			g.console.setSQL(app.RejectedSQL(s.evidence[s.selected].ID))
			g.console.run()
			g.selectScreen("sql")
		}
	})
	s.copySHA.Hide()
	s.rejected.Hide()
	importFiles := widget.NewButton("Import file…", func() {
		dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
			if err != nil || r == nil {
				return
			}
			r.Close()
			s.importPaths([]string{r.URI().Path()})
		}, g.w)
	})
	importDir := widget.NewButton("Import folder…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err != nil || u == nil {
				return
			}
			s.importPaths([]string{u.Path()})
		}, g.w)
	})
	s.collectForm = newCollectForm()
	collect := widget.NewButton("Collect from AWS…", s.showCollect)
	top := container.NewHBox(importFiles, importDir, collect, s.cancel, s.copySHA, s.rejected)
	bottom := container.NewBorder(nil, nil, nil, nil, container.NewVBox(s.bar, s.status))
	s.content = container.NewBorder(top, bottom, nil, nil, s.table)
	s.refresh()
	return s
}

// refresh reloads the list from the case manifest (UI goroutine).
func (s *evidenceScreen) refresh() {
	ev := s.g.c.Evidence()
	s.evidence = ev
	s.selected = -1
	s.rows = s.rows[:0]
	var rows, rejected int64
	for _, e := range ev {
		s.rows = append(s.rows, []string{
			fmt.Sprint(e.ID), e.Kind, shortPath(e.Name), app.SizeText(e.Size), fmt.Sprint(e.Rows), fmt.Sprint(e.Rejected),
			e.Format, e.Node, e.ImportedAt.Format("2006-01-02 15:04:05"), e.SHA256[:min(12, len(e.SHA256))] + "…",
		})
		rows += e.Rows
		rejected += e.Rejected
	}
	s.table.Refresh()
	s.status.SetText(fmt.Sprintf("%d evidence files, %d rows, %d rejected records", len(ev), rows, rejected))
}

// shortPath keeps a file's last three path elements, which name it
// (pcap/NODE/file, or the AWS key's date and object); a cell cut from the
// right would show only the part every file shares. The whole path is in
// the manifest and in l4case evidence.
func shortPath(p string) string {
	// Collected evidence is named by its URL: keep where it came from.
	if scheme, rest, ok := strings.Cut(p, "://"); ok {
		parts := strings.Split(rest, "/")
		if len(parts) <= 2 {
			return p
		}
		return scheme + "://" + parts[0] + "/…/" + parts[len(parts)-1]
	}
	parts := strings.Split(filepath.ToSlash(p), "/")
	if len(parts) <= 3 {
		return p
	}
	return "…/" + strings.Join(parts[len(parts)-3:], "/")
}

// importPaths imports off the UI goroutine, showing progress, cancellable.
func (s *evidenceScreen) importPaths(paths []string) {
	ctx, rep := s.begin()
	s.g.background(func() {
		report, err := s.g.c.Import(ctx, paths, app.ImportOptions{}, rep)
		cancelled := ctx.Err() != nil // before end cancels the finished work's context
		s.g.do(func() {
			s.end()
			if err != nil {
				dialog.ShowError(err, s.g.w)
				return
			}
			imported, skipped, failed := report.Counts()
			msg := fmt.Sprintf("%d imported, %d skipped, %d failed", imported, skipped, failed)
			if cancelled && failed > 0 {
				msg += " (cancelled: the file in progress was rolled back)"
			}
			s.status.SetText(msg)
			for _, f := range report.Files {
				// A cancel the user asked for is said above, not as an error.
				if f.Err != nil && !errors.Is(f.Err, context.Canceled) {
					dialog.ShowError(f.Err, s.g.w)
					break
				}
			}
		})
	})
}

// begin shows the progress bar and Cancel of background work on the
// case, and returns its context and the reporter that moves the bar.
func (s *evidenceScreen) begin() (context.Context, *uiReporter) {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.bar.SetValue(0)
	s.bar.Show()
	s.cancel.Show()
	return ctx, &uiReporter{s: s}
}

// end hides them again and lists the case's evidence (UI goroutine).
func (s *evidenceScreen) end() {
	if s.stop != nil {
		s.stop()
	}
	s.bar.Hide()
	s.cancel.Hide()
	s.stop = nil
	s.refresh()
}

// uiReporter forwards import progress to the widgets.
type uiReporter struct{ s *evidenceScreen }

func (r *uiReporter) Status(st app.ImportStatus) {
	r.s.g.do(func() {
		if st.Size > 0 {
			r.s.bar.SetValue(float64(st.Bytes) / float64(st.Size))
		}
		r.s.status.SetText(st.Line())
	})
}

// Collecting shows the downloads' progress before the import's.
func (r *uiReporter) Collecting(st app.CollectStatus) {
	r.s.g.do(func() {
		if st.BytesTotal > 0 {
			r.s.bar.SetValue(float64(st.Bytes) / float64(st.BytesTotal))
		}
		r.s.status.SetText(st.Line())
	})
}

func (r *uiReporter) Done(f app.FileResult) {
	if f.Evidence != nil {
		r.s.g.do(r.s.refresh)
	}
}
