package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"

	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"dev.l4case/l4case/ingest/pcap"
	"dev.l4case/l4case/query"
)

// PacketFilter says which packets of a kept capture to read: one stream
// (as tshark's tcp.stream), a frame range, or a time range.
type PacketFilter struct {
	Evidence     int
	Stream       *int64
	From, To     int64 // frames, inclusive; 0: open
	Since, Until time.Time
	Limit        int // rows at most; 0: 10,000
}

// PacketColumns are the columns Packets returns: the packets view's.
var PacketColumns = pcap.PacketColumns

// Packets decodes packets from the case's copy of a capture, once its
// SHA-256 is checked against the manifest (once per open case): the
// packets of one stream read from its first frame's byte offset, so one
// stream costs what its own frames cost however big the capture. The
// rows have the packets view's columns, conv_id included.
func (c *Case) Packets(ctx context.Context, f PacketFilter) (*query.Page, error) {
	ev, err := c.captureEvidence(f.Evidence)
	if err != nil {
		return nil, err
	}
	if err := c.checkEvidence(ctx, ev); err != nil {
		return nil, err
	}
	c.use.RLock()
	defer c.use.RUnlock()
	db, err := c.Reader()
	if err != nil {
		return nil, err
	}
	return c.readPackets(ctx, db, ev, f)
}

// streamReader is capture_packets' reader: it runs inside a query, which
// holds the case already.
func (c *Case) streamReader(db *sql.DB) query.StreamReader {
	return func(ctx context.Context, evidenceID int, stream int64) (*query.Page, error) {
		ev, err := c.captureEvidence(evidenceID)
		if err != nil {
			return nil, err
		}
		if err := c.checkEvidence(ctx, ev); err != nil {
			return nil, err
		}
		const most = 2_000_000
		page, err := c.readPackets(ctx, db, ev, PacketFilter{Evidence: evidenceID, Stream: &stream, Limit: most})
		if err == nil && page.More {
			err = fmt.Errorf("stream %d of evidence #%d has over %d packets: read it in frame ranges (l4case packets --frames)", stream, evidenceID, most)
		}
		return page, err
	}
}

func (c *Case) readPackets(ctx context.Context, db *sql.DB, ev *Evidence, f PacketFilter) (*query.Page, error) {
	var err error
	limit := f.Limit
	if limit <= 0 {
		limit = 10000
	}
	page := &query.Page{Columns: PacketColumns}
	var pos pcap.Position
	var spans []query.Span
	last := int64(-1) // read to the end
	keep := func(x *pcap.Packet) bool { return true }
	switch {
	case f.Stream != nil:
		s, err := query.ConversationSpan(ctx, db, ev.ID, *f.Stream)
		if err != nil {
			return nil, err
		}
		spans = []query.Span{s}
		pos, last = pcap.Position{Offset: s.Offset, Frame: s.First}, s.Last
		keep = func(x *pcap.Packet) bool { return x.TCP() && spanOf(spans, x) != nil }
	case !f.Since.IsZero() || !f.Until.IsZero():
		until := f.Until
		if until.IsZero() {
			until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		start, l, ok, err := query.FramesAt(ctx, db, ev.ID, f.Since, until)
		if err != nil {
			return nil, err
		}
		if ok {
			pos, last = pcap.Position{Offset: start.Offset, Frame: start.First}, l
		}
		keep = func(x *pcap.Packet) bool { t := x.Time(); return !t.Before(f.Since) && !t.After(until) }
	default:
		if f.From > 0 {
			pos.Frame = f.From
		}
		if f.To > 0 {
			last = f.To
		}
	}
	if f.Stream == nil {
		to := last
		if to < 0 {
			to = 1 << 40
		}
		if spans, err = query.SpansBetween(ctx, db, ev.ID, max(pos.Frame, 1), to); err != nil {
			return nil, err
		}
		// Reading a frame range from its first stream's offset skips the
		// frames before it without decoding them.
		for _, s := range spans {
			if s.First <= pos.Frame && s.Offset > 0 && f.From > 0 {
				pos.Offset = s.Offset
				pos.Frame = s.First
				break
			}
		}
	}
	from := max(f.From, 1)
	err = pcap.Read(ctx, filepath.Join(c.Dir, filepath.FromSlash(ev.Stored)), pos, func(x *pcap.Packet) bool {
		if last >= 0 && x.Frame() > last {
			return false
		}
		if x.Frame() < from || !keep(x) {
			return true
		}
		if len(page.Rows) == limit {
			page.More = true
			return false
		}
		var conv *int64
		if s := spanOf(spans, x); s != nil && x.TCP() {
			conv = &s.Stream
		}
		page.Rows = append(page.Rows, x.Values(ev.ID, conv))
		return true
	})
	return page, err
}

// spanOf is the stream of spans a packet belongs to: its 4-tuple, within
// the stream's frames.
func spanOf(spans []query.Span, x *pcap.Packet) *query.Span {
	s, d := x.Src(), x.Dst()
	for i := range spans {
		sp := &spans[i]
		if x.Frame() < sp.First || x.Frame() > sp.Last {
			continue
		}
		a, b := addrPort(sp.A, sp.APort), addrPort(sp.B, sp.BPort)
		if s == a && d == b || s == b && d == a {
			return sp
		}
	}
	return nil
}

func addrPort(ip string, port int) netip.AddrPort {
	a, _ := netip.ParseAddr(ip)
	return netip.AddrPortFrom(a, uint16(port))
}

// captureEvidence is the evidence record of a capture.
func (c *Case) captureEvidence(id int) (*Evidence, error) {
	for _, e := range c.Evidence() {
		if e.ID == id {
			if e.Kind != "pcap" {
				return nil, fmt.Errorf("evidence #%d (%s) is %s, not a capture", id, e.Name, e.Kind)
			}
			e := e
			return &e, nil
		}
	}
	return nil, fmt.Errorf("no evidence #%d in the case", id)
}

// checkEvidence compares a file's SHA-256 with the manifest's before its
// packets are read. A check holds while the file's size, modification and
// status change times stay as they were then (checked.json in the case;
// any write moves the change time, which cannot be set back): the CLI,
// one process per command, hashes a 5 GB capture once, not per command.
func (c *Case) checkEvidence(ctx context.Context, e *Evidence) error {
	path := filepath.Join(c.Dir, filepath.FromSlash(e.Stored))
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	stamp := fileStamp{Size: fi.Size(), Modified: fi.ModTime().UnixNano(), Changed: changeTime(fi), SHA256: e.SHA256}
	c.mu.Lock()
	if c.checked == nil {
		c.checked = readChecked(c.Dir)
	}
	prev, ok := c.checked[e.ID]
	c.mu.Unlock()
	if ok && prev == stamp && stamp.Changed != 0 {
		return nil
	}
	h, err := hashFile(ctx, path)
	if err != nil {
		return err
	}
	if !strings.EqualFold(h.SHA256, e.SHA256) || h.Size != e.Size {
		return fmt.Errorf("evidence #%d (%s) was changed since its import: SHA-256 %s, the manifest says %s", e.ID, e.Name, h.SHA256, e.SHA256)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checked[e.ID] = stamp
	writeChecked(c.Dir, c.checked)
	return nil
}

// fileStamp is what a hash check of an evidence file saw.
type fileStamp struct {
	Size     int64  `json:"size"`
	Modified int64  `json:"modified_ns"`
	Changed  int64  `json:"changed_ns"`
	SHA256   string `json:"sha256"`
}

const checkedFile = "checked.json"

func readChecked(dir string) map[int]fileStamp {
	m := map[int]fileStamp{}
	if b, err := os.ReadFile(filepath.Join(dir, checkedFile)); err == nil {
		json.Unmarshal(b, &m)
	}
	return m
}

// writeChecked keeps the checks for the next process; a case that cannot
// keep them (read-only) is hashed again next time.
func writeChecked(dir string, m map[int]fileStamp) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	tmp := filepath.Join(dir, checkedFile+".tmp")
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, filepath.Join(dir, checkedFile))
	}
}
