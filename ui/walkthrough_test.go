package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// button finds the visible button labelled text under o.
func button(o fyne.CanvasObject, text string) *widget.Button {
	switch v := o.(type) {
	case *widget.Button:
		if v.Text == text && v.Visible() {
			return v
		}
	case *fyne.Container:
		for _, c := range v.Objects {
			if b := button(c, text); b != nil {
				return b
			}
		}
	case fyne.Widget:
		r := test.WidgetRenderer(v)
		for _, c := range r.Objects() {
			if b := button(c, text); b != nil {
				return b
			}
		}
	}
	return nil
}

// TestNewUserFindsARefusedRequest walks the way a new user takes, with
// nothing but what the screens show: the start screen's "Open the demo";
// the case opens on its diagnosis; the first verdict, its first
// connection, "Trace this"; the timeline draws that request's path with
// the hop that failed and why. Five taps, each on a control labelled for
// what it does (the "under a minute without reading docs").
func TestNewUserFindsARefusedRequest(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the demo case is built here
	a := test.NewApp()
	defer a.Quit()
	w := test.NewWindow(nil)
	defer w.Close()
	w.Resize(fyne.NewSize(1280, 800))
	g := testGUI(a, w)
	g.create(nil, Start{})

	// 1. The start screen offers the demo.
	demo := button(w.Content(), "Open the demo")
	if demo == nil {
		t.Fatal(`the start screen has no "Open the demo"`)
	}
	test.Tap(demo)
	settle(g)
	if g.c == nil {
		t.Fatal("the demo case did not open")
	}
	defer g.c.Close()
	// 2. It opens on the diagnosis, which lists the verdicts.
	if Screens[g.tabs.SelectedIndex()] != "diagnosis" {
		t.Fatalf("the demo opened on %s", Screens[g.tabs.SelectedIndex()])
	}
	d := g.diagnosis
	if len(d.verdicts) < 3 {
		t.Fatalf("the demo's diagnosis lists %d verdicts", len(d.verdicts))
	}
	// 3. The first verdict's connections; 4. the first of them.
	d.list.Select(0)
	settle(g)
	r := d.results
	if len(r.cells) == 0 {
		t.Fatalf("verdict %s lists no connection: %q", d.verdicts[0].Verdict, r.status.Text)
	}
	r.table.Select(widget.TableCellID{Row: 0, Col: 0})
	// 5. "Trace this".
	trace := button(d.content, "Trace this")
	if trace == nil {
		t.Fatalf("no Trace this for the first %s connection (key %v)", d.verdicts[0].Verdict, r.key)
	}
	test.Tap(trace)
	settle(g)
	if Screens[g.tabs.SelectedIndex()] != "timeline" {
		t.Fatalf("Trace this went to %s", Screens[g.tabs.SelectedIndex()])
	}
	tr := g.timeline.current
	if tr == nil {
		t.Fatalf("no trace drawn: %q", g.timeline.summary.Text)
	}
	// The path shows where it failed: a hop refused or not seen, with why.
	var failed, explained int
	for _, h := range tr.Hops {
		if h.Status != "ok" {
			failed++
			if h.Reason != "" || h.Summary != "" {
				explained++
			}
		}
	}
	if failed == 0 || explained != failed || g.timeline.diagram.trace != tr {
		t.Errorf("the traced path of %s shows %d failed hops, %d explained:\n%s", d.verdicts[0].Verdict, failed, explained, g.timeline.summary.Text)
	}
	if !strings.Contains(g.timeline.summary.Text, tr.Request.Client) {
		t.Errorf("the summary does not name the client %s: %q", tr.Request.Client, g.timeline.summary.Text)
	}
	t.Logf("%s → %s", d.verdicts[0].Verdict, g.timeline.summary.Text)
}
