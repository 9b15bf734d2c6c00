package app

import (
	"context"
	"io"

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
	c.use.RLock()
	defer c.use.RUnlock()
	db, err := c.Reader()
	if err != nil {
		return nil, err
	}
	return query.ConversationPackets(ctx, db, stream.Evidence, stream.N, limit)
}
