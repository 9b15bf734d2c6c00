package app

import (
	"context"
	"io"
	"net/netip"
	"time"

	"dev.l4case/l4case/query"
)

// The trace's types are query's; app hands them out under these names.
type (
	// TraceKey says which request to trace.
	TraceKey = query.TraceKey
	// Trace is one request's path: lanes, hops, skew, outcome.
	Trace = query.Trace
	// Hop is one leg of a traced path.
	Hop = query.Hop
	// Lane is one party of a traced path.
	Lane = query.Lane
	// Ref points at a line, a frame or a stream of an evidence file.
	Ref = query.Ref
)

// ErrNotTraced is returned when nothing in the case matches a trace key.
var ErrNotTraced = query.ErrNotTraced

// ParseRef reads "EVIDENCE:N".
func ParseRef(s string) (*Ref, error) { return query.ParseRef(s) }

// DurationText and OffsetText spell a hop's time spent and its time from
// the trace's start, the same in the CLI's text and the GUI's timeline.
func DurationText(ms float64) string { return query.DurationText(ms) }

// OffsetText: see DurationText.
func OffsetText(ms float64) string { return query.OffsetText(ms) }

// WriteTraceText writes a trace as a readable hop list.
func WriteTraceText(w io.Writer, t *Trace) error { return query.WriteTraceText(w, t) }

// Trace follows one request across every kind of evidence in the case.
func (c *Case) Trace(ctx context.Context, key TraceKey) (*Trace, error) {
	c.use.RLock()
	defer c.use.RUnlock()
	db, err := c.Reader()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	cache := c.traces
	c.mu.Unlock()
	if cache == nil {
		if cache, err = query.LoadTraceCache(ctx, db); err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.traces = cache
		c.mu.Unlock()
	}
	return query.TraceRequestPath(ctx, db, cache, key)
}

func (c *Case) dropTraceCache() {
	c.mu.Lock()
	c.traces = nil
	c.mu.Unlock()
}

// Packet is a frame of a captured conversation.
type Packet = query.Packet

// ConversationPackets lists the first limit frames of a capture's stream,
// for the timeline's ladder of a hop.
func (c *Case) ConversationPackets(ctx context.Context, stream Ref, limit int) ([]Packet, error) {
	n := stream.N
	page, err := c.Packets(ctx, PacketFilter{Evidence: stream.Evidence, Stream: &n, Limit: limit})
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, name := range page.Columns {
		col[name] = i
	}
	num := func(row []any, name string) int64 {
		v, _ := row[col[name]].(int64)
		return v
	}
	c.use.RLock()
	db, err := c.Reader()
	var span query.Span
	if err == nil {
		span, err = query.ConversationSpan(ctx, db, stream.Evidence, n)
	}
	c.use.RUnlock()
	if err != nil {
		return nil, err
	}
	a := addrPort(span.A, span.APort).String() // the initiator
	var out []Packet
	for _, row := range page.Rows {
		src := netip.AddrPortFrom(netip.MustParseAddr(row[col["src"]].(string)), uint16(num(row, "sport"))).String()
		dst := netip.AddrPortFrom(netip.MustParseAddr(row[col["dst"]].(string)), uint16(num(row, "dport"))).String()
		out = append(out, Packet{Frame: num(row, "frame"), Time: row[col["ts"]].(time.Time), Src: src, Dst: dst, FromA: src == a,
			Flags: query.TCPFlagNames(int(num(row, "tcp_flags"))), Seq: num(row, "seq"), Ack: num(row, "ack"), PayloadLen: num(row, "payload_len")})
	}
	return out, nil
}
