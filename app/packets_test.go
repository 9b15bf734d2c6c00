package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/query"
)

func pageTexts(p *query.Page) []string {
	var out []string
	for _, r := range p.Rows {
		cells := make([]string, len(r))
		for i, v := range r {
			if v == nil {
				cells[i] = "NULL"
			} else {
				cells[i] = query.Text(v)
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

// Packets read on demand from the kept captures are the rows import
// wrote: a stream (Go and SQL's capture_packets), a frame range, a time
// range.
func TestPacketsOnDemand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o := gen.Defaults()
	o.Out, o.Requests, o.Duration = filepath.Join(dir, "bundle"), 150, 10*time.Minute
	if _, err := gen.Generate(ctx, o); err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, filepath.Join(dir, "case"), "packets")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// packet_data is what import decoded: the reference for what is read.
	if _, err := c.Import(ctx, []string{filepath.Join(o.Out, "pcap")}, ImportOptions{Packets: "all"}, nil); err != nil {
		t.Fatal(err)
	}
	cols := strings.Join(PacketColumns, ", ")
	console := func(q string) []string {
		t.Helper()
		p, err := c.Console(ctx, q, 0, 100000)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return pageTexts(p)
	}
	streams := console(`SELECT evidence_id, conv_id FROM tcp_conversations ORDER BY hash(evidence_id, conv_id) LIMIT 40`)
	if len(streams) < 40 {
		t.Fatalf("%d streams", len(streams))
	}
	for _, s := range streams {
		var ev int
		var stream int64
		fmt.Sscanf(strings.ReplaceAll(s, "|", " "), "%d %d", &ev, &stream)
		want := console(fmt.Sprintf(`SELECT %s FROM packets WHERE evidence_id = %d AND conv_id = %d ORDER BY frame`, cols, ev, stream))
		p, err := c.Packets(ctx, PacketFilter{Evidence: ev, Stream: &stream})
		if err != nil {
			t.Fatal(err)
		}
		if got := pageTexts(p); strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) == 0 {
			t.Fatalf("stream %d:%d: read\n%s\nimported\n%s", ev, stream, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got := console(fmt.Sprintf(`SELECT * FROM capture_packets(%d, %d)`, ev, stream)); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("capture_packets(%d, %d):\n%s\nimported\n%s", ev, stream, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// A frame range and a time range of the first capture, conversations
	// named as import named them.
	ev := c.Evidence()[0].ID
	want := console(fmt.Sprintf(`SELECT %s FROM packets WHERE evidence_id = %d AND frame BETWEEN 500 AND 900 ORDER BY frame`, cols, ev))
	p, err := c.Packets(ctx, PacketFilter{Evidence: ev, From: 500, To: 900})
	if err != nil {
		t.Fatal(err)
	}
	if got := pageTexts(p); strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != 401 {
		t.Errorf("frames 500-900: %d rows, %d imported", len(got), len(want))
	}
	since, until := o.Start.Add(3*time.Minute), o.Start.Add(3*time.Minute+30*time.Second)
	want = console(fmt.Sprintf(`SELECT %s FROM packets WHERE evidence_id = %d AND ts BETWEEN '%s' AND '%s' ORDER BY frame`, cols, ev,
		since.Format("2006-01-02 15:04:05"), until.Format("2006-01-02 15:04:05")))
	p, err = c.Packets(ctx, PacketFilter{Evidence: ev, Since: since, Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if got := pageTexts(p); strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) == 0 {
		t.Errorf("30 s from %s: %d rows, %d imported", since, len(got), len(want))
	}
	// Not a capture, no such evidence, no such stream.
	for f, msg := range map[PacketFilter]string{
		{Evidence: 99}: "no evidence #99", {Evidence: ev, Stream: new(int64)}: "",
	} {
		_, err := c.Packets(ctx, f)
		if msg != "" && (err == nil || !strings.Contains(err.Error(), msg)) {
			t.Errorf("%+v: %v", f, err)
		}
	}
	big := int64(1 << 30)
	if _, err := c.Packets(ctx, PacketFilter{Evidence: ev, Stream: &big}); err == nil || !strings.Contains(err.Error(), "no such TCP stream") {
		t.Errorf("stream 2^30: %v", err)
	}
	// The checks are kept for the next process (the CLI's next command).
	if b, err := os.ReadFile(filepath.Join(c.Dir, "checked.json")); err != nil || !strings.Contains(string(b), `"`+fmt.Sprint(ev)+`":{"size":`) {
		t.Errorf("checked.json: %s %v", b, err)
	}
	// A capture changed after its import is refused, though checked before
	// (its change time moved).
	c.Close()
	e := c.Evidence()[0]
	path := filepath.Join(c.Dir, filepath.FromSlash(e.Stored))
	os.Chmod(path, 0o644)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff}, e.Size-1)
	f.Close()
	c2, err := Open(ctx, c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	zero := int64(0)
	if _, err := c2.Packets(ctx, PacketFilter{Evidence: e.ID, Stream: &zero}); err == nil || !strings.Contains(err.Error(), "was changed since its import") {
		t.Errorf("changed capture: %v", err)
	}
	if _, err := c2.Console(ctx, fmt.Sprintf(`SELECT count(*) FROM capture_packets(%d, 0)`, e.ID), 0, 1); err == nil || !strings.Contains(err.Error(), "was changed since its import") {
		t.Errorf("changed capture in SQL: %v", err)
	}
}
