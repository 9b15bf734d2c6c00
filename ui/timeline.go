package ui

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/ui/timeline"
)

// timelineScreen traces one request (typed, or picked from a result row)
// and draws its path; a tap on a hop shows its evidence.
type timelineScreen struct {
	g        *gui
	input    *widget.Entry
	trace    *widget.Button
	summary  *widget.Label
	diagram  *traceDiagram
	details  *widget.Label
	current  *app.Trace
	key      app.TraceKey // what current traced
	mark     *widget.Button
	gen      int // which trace is current; an older one's result is dropped
	content  fyne.CanvasObject
	onTraced func(*app.Trace, error) // tests and --screenshot wait on it
}

func newTimelineScreen(g *gui) *timelineScreen {
	s := &timelineScreen{g: g}
	s.input = widget.NewEntry()
	s.input.SetPlaceHolder("request-id, or client ip:port as the load balancer saw it")
	s.input.OnSubmitted = func(string) { s.traceInput() }
	s.trace = widget.NewButton("Trace", s.traceInput)
	zoomIn := widget.NewButton("+", func() { s.diagram.SetZoom(s.diagram.zoom * 1.25) })
	zoomOut := widget.NewButton("−", func() { s.diagram.SetZoom(s.diagram.zoom / 1.25) })
	s.summary = widget.NewLabel("")
	s.summary.Wrapping = fyne.TextWrapWord
	s.diagram = newTraceDiagram()
	s.diagram.OnSelect = s.showHop
	s.details = widget.NewLabel("Tap an arrow to see its evidence.")
	s.details.Wrapping = fyne.TextWrapWord
	s.details.TextStyle.Monospace = true
	s.mark = widget.NewButton("Bookmark…", func() {
		if s.current != nil {
			g.bookmark(app.TraceFinding(s.key, s.current, "", ""))
		}
	})
	s.mark.Disable()
	bar := container.NewBorder(nil, nil, widget.NewLabel("Trace"), container.NewHBox(s.trace, zoomOut, zoomIn, s.mark), s.input)
	split := container.NewVSplit(container.NewScroll(s.diagram), container.NewVScroll(s.details))
	split.Offset = 0.72
	s.content = container.NewBorder(container.NewVBox(bar, s.summary), nil, nil, nil, split)
	return s
}

func (s *timelineScreen) traceInput() {
	key, ok := timeline.KeyOf(s.input.Text)
	if !ok {
		s.summary.SetText("Type a request-id or a client ip:port.")
		return
	}
	s.show(key)
}

// show traces key off the UI goroutine and draws the result.
func (s *timelineScreen) show(key app.TraceKey) {
	s.gen++
	gen := s.gen
	s.summary.SetText("Tracing " + key.String() + "…")
	c := s.g.c
	s.g.background(func() {
		t, err := c.Trace(context.Background(), key)
		s.g.do(func() {
			if gen != s.gen {
				return
			}
			s.display(key, t, err)
			if s.onTraced != nil {
				s.onTraced(t, err)
			}
		})
	})
}

func (s *timelineScreen) display(key app.TraceKey, t *app.Trace, err error) {
	s.current, s.key = t, key
	if err != nil {
		s.mark.Disable()
		s.diagram.SetTrace(nil)
		msg := err.Error()
		if errors.Is(err, app.ErrNotTraced) {
			msg = key.String() + ": nothing in the case matches it (request_paths in Views lists what can be traced)."
		}
		s.summary.SetText(msg)
		s.details.SetText("")
		return
	}
	r := t.Request
	head := strings.TrimSpace(fmt.Sprintf("%s %s", r.Method, r.URI))
	if r.Status != 0 {
		head += fmt.Sprintf(" → %d", r.Status)
	}
	done := "complete"
	if !t.Complete {
		done = "incomplete"
	}
	s.summary.SetText(fmt.Sprintf("%s   %s\n%s: %s   (%s: %d of %d legs)", key, head, t.Outcome, t.Why, done, t.Found, t.Expected))
	s.diagram.SetTrace(t)
	s.mark.Enable()
	s.details.SetText("Tap an arrow to see its evidence.")
	s.input.SetText(inputText(key))
}

func inputText(k app.TraceKey) string {
	switch {
	case k.RequestID != "":
		return k.RequestID
	case k.Client != "":
		return k.Client
	}
	return ""
}

// ladderFrames is how many frames of a stream the ladder shows.
const ladderFrames = 60

// showHop shows what one hop rests on, and for a captured stream its
// packets as a ladder, read off the UI goroutine.
func (s *timelineScreen) showHop(i int) {
	if s.current == nil || i < 0 || i >= len(s.current.Hops) {
		return
	}
	h := s.current.Hops[i]
	text := hopText(h)
	s.details.SetText(text)
	if h.Packets == nil {
		return
	}
	labels := map[int64]string{}
	for _, e := range h.Evidence {
		if e.Unit == "frame" && e.Label != "first" && e.Label != "last" {
			labels[e.N] = e.Label
		}
	}
	a, b := s.laneAddr(h.From), s.laneAddr(h.To)
	c, gen, ref := s.g.c, s.gen, *h.Packets
	s.g.background(func() {
		pkts, err := c.ConversationPackets(context.Background(), ref, ladderFrames)
		s.g.do(func() {
			if gen != s.gen {
				return
			}
			if err != nil {
				s.details.SetText(text + "\n\npackets: " + err.Error())
				return
			}
			s.details.SetText(text + "\n\n" + timeline.Ladder(pkts, a, b, labels))
		})
	})
}

func (s *timelineScreen) laneAddr(id string) string {
	for _, l := range s.current.Lanes {
		if l.ID == id {
			return l.Addr
		}
	}
	return id
}

// hopText is a hop's details as the details pane shows them.
func hopText(h app.Hop) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s → %s   %s   %s\n", h.From, h.To, timeline.Tag(h.Source), h.Status)
	if h.Start != nil {
		fmt.Fprintf(&b, "at %s (%s), %s\n", h.Start.Format("15:04:05.000000"), timeline.Offset(h.OffsetMS), timeline.Duration(h.DurationMS))
	}
	if h.Summary != "" {
		b.WriteString(h.Summary + "\n")
	}
	if h.Reason != "" {
		b.WriteString("why missing: " + h.Reason + "\n")
	}
	if h.Match != "" {
		fmt.Fprintf(&b, "matched by %s (confidence %.2f)\n", h.Match, h.Confidence)
	}
	for _, e := range h.Evidence {
		label := ""
		if e.Label != "" {
			label = "  " + e.Label
		}
		fmt.Fprintf(&b, "  #%d %s %s %d%s\n", e.Evidence, path.Base(e.File), e.Unit, e.N, label)
	}
	return strings.TrimRight(b.String(), "\n")
}
