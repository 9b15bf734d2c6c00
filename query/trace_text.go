package query

import (
	"fmt"
	"io"
	"path"
	"strings"
)

var laneNames = map[string]string{"client": "client", "lb": "lb", "node": "node", "router": "router", "backend": "backend"}

// WriteTraceText writes a trace as a readable hop list, times relative to
// the first hop.
func WriteTraceText(w io.Writer, t *Trace) error {
	var b strings.Builder
	r := t.Request
	fmt.Fprintf(&b, "trace of %s", t.Query)
	if r.Method != "" || r.URI != "" {
		fmt.Fprintf(&b, ": %s %s", r.Method, r.URI)
	}
	if r.Status != 0 {
		fmt.Fprintf(&b, " → %d", r.Status)
	}
	b.WriteString("\n")
	if r.RequestID != "" {
		fmt.Fprintf(&b, "request-id %s", r.RequestID)
		if r.Client != "" {
			b.WriteString(", ")
		}
	}
	if r.Client != "" {
		fmt.Fprintf(&b, "client %s", r.Client)
	}
	if r.RequestID != "" || r.Client != "" {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "outcome: %s — %s\n", t.Outcome, t.Why)
	done := "complete"
	if !t.Complete {
		done = "incomplete"
	}
	fmt.Fprintf(&b, "%s: %d of %d legs found", done, t.Found, t.Expected)
	if !t.Start.IsZero() {
		fmt.Fprintf(&b, ", first at %s", t.Start.UTC().Format("2006-01-02T15:04:05.000000Z"))
	}
	b.WriteString("\n\npath:\n")
	for _, l := range t.Lanes {
		if l.Addr == "" && l.Label == "" {
			continue
		}
		fmt.Fprintf(&b, "  %-8s %-22s %s", l.ID, orDash(l.Addr), l.Label)
		if l.ENI != "" {
			fmt.Fprintf(&b, " (%s)", l.ENI)
		}
		b.WriteString("\n")
	}
	b.WriteString("\nhops:\n")
	for _, h := range t.Hops {
		when := "   missing"
		if h.Start != nil {
			when = offsetText(h.OffsetMS)
		}
		leg := laneNames[h.From] + " → " + laneNames[h.To]
		src := h.Source
		if h.ENI != "" && h.Source == "flow_log" {
			src += " " + h.ENI
		}
		fmt.Fprintf(&b, "  %s  %-17s %-30s %-11s", when, leg, src, h.Status)
		if h.Start != nil {
			fmt.Fprintf(&b, " %s", DurationText(h.DurationMS))
		}
		b.WriteString("\n")
		if h.Summary != "" {
			fmt.Fprintf(&b, "              %s\n", h.Summary)
		}
		if h.Reason != "" {
			fmt.Fprintf(&b, "              why: %s\n", h.Reason)
		}
		if h.Match != "" {
			fmt.Fprintf(&b, "              matched by %s (confidence %.2f)\n", h.Match, h.Confidence)
		}
		if len(h.Evidence) > 0 {
			var refs []string
			file := ""
			for _, e := range h.Evidence {
				s := fmt.Sprintf("%s %d", e.Unit, e.N)
				if e.Label != "" {
					s += " " + e.Label
				}
				if e.File != file {
					file = e.File
					s = fmt.Sprintf("#%d %s %s", e.Evidence, path.Base(e.File), s)
				}
				refs = append(refs, s)
			}
			fmt.Fprintf(&b, "              evidence: %s\n", strings.Join(refs, ", "))
		}
	}
	if len(t.Skew) > 0 {
		b.WriteString("\nskew (against the capture of the node):\n")
		for _, s := range t.Skew {
			fmt.Fprintf(&b, "  %-36s %s  %s\n", s.Source, OffsetText(s.OffsetMS), s.Note)
		}
	}
	for _, a := range t.Ambiguous {
		fmt.Fprintf(&b, "ambiguous: %s\n", a)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// offsetText is an offset in the hop list's fixed-width column.
func offsetText(ms float64) string {
	if ms > -1000 && ms < 1000 {
		return fmt.Sprintf("%+9.3fms", ms)
	}
	return fmt.Sprintf("%+10.3fs", ms/1000)
}

// DurationText is a time spent: "12.345 ms" up to a second, "1.234 s" after.
func DurationText(ms float64) string {
	if ms < 1000 {
		return fmt.Sprintf("%.3f ms", ms)
	}
	return fmt.Sprintf("%.3f s", ms/1000)
}

// OffsetText is a time relative to a trace's start, signed, as DurationText.
func OffsetText(ms float64) string {
	if ms > -1000 && ms < 1000 {
		return fmt.Sprintf("%+.3f ms", ms)
	}
	return fmt.Sprintf("%+.3f s", ms/1000)
}
