package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"dev.l4case/l4case/gen"
)

// onUIGoroutine runs a handler as the UI goroutine would and fails the test
// if it does not return while nobody runs the work it queued for the UI: a
// handler that waited for its import or query would never return here, as
// the window would freeze in the real app. (In tests the test goroutine is
// the UI goroutine: queued work runs only when settle or pump runs it.)
func onUIGoroutine(t *testing.T, what string, handler func()) {
	t.Helper()
	returned := make(chan struct{})
	go func() { handler(); close(returned) }()
	select {
	case <-returned:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not return: its work runs on the UI goroutine", what)
	}
}

// pump runs one piece of work queued for the UI goroutine.
func pump(t *testing.T, g *gui) {
	t.Helper()
	select {
	case f := <-uiQueue[g]:
		f()
	case <-time.After(20 * time.Second):
		t.Fatal("no UI update came from the background work")
	}
}

// TestNoWorkOnTheUIGoroutine drops a bundle of captures and logs on the
// window and runs a query that takes minutes: both return at once, show
// progress, and stop on Cancel, while the UI goroutine stays free.
func TestNoWorkOnTheUIGoroutine(t *testing.T) {
	bundle := t.TempDir()
	o := gen.Defaults()
	o.Out, o.Requests = bundle, 400
	if _, err := gen.Generate(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var files int
	filepath.WalkDir(bundle, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, "truth.json") {
			files++
		}
		return nil
	})
	if files < 5 {
		t.Fatalf("the bundle has %d files", files)
	}

	// Not deferred: after a failure the case's cleanup would wait on the
	// stuck handler.
	g, done := caseWindow(t)
	before := len(g.evidence.rows)
	g.selectScreen("sql")

	// Dropping the folder on the window imports it in the background.
	onUIGoroutine(t, "the drop handler", func() { g.dropped([]fyne.URI{storage.NewFileURI(bundle)}) })
	s := g.evidence
	if g.tabs.Selected().Text != "Evidence" || !s.bar.Visible() || !s.cancel.Visible() {
		t.Fatalf("during the import: screen %q, progress shown %v, Cancel shown %v", g.tabs.Selected().Text, s.bar.Visible(), s.cancel.Visible())
	}
	// The UI takes the import's progress as it comes, then cancels it.
	pump(t, g)
	test.Tap(s.cancel)
	settle(g)
	imported := len(s.rows) - before
	if s.bar.Visible() || s.cancel.Visible() || !strings.Contains(s.status.Text, "cancelled") || imported >= files {
		t.Errorf("after Cancel: progress shown %v, Cancel shown %v, status %q, %d of %d files imported", s.bar.Visible(), s.cancel.Visible(), s.status.Text, imported, files)
	}
	if n := len(g.c.Evidence()); n != len(s.rows) {
		t.Errorf("the case holds %d files, the screen lists %d", n, len(s.rows))
	}

	// A query that would take minutes: Run returns, Cancel stops it.
	c := g.console
	c.setSQL("SELECT count(*) FROM range(1000000000000) a WHERE a.range % 7 = 3")
	onUIGoroutine(t, "Run", c.run)
	r := c.results
	if r.status.Text != "running…" || !r.cancel.Visible() {
		t.Fatalf("while the query runs: status %q, Cancel shown %v", r.status.Text, r.cancel.Visible())
	}
	test.Tap(r.cancel)
	settle(g)
	if r.status.Text != "cancelled" || r.cancel.Visible() {
		t.Errorf("after Cancel: status %q, Cancel shown %v", r.status.Text, r.cancel.Visible())
	}
	done()
}
