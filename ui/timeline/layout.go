// Package timeline lays out one traced request as a swimlane diagram: a
// column per party of the path (client, load balancer, node, router pod,
// backend pod) and a row per hop, an arrow from lane to lane. It holds the
// geometry only, no Fyne, so that it can be tested as numbers; the GUI's
// widget draws what it computes.
//
// Rows go in path order (client → load balancer → node → router →
// backend), and by time within a leg: a flow-log window, an access-log line
// and a capture stream of the same leg are different views of the same
// moment, which a strictly proportional time axis would scatter (flow-log
// windows start up to a minute away from their packets). Each row carries
// its time relative to the trace's first precise time.
package timeline

import (
	"fmt"
	"math"
	"strings"

	"dev.l4case/l4case/app"
)

// Geometry of a layout, in the canvas's units, at zoom 1.
const (
	Margin    = 16
	HeaderH   = 54 // lane names and addresses
	AxisW     = 96 // the time column at the left
	RowH      = 56
	MinLaneW  = 150
	ArrowHead = 7
	charW     = 7.5 // a character of the label font, roughly
)

// Lane is one column.
type Lane struct {
	ID, Label, Addr string
	X               float32 // centre
}

// Row is one hop drawn as an arrow between two lanes.
type Row struct {
	Hop    int     // index into the trace's hops
	Y      float32 // the arrow's height
	X1, X2 float32 // from the From lane's centre to the To lane's
	Dashed bool    // no evidence shows this hop
	Color  string  // ok, warn (an error, a reset, no response), bad (dropped, rejected), missing
	Time   string  // "+1.815 ms", or "missing"
	Label  string  // above the arrow: the source and the time spent, or why it is missing
	Tag    string  // the source, short: ELB log, flow log, capture, OpFlex
}

// Layout is a whole diagram.
type Layout struct {
	Lanes         []Lane
	Rows          []Row
	Width, Height float32
}

// Compute lays out t on a canvas width wide; zoom stretches the rows
// (1 is RowH apart).
func Compute(t *app.Trace, width, zoom float32) Layout {
	if zoom <= 0 {
		zoom = 1
	}
	var l Layout
	lanes := t.Lanes
	if len(lanes) == 0 {
		return Layout{Width: width, Height: HeaderH + 2*Margin}
	}
	laneW := max((width-2*Margin-AxisW)/float32(len(lanes)), MinLaneW)
	l.Width = 2*Margin + AxisW + laneW*float32(len(lanes))
	at := map[string]float32{}
	for i, ln := range lanes {
		x := Margin + AxisW + laneW*(float32(i)+0.5)
		at[ln.ID] = x
		fits := int(laneW / charW)
		l.Lanes = append(l.Lanes, Lane{ID: ln.ID, Label: Fit(ln.Label, fits), Addr: Fit(ln.Addr, fits), X: x})
	}
	y := float32(Margin + HeaderH)
	for i, h := range t.Hops {
		x1, ok1 := at[h.From]
		x2, ok2 := at[h.To]
		if !ok1 || !ok2 {
			continue
		}
		y += RowH * zoom
		r := Row{Hop: i, Y: y, X1: x1, X2: x2, Dashed: h.Status == "missing", Color: color(h.Status), Tag: Tag(h.Source)}
		if h.Start != nil {
			r.Time = Offset(h.OffsetMS)
		} else {
			r.Time = "missing"
		}
		switch {
		case h.Status == "missing":
			r.Label = r.Tag + ": " + h.Reason
		case h.Start != nil && h.End != nil:
			r.Label = fmt.Sprintf("%s · %s", r.Tag, Duration(h.DurationMS))
			if h.ENI != "" {
				r.Label += " · " + h.ENI
			}
			if h.Status != "ok" {
				r.Label += " · " + h.Status
			}
		default:
			r.Label = r.Tag
		}
		l.Rows = append(l.Rows, r)
	}
	l.Height = y + RowH*zoom/2 + Margin
	return l
}

// Fit shortens a name to n characters the way an engineer reads it: a
// node by its first DNS label (ip-10-0-134-187), a pod without its
// namespace, then cut in the middle.
func Fit(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	if i := strings.IndexByte(s, '.'); i > 0 && strings.HasPrefix(s, "ip-") {
		s = s[:i]
	} else if i := strings.LastIndexByte(s, '/'); i > 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	r := []rune(s)
	if len(r) <= n || n < 5 {
		return s
	}
	head := (n - 1) / 2
	return string(r[:head]) + "…" + string(r[len(r)-(n-1-head):])
}

// At is the row whose arrow is nearest to the point, within half a row,
// or -1.
func (l Layout) At(x, y float32) int {
	best, dist := -1, float32(math.MaxFloat32)
	for i, r := range l.Rows {
		lo, hi := min(r.X1, r.X2), max(r.X1, r.X2)
		if x < lo-Margin || x > hi+Margin {
			continue
		}
		if d := abs(r.Y - y); d < dist {
			best, dist = i, d
		}
	}
	if best >= 0 && dist > RowH/2 {
		return -1
	}
	return best
}

func abs(f float32) float32 {
	if f < 0 {
		return -f
	}
	return f
}

func color(status string) string {
	switch status {
	case "ok":
		return "ok"
	case "missing":
		return "missing"
	case "dropped", "rejected":
		return "bad"
	}
	return "warn"
}

// Tag names a source as the timeline shows it.
func Tag(source string) string {
	switch source {
	case "elb_log":
		return "ELB log"
	case "flow_log":
		return "flow log"
	case "capture":
		return "capture"
	case "opflex":
		return "OpFlex"
	}
	return source
}

// Offset is a time relative to the trace's start: ms up to a second, s after.
func Offset(ms float64) string { return app.OffsetText(ms) }

// Duration is a time spent.
func Duration(ms float64) string { return app.DurationText(ms) }
