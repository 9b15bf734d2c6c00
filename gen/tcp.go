package gen

import (
	"net/netip"
	"time"
)

// view is how one capture point sees a connection: on which node and
// interface, with which addresses (DNAT rewrites them), packet types and TTLs.
type view struct {
	n            *node
	ifc          *iface
	a, b         netip.AddrPort // as seen here
	pktAB, pktBA uint8
	ttlAB, ttlBA uint8
	stream       int // identity of this stream for the truth counts
}

// crossing is an ENI a connection passes, and what its filters do to each
// direction (true = ACCEPT).
type crossing struct {
	eni        *eni
	okAB, okBA bool
}

// conn is a TCP connection from a to b.
type conn struct {
	g          *generator
	a, b       netip.AddrPort
	nxtA, nxtB uint32 // next sequence number each side sends
	tsA, tsB   uint32
	t0         time.Time
	idA, idB   uint16
	mssA, mssB uint16
	views      []view
	cross      []crossing
	encap      *encap
}

// frameMeta marks frames the truth counts (HTTP requests, PROXY headers).
type frameMeta struct {
	requestID string
	proxySrc  string
}

func (g *generator) newConn(a, b netip.AddrPort, t0 time.Time, mssA, mssB uint16) *conn {
	r := g.w.rng
	return &conn{g: g, a: a, b: b, nxtA: r.Uint32(), nxtB: r.Uint32(), tsA: r.Uint32() >> 1, tsB: r.Uint32() >> 1,
		t0: t0, idA: uint16(r.IntN(65536)), idB: uint16(r.IntN(65536)), mssA: mssA, mssB: mssB}
}

// see adds a capture point; a and b are the addresses as seen there.
func (c *conn) see(n *node, ifc *iface, a, b netip.AddrPort, pktAB, pktBA, ttlAB, ttlBA uint8) {
	if n == nil || n.Link == 0 || ifc == nil {
		return
	}
	c.g.streams++
	c.views = append(c.views, view{n: n, ifc: ifc, a: a, b: b, pktAB: pktAB, pktBA: pktBA, ttlAB: ttlAB, ttlBA: ttlBA, stream: c.g.streams})
}

// send emits the next segment from a (ab) or from b at time t and returns
// whether it got through every ENI on the way.
func (c *conn) send(t time.Time, ab bool, flags uint8, payload []byte, meta *frameMeta) bool {
	seq := c.nxtB
	if ab {
		seq = c.nxtA
	}
	adv := uint32(len(payload))
	if flags&(fSYN|fFIN) != 0 {
		adv++
	}
	if ab {
		c.nxtA += adv
	} else {
		c.nxtB += adv
	}
	return c.segment(t, ab, flags, payload, seq, meta)
}

// retransmit sends a segment again with the sequence number it had.
func (c *conn) retransmit(t time.Time, ab bool, flags uint8, payload []byte, seq uint32) bool {
	return c.segment(t, ab, flags, payload, seq, nil)
}

func (c *conn) segment(t time.Time, ab bool, flags uint8, payload []byte, seq uint32, meta *frameMeta) bool {
	ms := uint32(t.Sub(c.t0) / time.Millisecond)
	var ack uint32
	var opts []byte
	var win uint16
	if ab {
		if flags&fACK != 0 {
			ack = c.nxtB
		}
		win, opts = 106, tsOpts(c.tsA+ms, c.tsB+ms)
		if flags&fSYN != 0 {
			win, opts = 26883, synOpts(c.mssA, c.tsA+ms, 0, 8)
		}
	} else {
		if flags&fACK != 0 {
			ack = c.nxtA
		}
		win, opts = 218, tsOpts(c.tsB+ms, c.tsA+ms)
		if flags&fSYN != 0 {
			win, opts = 26697, synOpts(c.mssB, c.tsB+ms, c.tsA+ms, 7)
		}
	}
	ipLen := 40 + len(opts) + len(payload)
	for _, x := range c.cross {
		ok, src, dst := x.okAB, c.a, c.b
		if !ab {
			ok, src, dst = x.okBA, c.b, c.a
		}
		c.g.flows.add(x.eni, src, dst, 6, t, ipLen, flags, ok)
		if !ok {
			return false
		}
	}
	if e := c.encap; e != nil {
		from, to := e.from, e.to
		if !ab {
			from, to = to, from
		}
		s, d := netip.AddrPortFrom(from.IP, e.sport), netip.AddrPortFrom(to.IP, vxlanPort)
		c.g.flows.add(from.ENI, s, d, 17, t, ipLen+50, 0, true)
		c.g.flows.add(to.ENI, s, d, 17, t, ipLen+50, 0, true)
	}
	var id uint16
	if ab {
		c.idA++
		id = c.idA
	} else {
		c.idB++
		id = c.idB
	}
	for i, v := range c.views {
		// Each hop inside the node takes a few microseconds, in the
		// direction the packet travels.
		hop := i
		if !ab {
			hop = len(c.views) - 1 - i
		}
		f := &frame{ts: t.Add(time.Duration(hop) * 9 * time.Microsecond), ifc: v.ifc, proto: 6, ipID: id,
			flags: flags, seq: seq, ack: ack, win: win, opts: opts, payload: payload}
		if ab {
			f.src, f.dst, f.pkttype, f.ttl = v.a, v.b, v.pktAB, v.ttlAB
		} else {
			f.src, f.dst, f.pkttype, f.ttl = v.b, v.a, v.pktBA, v.ttlBA
		}
		c.g.emit(v.n, f, v.stream, meta)
	}
	return true
}

// pending frames of one node, written in time order.
type pending struct {
	f      *frame
	n      *node
	stream int
	meta   *frameMeta
	order  uint64
}

type frameHeap []*pending

func (h frameHeap) Len() int { return len(h) }
func (h frameHeap) Less(i, j int) bool {
	if !h[i].f.ts.Equal(h[j].f.ts) {
		return h[i].f.ts.Before(h[j].f.ts)
	}
	return h[i].order < h[j].order
}
func (h frameHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)   { *h = append(*h, x.(*pending)) }
func (h *frameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
