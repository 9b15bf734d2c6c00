package ui

import (
	"context"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"dev.l4case/l4case/app"
)

func TestEvidenceScreenListsTheCase(t *testing.T) {
	ctx := context.Background()
	c, err := app.New(ctx, filepath.Join(t.TempDir(), "case"), "gui case")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Import(ctx, []string{"../testdata/flowlogs/aws-docs-v2-broken.log"}, app.ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	a := test.NewApp()
	defer a.Quit()
	w := test.NewWindow(nil)
	defer w.Close()
	g := &gui{a: a, w: w}
	g.show(c)
	if w.Title() != "l4case — gui case" {
		t.Errorf("title %q", w.Title())
	}
	if _, ok := w.Content().(*container.AppTabs); !ok {
		t.Fatalf("content is %T", w.Content())
	}
	s := g.evidence
	if len(s.rows) != 1 {
		t.Fatalf("%d rows", len(s.rows))
	}
	want := []string{"1", "flowlog", "../testdata/flowlogs/aws-docs-v2-broken.log", "1015 B", "7", "1"}
	for i, v := range want {
		if s.rows[0][i] != v {
			t.Errorf("cell %d = %q, want %q", i, s.rows[0][i], v)
		}
	}
	if s.status.Text != "1 evidence files, 7 rows, 1 rejected records" {
		t.Errorf("status %q", s.status.Text)
	}
}

func TestWelcomeWithoutCase(t *testing.T) {
	a := test.NewApp()
	defer a.Quit()
	w := test.NewWindow(nil)
	defer w.Close()
	Create(a, w, nil)
	if w.Title() != "l4case" {
		t.Errorf("title %q", w.Title())
	}
	if w.Content() == nil {
		t.Fatal("no content")
	}
}
