package ui

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/ui/timeline"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/")

// tracedCase is a small generated incident: a few requests, one of them
// to a backend a NetworkPolicy drops, one HTTPS connection the security
// group blocks (an ELB line with nothing captured behind it).
func tracedCase(t *testing.T) (*app.Case, *gen.Truth) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	o := gen.Defaults()
	o.Out, o.Requests, o.Duration = filepath.Join(dir, "bundle"), 40, 2*time.Minute
	o.Scanners, o.SGBlock, o.NACLReturn, o.NotListening, o.NetPolDrops = 0, 1, 0, false, 1
	tr, err := gen.Generate(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := app.New(ctx, filepath.Join(dir, "case"), "timeline")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Import(ctx, []string{o.Out}, app.ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	return c, tr
}

func TestTimelineDrawsATrace(t *testing.T) {
	c, tr := tracedCase(t)
	defer c.Close()
	var dropped gen.TruthRequest
	for _, r := range tr.Requests {
		if r.Fault == "networkpolicy_drop" {
			dropped = r
		}
	}
	g, done := caseGUI(c)
	defer done()
	settle(g)
	g.selectScreen("timeline")
	s := g.timeline
	s.input.SetText(dropped.RequestID)
	s.traceInput()
	settle(g)
	if s.current == nil {
		t.Fatalf("no trace: %s", s.summary.Text)
	}
	if !strings.Contains(s.summary.Text, "dropped: OpFlex") || !strings.Contains(s.summary.Text, "complete: 5 of 5 legs") {
		t.Errorf("summary %q", s.summary.Text)
	}
	// A row per hop, in the trace's order, each tagged with its source;
	// the OpFlex drop in the error colour.
	rows := s.diagram.layout.Rows
	if len(rows) != len(s.current.Hops) {
		t.Fatalf("%d rows for %d hops", len(rows), len(s.current.Hops))
	}
	for i, r := range rows {
		h := s.current.Hops[r.Hop]
		if r.Hop != i || !strings.HasPrefix(r.Label, timeline.Tag(h.Source)) {
			t.Errorf("row %d: hop %d, label %q for a %s hop", i, r.Hop, r.Label, h.Source)
		}
		if h.Source == "opflex" && r.Color != "bad" {
			t.Errorf("the drop is drawn %s", r.Color)
		}
	}
	// Lanes are labelled with the path's names, shortened to fit.
	want := []string{"client", "ad80d53241f3f98c9b7d138ecbd0ad9f", dropped.Node, dropped.RouterPod, dropped.BackendPod}
	for i, l := range s.diagram.layout.Lanes {
		full := s.current.Lanes[i].Label
		if full != want[i] || l.Label != timeline.Fit(full, len([]rune(l.Label))) {
			t.Errorf("lane %d: %q drawn as %q, want %q", i, full, l.Label, want[i])
		}
	}
	// A tap on the node's capture arrow shows its frames.
	for i, r := range rows {
		if h := s.current.Hops[r.Hop]; h.Step == "lb_node" && h.Source == "capture" {
			s.diagram.Tapped(&fyne.PointEvent{Position: fyne.NewPos((r.X1+r.X2)/2, r.Y+2)})
			settle(g)
			if s.diagram.selected != i || !strings.Contains(s.details.Text, "PROXY v1 "+dropped.Client) || !strings.Contains(s.details.Text, "frame") {
				t.Errorf("tapped the capture row: selected %d, details %q", s.diagram.selected, s.details.Text)
			}
			// Its packets as a ladder: the handshake, the PROXY header, the
			// request, the 503 five seconds later.
			for _, want := range []string{" SYN ", "◀", " SYN-ACK ", " PSH-ACK len", "· PROXY", "· request", "· response 503"} {
				if !strings.Contains(s.details.Text, want) {
					t.Errorf("ladder lacks %q:\n%s", want, s.details.Text)
				}
			}
		}
	}
	golden(t, "timeline_dropped.png", g.w.Canvas().Capture())
}

// A connection the load balancer could not open: the ELB line only, every
// other hop dashed with its reason.
func TestTimelineMarksMissingHops(t *testing.T) {
	c, tr := tracedCase(t)
	defer c.Close()
	var client string
	for _, f := range tr.Faults {
		if f.Kind == "sg_block" {
			client = f.Clients[0]
		}
	}
	g, done := caseGUI(c)
	defer done()
	g.openTrace(app.TraceKey{Client: client})
	settle(g)
	if Screens[g.tabs.SelectedIndex()] != "timeline" || g.timeline.current == nil {
		t.Fatalf("tab %d, summary %q", g.tabs.SelectedIndex(), g.timeline.summary.Text)
	}
	var dashed, solid int
	for _, r := range g.timeline.diagram.layout.Rows {
		h := g.timeline.current.Hops[r.Hop]
		if r.Dashed != (h.Status == "missing") || r.Dashed && !strings.Contains(r.Label, h.Reason) {
			t.Errorf("row %q: dashed %v for status %s", r.Label, r.Dashed, h.Status)
		}
		if r.Dashed {
			dashed++
		} else {
			solid++
		}
	}
	if dashed < 3 || solid < 1 {
		t.Errorf("%d dashed, %d solid rows", dashed, solid)
	}
	golden(t, "timeline_missing.png", g.w.Canvas().Capture())
	// Something not in the case says so.
	g.timeline.input.SetText("no-such-request")
	g.timeline.traceInput()
	settle(g)
	if !strings.Contains(g.timeline.summary.Text, "nothing in the case matches it") || g.timeline.diagram.trace != nil {
		t.Errorf("unknown request: %q", g.timeline.summary.Text)
	}
}

// caseGUI opens c in a 1280x800 test window.
func caseGUI(c *app.Case) (*gui, func()) {
	a := test.NewApp()
	w := test.NewWindow(nil)
	w.Resize(fyne.NewSize(1280, 800))
	g := testGUI(a, w)
	g.show(c)
	settle(g)
	return g, func() { settle(g); w.Close(); a.Quit() }
}

// golden compares an image with testdata/NAME; go test -update rewrites it.
func golden(t *testing.T, name string, img image.Image) {
	t.Helper()
	path := filepath.Join("testdata", name)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./ui -run %s -update writes it)", err, t.Name())
	}
	wimg, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if !sameImage(img, wimg) {
		failed := filepath.Join(t.TempDir(), name)
		os.WriteFile(failed, buf.Bytes(), 0o644)
		t.Errorf("%s differs from the golden image; this run's is %s (go test ./ui -update rewrites it)", path, failed)
	}
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

// A case with flow logs opens on its diagnosis: one line per verdict with
// its count, and a verdict's connections, each traceable.
func TestDiagnosisScreen(t *testing.T) {
	c, tr := tracedCase(t)
	defer c.Close()
	g, done := caseGUI(c)
	defer done()
	g.startAt(Start{})
	settle(g)
	if Screens[g.tabs.SelectedIndex()] != "diagnosis" {
		t.Fatalf("opened on %s", Screens[g.tabs.SelectedIndex()])
	}
	s := g.diagnosis
	got := map[string]int64{}
	for _, v := range s.verdicts {
		got[v.Verdict] = v.Count
	}
	// One HTTPS connection the security group blocked: one verdict, though
	// both the ELB's ENI and the node's logged it.
	want := map[string]int64{}
	for _, f := range tr.Faults {
		if f.Kind == "sg_block" {
			want["sg_inbound"] += int64(len(f.Flows))
		}
	}
	if got["sg_inbound"] != want["sg_inbound"] || want["sg_inbound"] == 0 || got["blocked_at_peer"] != 0 {
		t.Errorf("verdicts %v, want sg_inbound %d and no blocked_at_peer", got, want["sg_inbound"])
	}
	if !strings.Contains(s.head.Text, "one verdict each") || !strings.Contains(s.head.Text, "taken after the incident") {
		t.Errorf("head %q", s.head.Text)
	}
	for i, v := range s.verdicts {
		if v.Verdict == "sg_inbound" {
			s.list.Select(i)
		}
	}
	settle(g)
	r := s.results
	if r.page == nil || len(r.cells) != int(want["sg_inbound"]) {
		t.Fatalf("%v rows for sg_inbound", len(r.cells))
	}
	col := map[string]int{}
	for i, c := range r.page.Columns {
		col[c] = i
	}
	if row := r.cells[0]; row[col["verdict"]] != "sg_inbound" || !strings.Contains(row[col["culprit"]], "has no inbound rule for tcp/30443") || row[col["enis"]] != "2" {
		t.Errorf("row %q", row)
	}
	r.table.Select(widget.TableCellID{Row: 0, Col: 0})
	if !r.traceIt.Visible() || r.key.Flow == nil {
		t.Fatalf("Trace this: visible %v, key %s, want its flow-log record", r.traceIt.Visible(), r.key)
	}
	// The refused connection traces: the REJECT on the node's ENI.
	test.Tap(r.traceIt)
	settle(g)
	if tr := g.timeline.current; tr == nil || tr.Outcome != "rejected" || Screens[g.tabs.SelectedIndex()] != "timeline" {
		t.Errorf("traced %v on %s: %q", tr != nil, Screens[g.tabs.SelectedIndex()], g.timeline.summary.Text)
	}
}

// A trace bookmarked with a note lists on the Findings screen, shows its
// note and what it showed, traces again from there, and can be removed.
func TestFindingsScreen(t *testing.T) {
	c, tr := tracedCase(t)
	defer c.Close()
	g, done := caseGUI(c)
	defer done()
	settle(g)
	r := tr.Requests[5]
	g.openTrace(app.TraceKey{RequestID: r.RequestID})
	settle(g)
	if g.timeline.mark.Disabled() {
		t.Fatal("Bookmark… is disabled after a trace")
	}
	f := app.TraceFinding(g.timeline.key, g.timeline.current, "", "")
	f.Note = "the router answered in time"
	g.findings.add(f)
	settle(g)
	s := g.findings
	if len(s.items) != 1 || s.items[0].Kind != "trace" || s.items[0].Ref != "request-id "+r.RequestID || !strings.HasPrefix(s.items[0].Title, "GET "+r.URI) {
		t.Fatalf("findings %+v; status %q; overlays %d", s.items, s.status.Text, len(g.w.Canvas().Overlays().List()))
	}
	s.list.Select(0)
	if !strings.Contains(s.detail.Text, "the router answered in time") || !strings.Contains(s.detail.Text, "lb_node capture") || !s.retrace.Visible() {
		t.Errorf("detail %q, retrace visible %v", s.detail.Text, s.retrace.Visible())
	}
	g.timeline.input.SetText("")
	test.Tap(s.retrace)
	settle(g)
	if Screens[g.tabs.SelectedIndex()] != "timeline" || g.timeline.key.RequestID != r.RequestID {
		t.Errorf("Trace it again: on %s, key %s", Screens[g.tabs.SelectedIndex()], g.timeline.key)
	}
	s.removeFinding(s.items[0].ID)
	settle(g)
	if len(s.items) != 0 || s.status.Text != "0 findings" {
		t.Errorf("after remove: %d, %q", len(s.items), s.status.Text)
	}
}

// The console lists capture_packets after the tables; tapped, it reads a
// stream of the first capture, which runs like any query.
func TestConsoleCapturePackets(t *testing.T) {
	c, _ := tracedCase(t)
	defer c.Close()
	g, done := caseGUI(c)
	defer done()
	s := g.console
	settle(g)
	roots := s.childUIDs("")
	if roots[len(roots)-1] != capturePacketsNode || s.nodeText(capturePacketsNode) != "capture_packets(evidence_id, stream)" {
		t.Fatalf("tree roots end with %q", roots[len(roots)-1])
	}
	s.tap(capturePacketsNode)
	if !strings.HasPrefix(s.editor.Text, "SELECT * FROM capture_packets(") || !strings.Contains(s.about.Text, "tcp.stream eq N") {
		t.Fatalf("SQL %q, about %q", s.editor.Text, s.about.Text)
	}
	s.run()
	settle(g)
	if r := s.results; len(r.cells) < 3 || r.page.Columns[1] != "frame" {
		t.Errorf("capture_packets: %d rows, status %q", len(r.cells), r.status.Text)
	}
}
