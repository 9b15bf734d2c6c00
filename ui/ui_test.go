package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/query"
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
	g := testGUI(a, w)
	g.show(c)
	settle(g)
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
	want := []string{"1", "flowlog", "…/testdata/flowlogs/aws-docs-v2-broken.log", "1015 B", "7", "1"}
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

// caseWindow opens a case holding the AWS documentation's flow log records
// in a test window.
func caseWindow(t *testing.T) (*gui, func()) {
	t.Helper()
	ctx := context.Background()
	c, err := app.New(ctx, filepath.Join(t.TempDir(), "case"), "gui case")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Import(ctx, []string{"../testdata/flowlogs/aws-docs-v2-broken.log"}, app.ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	a := test.NewApp()
	w := test.NewWindow(nil)
	g := testGUI(a, w)
	g.show(c)
	settle(g)
	return g, func() { settle(g); w.Close(); a.Quit(); c.Close() }
}

// uiQueue holds what background work hands to the UI goroutine in tests.
var uiQueue = map[*gui]chan func(){}

// testGUI is a gui whose fyne.Do is a queue the test goroutine drains in
// settle, as Fyne's event loop would: widgets are touched by one goroutine.
func testGUI(a fyne.App, w fyne.Window) *gui {
	q := make(chan func())
	// The sender waits until f has run, so that work f starts is counted
	// in g.jobs before the work that sent f is done (settle relies on it).
	g := &gui{a: a, w: w, do: func(f func()) {
		ran := make(chan struct{})
		q <- func() { f(); close(ran) }
		<-ran
	}}
	uiQueue[g] = q
	return g
}

// settle runs queued UI work until no background work is left.
func settle(g *gui) {
	done := make(chan struct{})
	go func() { g.jobs.Wait(); close(done) }()
	q := uiQueue[g]
	for {
		select {
		case f := <-q:
			f()
		case <-done:
			return
		}
	}
}

func TestViewsScreenRunsAView(t *testing.T) {
	g, done := caseWindow(t)
	defer done()
	s := g.views
	at := -1
	for i, v := range s.views {
		if v.Name == "nacl_sg_diagnosis" {
			at = i
		}
	}
	s.list.Select(at)
	if s.title.Text != "Why was it rejected? NACL or security group  (nacl_sg_diagnosis)" || len(s.form.Items) != 3 {
		t.Fatalf("title %q, %d parameter fields", s.title.Text, len(s.form.Items))
	}
	s.params["verdict"].SetText("nacl_outbound")
	test.Tap(s.run)
	settle(g)
	r := s.results
	if len(r.cells) != 1 || r.cells[0][0] != "nacl_outbound" || r.cells[0][5] != "203.0.113.12" || !strings.HasPrefix(r.status.Text, "rows 1–1 (") {
		t.Fatalf("cells %v, status %q", r.cells, r.status.Text)
	}
	// A bad parameter is said in the status line, not in a panic.
	s.params["verdict"].SetText("")
	s.list.Select(indexOf(s.views, "rejects"))
	s.params["port"].SetText("ssh")
	test.Tap(s.run)
	settle(g)
	if !strings.Contains(r.status.Text, `parameter port: "ssh" is not an integer`) {
		t.Errorf("status %q", r.status.Text)
	}
	// Open in the console carries the view's SQL with its parameters.
	s.params["port"].SetText("3389")
	test.Tap(s.toSQL)
	if Screens[g.tabs.SelectedIndex()] != "sql" || !strings.Contains(g.console.editor.Text, "3389") {
		t.Errorf("console tab %d, SQL %q", g.tabs.SelectedIndex(), g.console.editor.Text)
	}
}

// "Athena SQL…" shows the view as Athena runs it, with the parameters
// filled in and the case's endpoints written in, and copies it; a view
// Athena cannot run says why.
func TestViewsScreenShowsAthenaSQL(t *testing.T) {
	g, done := caseWindow(t)
	defer done()
	s := g.views
	s.list.Select(indexOf(s.views, "rejects"))
	s.params["port"].SetText("3389")
	test.Tap(s.athena)
	settle(g)
	if s.athenaText == nil {
		t.Fatalf("no Athena SQL: %s", s.athenaErr)
	}
	sqlText := s.athenaText.Text
	for _, want := range []string{"WITH endpoints", "3389", "FROM flows"} {
		if !strings.Contains(sqlText, want) {
			t.Errorf("Athena SQL lacks %q:\n%s", want, sqlText)
		}
	}
	if strings.Contains(sqlText, "$port") || strings.Contains(sqlText, "GROUP BY ALL") {
		t.Errorf("DuckDB forms left:\n%s", sqlText)
	}
	var copyButton *widget.Button
	for _, o := range test.LaidOutObjects(g.w.Canvas().Overlays().Top()) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Copy" {
			copyButton = b
		}
	}
	if copyButton == nil {
		t.Fatal("no Copy button in the dialog")
	}
	test.Tap(copyButton)
	if got := g.a.Clipboard().Content(); got != sqlText {
		t.Errorf("clipboard %q", got)
	}
	s.list.Select(indexOf(s.views, "request_paths"))
	test.Tap(s.athena)
	settle(g)
	if s.athenaText != nil || !strings.Contains(s.athenaErr, "which only the case has") {
		t.Errorf("request_paths on Athena: %q", s.athenaErr)
	}
}

func indexOf(vs []query.View, name string) int {
	for i, v := range vs {
		if v.Name == name {
			return i
		}
	}
	return -1
}

func indexOfTable(ts []query.TableCount, name string) int {
	for i, tc := range ts {
		if tc.Table == name {
			return i
		}
	}
	return -1
}

func TestConsolePagesAndRefuses(t *testing.T) {
	g, done := caseWindow(t)
	defer done()
	s := g.console
	if i := indexOfTable(s.names, "elb_logs"); i < 0 || !s.names[i].View || s.names[i].Rows != -1 {
		t.Errorf("the view elb_logs is not listed as a view: %+v", s.names)
	}
	if i := indexOfTable(s.names, "flow_logs"); i < 0 || s.names[i].Rows != 7 {
		t.Fatalf("tables %v", s.names)
	}
	// Picking a table browses it.
	s.tree.Select("t:ingest_errors")
	settle(g)
	if c := s.results.cells; len(c) != 1 || c[0][2] != "4" || c[0][3] != "line" || !strings.Contains(c[0][4], "twenty-two") {
		t.Fatalf("ingest_errors: %v", c)
	}
	s.setSQL("SELECT range AS n FROM range(1200)")
	s.run()
	settle(g)
	r := s.results
	if len(r.cells) != pageSize || r.next.Disabled() || !r.prev.Disabled() || r.cells[0][0] != "0" {
		t.Fatalf("first page: %d rows, next disabled %v, status %q", len(r.cells), r.next.Disabled(), r.status.Text)
	}
	test.Tap(r.next)
	settle(g)
	test.Tap(r.next)
	settle(g)
	if len(r.cells) != 200 || r.cells[0][0] != "1000" || !r.next.Disabled() || !strings.HasPrefix(r.status.Text, "rows 1001–1200 (") {
		t.Fatalf("last page: %d rows, first %v, status %q", len(r.cells), r.cells[0], r.status.Text)
	}
	s.setSQL("SELECT *\nFROM read_csv('/etc/passwd')")
	s.run()
	settle(g)
	if !strings.Contains(r.status.Text, `Cannot access file "/etc/passwd"`) || !strings.Contains(r.status.Text, "LINE 2: FROM read_csv") {
		t.Errorf("status %q", r.status.Text)
	}
	if s.editor.CursorRow != 1 || s.editor.CursorColumn != 5 || len(r.cells) != 0 {
		t.Errorf("cursor at %d:%d, want the error's 1:5 (0-based); %d stale rows", s.editor.CursorRow, s.editor.CursorColumn, len(r.cells))
	}
	// Ctrl+Enter in the editor runs it.
	s.setSQL("SELECT 42 AS answer")
	s.editor.TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault})
	settle(g)
	if len(r.cells) != 1 || r.cells[0][0] != "42" {
		t.Errorf("Ctrl+Enter: %v %q", r.cells, r.status.Text)
	}
	// A table's columns are under it, with their type; a column tapped
	// says what it is and goes into the SQL at the cursor.
	cols := s.childUIDs("t:flow_logs")
	if len(cols) < 40 || cols[0] != "c:flow_logs.evidence_id" || s.nodeText("c:flow_logs.dstport") != "dstport  integer" {
		t.Fatalf("flow_logs columns %v", cols)
	}
	s.setSQL("SELECT  FROM flow_logs")
	s.editor.CursorRow, s.editor.CursorColumn = 0, 7
	s.tree.Select("c:flow_logs.dstport")
	if s.editor.Text != "SELECT dstport FROM flow_logs" || !strings.Contains(s.about.Text, "destination port") {
		t.Errorf("column tapped: SQL %q, about %q", s.editor.Text, s.about.Text)
	}
	// What ran is in the history, newest first, and comes back from it.
	if h := s.history.Options; len(h) < 4 || h[0] != "SELECT 42 AS answer" || h[1] != "SELECT *\nFROM read_csv('/etc/passwd')" {
		t.Errorf("history %q", h)
	}
	s.history.SetSelected("SELECT range AS n FROM range(1200)")
	if s.editor.Text != "SELECT range AS n FROM range(1200)" {
		t.Errorf("history picked: %q", s.editor.Text)
	}
	if h := g.c.History(); len(h) != len(s.history.Options) {
		t.Errorf("the case keeps %d statements, the console shows %d", len(h), len(s.history.Options))
	}
}

func TestExportFromTheGUI(t *testing.T) {
	g, done := caseWindow(t)
	defer done()
	out := filepath.Join(t.TempDir(), "rejects.csv")
	sqlText, err := g.c.ViewSQL("rejects", map[string]string{"port": "3389"})
	if err != nil {
		t.Fatal(err)
	}
	g.exportTo(sqlText, out)
	settle(g)
	b, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(b), "srcaddr,dstaddr,dstport,") || strings.Count(string(b), "\n") != 2 || !strings.Contains(string(b), "172.31.9.69,172.31.9.12,3389,TCP") {
		t.Errorf("export: %v\n%s", err, b)
	}
	// The console still works after the export had the database alone.
	g.console.setSQL("SELECT count(*) FROM flow_logs")
	g.console.run()
	settle(g)
	if c := g.console.results.cells; len(c) != 1 || c[0][0] != "7" {
		t.Errorf("after export: %v", c)
	}
}

// The window has a File menu with the usual shortcuts, a case opened is
// remembered, and the welcome screen offers it again.
func TestMenuAndRecentCases(t *testing.T) {
	ctx := context.Background()
	c, err := app.New(ctx, filepath.Join(t.TempDir(), "case"), "recent")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a := test.NewApp()
	defer a.Quit()
	w := test.NewWindow(nil)
	defer w.Close()
	g := testGUI(a, w)
	g.create(c, Start{Screen: "evidence"})
	settle(g)
	var items []string
	for _, m := range w.MainMenu().Items {
		for _, it := range m.Items {
			if it.IsSeparator {
				continue
			}
			sc := ""
			if s, ok := it.Shortcut.(*desktop.CustomShortcut); ok {
				sc = " " + s.ShortcutName()
			}
			items = append(items, m.Label+"/"+it.Label+sc)
		}
	}
	want := []string{"File/Open case folder…" + " CustomDesktop:Control+O", "File/Open .l4case file…", "File/Save as .l4case…" + " CustomDesktop:Control+S", "File/Quit" + " CustomDesktop:Control+Q"}
	if strings.Join(items, "\n") != strings.Join(want, "\n") {
		t.Errorf("menu:\n%s\nwant\n%s", strings.Join(items, "\n"), strings.Join(want, "\n"))
	}
	w2 := test.NewWindow(nil)
	defer w2.Close()
	Create(a, w2, nil)
	found := false
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			if x.Text == c.Dir {
				found = true
			}
		case *fyne.Container:
			for _, ch := range x.Objects {
				walk(ch)
			}
		}
	}
	walk(w2.Content())
	if !found {
		t.Errorf("the welcome screen does not offer %s among the recent cases", c.Dir)
	}
}

// A file picked on the Evidence screen shows its whole path and hash, and
// its rejected records open in the console.
func TestEvidenceRowShowsHashAndRejected(t *testing.T) {
	g, done := caseWindow(t)
	defer done()
	s := g.evidence
	if got := s.rows[0][9]; got != "bc3a7bd0b1d5…" {
		t.Errorf("SHA-256 cell %q", got)
	}
	s.table.Select(widget.TableCellID{Row: 0, Col: 2})
	if !strings.Contains(s.status.Text, "SHA-256 bc3a7bd0b1d5a849cbef87099996da8b981062ceeca5287795f440c13479734e") ||
		!strings.Contains(s.status.Text, "../testdata/flowlogs/aws-docs-v2-broken.log") || !s.rejected.Visible() {
		t.Fatalf("status %q, Show rejected visible %v", s.status.Text, s.rejected.Visible())
	}
	test.Tap(s.copySHA)
	if got := g.a.Clipboard().Content(); got != "bc3a7bd0b1d5a849cbef87099996da8b981062ceeca5287795f440c13479734e" {
		t.Errorf("clipboard %q", got)
	}
	test.Tap(s.rejected)
	settle(g)
	if Screens[g.tabs.SelectedIndex()] != "sql" || len(g.console.results.cells) != 1 || !strings.Contains(g.console.results.cells[0][2], "twenty-two") {
		t.Errorf("rejected records: on %s, %v", Screens[g.tabs.SelectedIndex()], g.console.results.cells)
	}
}

// Copy puts a result cell on the clipboard, and its row on a second tap.
func TestResultsCopyCellAndRow(t *testing.T) {
	g, done := caseWindow(t)
	defer done()
	s := g.console
	s.setSQL("SELECT 1 AS a, 'x' AS b")
	s.run()
	settle(g)
	r := s.results
	r.table.Select(widget.TableCellID{Row: 0, Col: 1})
	test.Tap(r.copy)
	if got := g.a.Clipboard().Content(); got != "x" {
		t.Errorf("cell copied as %q", got)
	}
	test.Tap(r.copy)
	if got := g.a.Clipboard().Content(); got != "1\tx" {
		t.Errorf("row copied as %q", got)
	}
}

// A header sorts the whole result by its column: up, down, then back to
// the SQL's own order.
func TestResultsSortByHeader(t *testing.T) {
	g, done := caseWindow(t)
	defer done()
	s := g.console
	s.setSQL("SELECT * FROM (VALUES (2, 'b'), (3, NULL), (1, 'a')) t(n, s)")
	s.run()
	settle(g)
	r := s.results
	col := func(i int) string {
		var out []string
		for _, row := range r.cells {
			out = append(out, row[i])
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct{ sortBy, want string }{
		{"n", "1,2,3"}, {"n", "3,2,1"}, {"n", "2,3,1"}, {"s", "1,2,3"}, {"s", "2,1,3"},
	} {
		r.sortBy(c.sortBy)
		settle(g)
		if got := col(0); got != c.want {
			t.Errorf("after sorting by %s: n = %s, want %s (status %q)", c.sortBy, got, c.want, r.status.Text)
		}
	}
	// A header is a button that sorts by its column.
	b := widget.NewButton("", nil)
	r.table.UpdateHeader(widget.TableCellID{Row: -1, Col: 1}, b)
	if b.Text != "s ▼" {
		t.Errorf("header %q", b.Text)
	}
	test.Tap(b)
	settle(g)
	if got := col(0); got != "2,3,1" {
		t.Errorf("after tapping s's header: %s", got)
	}
}
