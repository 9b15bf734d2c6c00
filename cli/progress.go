package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"dev.l4case/l4case/app"
)

// importDisplay shows import progress on stderr: one updating line on a
// terminal, one line per file otherwise (logs, CI), or with --progress json
// one JSON object per tick and per file, and one at the end (as brimcap
// analyze -json does), for scripts and programs that drive l4case.
type importDisplay struct {
	w     io.Writer
	mode  string // text, json or none
	tty   bool
	mu    sync.Mutex
	last  string
	enc   *json.Encoder
	tally [3]int // imported, skipped, failed
}

// progressModes are the values of --progress.
var progressModes = []string{"text", "json", "none"}

func newImportDisplay(w io.Writer, mode string) *importDisplay {
	d := &importDisplay{w: w, mode: mode, enc: json.NewEncoder(w)}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			d.tty = true
		}
	}
	return d
}

// progressEvent is one line of --progress json. Type is "status" (a tick
// while a file imports), "file" (a file done) or "end".
type progressEvent struct {
	Type       string  `json:"type"`
	File       string  `json:"file,omitempty"`
	Kind       string  `json:"kind,omitempty"`
	Index      int     `json:"index,omitempty"`
	Total      int     `json:"total,omitempty"`
	BytesRead  int64   `json:"bytes_read,omitempty"`
	Size       int64   `json:"size,omitempty"`
	Records    int64   `json:"records"`
	Rejected   int64   `json:"rejected"`
	ElapsedS   float64 `json:"elapsed_s"`
	RowsPerSec float64 `json:"rows_per_s,omitempty"`
	ETAS       float64 `json:"eta_s,omitempty"`
	Result     string  `json:"result,omitempty"` // imported, skipped or failed
	EvidenceID int     `json:"evidence_id,omitempty"`
	Format     string  `json:"format,omitempty"`
	Reason     string  `json:"reason,omitempty"` // why skipped or failed
	Imported   *int    `json:"imported,omitempty"`
	Skipped    *int    `json:"skipped,omitempty"`
	Failed     *int    `json:"failed,omitempty"`
}

func (d *importDisplay) emit(ev progressEvent) {
	d.enc.Encode(ev)
}

func (d *importDisplay) Status(s app.ImportStatus) {
	if d.mode == "json" {
		ev := progressEvent{Type: "status", File: s.File, Kind: s.Kind, Index: s.Index, Total: s.Total,
			BytesRead: s.Bytes, Size: s.Size, Records: s.Records, Rejected: s.Rejected, ElapsedS: s.Elapsed.Seconds()}
		if sec := s.Elapsed.Seconds(); sec > 0 {
			ev.RowsPerSec = float64(s.Records) / sec
			if s.Bytes > 0 && s.Size > s.Bytes {
				ev.ETAS = sec * float64(s.Size-s.Bytes) / float64(s.Bytes)
			}
		}
		d.mu.Lock()
		d.emit(ev)
		d.mu.Unlock()
		return
	}
	if d.mode != "text" || !d.tty {
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
	s.File = shorten(s.File, 40)
	return s.Line()
}

func (d *importDisplay) Done(r app.FileResult) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case r.Err != nil:
		d.tally[2]++
	case r.Evidence != nil:
		d.tally[0]++
	default:
		d.tally[1]++
	}
	if d.mode == "json" {
		ev := progressEvent{Type: "file", File: r.Name, Kind: r.Kind, ElapsedS: r.Elapsed.Seconds()}
		switch {
		case r.Err != nil:
			ev.Result, ev.Reason = "failed", r.Err.Error()
		case r.Evidence != nil:
			ev.Result, ev.EvidenceID, ev.Format = "imported", r.Evidence.ID, r.Evidence.Format
			ev.Records, ev.Rejected, ev.Size = r.Evidence.Rows, r.Evidence.Rejected, r.Evidence.Size
		default:
			ev.Result, ev.Reason = "skipped", r.Skipped
		}
		d.emit(ev)
		return
	}
	if d.mode != "text" {
		return
	}
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

// finish ends the display: the totals, in JSON mode (the text mode's are
// printed by the command with its table).
func (d *importDisplay) finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mode == "json" {
		d.emit(progressEvent{Type: "end", Imported: &d.tally[0], Skipped: &d.tally[1], Failed: &d.tally[2]})
	}
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}

// humanCount writes 1234567 as 1,234,567.
func humanCount(n int64) string { return app.CountText(n) }
