package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"dev.l4case/l4case/app"
)

// importDisplay shows import progress on stderr: one updating line on a
// terminal, one line per file otherwise (logs, CI).
type importDisplay struct {
	w     io.Writer
	tty   bool
	quiet bool
	mu    sync.Mutex
	last  string
}

func newImportDisplay(w io.Writer, quiet bool) *importDisplay {
	d := &importDisplay{w: w, quiet: quiet}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			d.tty = true
		}
	}
	return d
}

func (d *importDisplay) Status(s app.ImportStatus) {
	if d.quiet || !d.tty {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	line := statusLine(s)
	pad := ""
	if n := len(d.last) - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(d.w, "\r%s%s", line, pad)
	d.last = line
}

// statusLine is "[2/5] flowlog x.log.gz  45% 12.3 MiB/27.0 MiB  120,345 rows  250k rows/s  ETA 3s".
func statusLine(s app.ImportStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d/%d] %s %s ", s.Index, s.Total, s.Kind, shorten(s.File, 40))
	if s.Size > 0 {
		pct := float64(s.Bytes) * 100 / float64(s.Size)
		fmt.Fprintf(&b, "%5.1f%% %s/%s ", pct, app.SizeText(s.Bytes), app.SizeText(s.Size))
	}
	fmt.Fprintf(&b, "%s rows", humanCount(s.Records))
	if s.Rejected > 0 {
		fmt.Fprintf(&b, " (%s rejected)", humanCount(s.Rejected))
	}
	if sec := s.Elapsed.Seconds(); sec > 0.2 {
		fmt.Fprintf(&b, " %s rows/s", humanCount(int64(float64(s.Records)/sec)))
		if s.Bytes > 0 && s.Size > s.Bytes {
			eta := time.Duration(float64(s.Elapsed) * float64(s.Size-s.Bytes) / float64(s.Bytes))
			fmt.Fprintf(&b, " ETA %s", eta.Round(time.Second))
		}
	}
	return b.String()
}

func (d *importDisplay) Done(r app.FileResult) {
	if d.quiet {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tty && d.last != "" {
		fmt.Fprintf(d.w, "\r%s\r", strings.Repeat(" ", len(d.last)))
		d.last = ""
	}
	switch {
	case r.Err != nil:
		fmt.Fprintf(d.w, "failed   %s: %s\n", r.Name, firstLine(r.Err.Error()))
	case r.Evidence != nil:
		ev := r.Evidence
		rate := ""
		if s := r.Elapsed.Seconds(); s > 0 {
			rate = fmt.Sprintf(", %s rows/s", humanCount(int64(float64(ev.Rows)/s)))
		}
		fmt.Fprintf(d.w, "imported #%d %s %s: %s rows, %s rejected (%s%s) [%s]\n", ev.ID, ev.Kind, r.Name,
			humanCount(ev.Rows), humanCount(ev.Rejected), r.Elapsed.Round(time.Millisecond), rate, ev.Format)
		for _, n := range ev.Notes {
			fmt.Fprintf(d.w, "         note: %s\n", n)
		}
	default:
		fmt.Fprintf(d.w, "skipped  %s: %s\n", r.Name, r.Skipped)
	}
}

func (d *importDisplay) finish() {}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}

// humanCount writes 1234567 as 1,234,567.
func humanCount(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
