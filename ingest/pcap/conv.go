package pcap

import (
	"net/netip"
	"strings"
)

// convKey is a TCP 4-tuple in canonical order (lower endpoint first), so
// both directions find the same conversation.
type convKey struct {
	lo, hi netip.AddrPort
}

func keyOf(a, b netip.AddrPort) (convKey, bool) {
	if a.Compare(b) <= 0 {
		return convKey{a, b}, false
	}
	return convKey{b, a}, true
}

// conv is one TCP conversation as tshark numbers them (tcp.stream).
type conv struct {
	id          uint32
	a, b        netip.AddrPort // initiator, responder
	firstTs     int64
	lastTs      int64
	firstFrame  uint32
	lastFrame   uint32
	synTs       int64
	synackTs    int64
	ackTs       int64
	isn         [2]uint32
	isnSet      [2]bool
	highSeq     [2]uint32 // highest sequence number sent so far, per direction
	highSet     [2]bool
	packets     [2]int64
	bytes       [2]int64
	payload     [2]int64
	retrans     int64
	zeroWindows int64
	resets      int64
	fin         [2]bool
	sawStart    bool
	firstOffset int64 // byte offsets of the first and last frames' records:
	lastOffset  int64 // where to read the conversation's packets from the capture
	history     []byte
	seen        [2]uint16 // history letters already written, per direction

	dirs   [2]*dirState
	nReq   int
	queue  []pendingReq // requests waiting for their response
	closed bool
}

type pendingReq struct {
	index  int
	method string
	lastTs int64
}

// dir returns 0 for a packet from the initiator, 1 from the responder.
func (c *conv) dir(src netip.AddrPort) int {
	if src == c.a {
		return 0
	}
	return 1
}

// update counts one packet of the conversation and follows its handshake
// and teardown. It reports whether the segment is a retransmission.
func (c *conv) update(p *pkt) bool {
	d := c.dir(p.src)
	c.lastTs, c.lastFrame, c.lastOffset = p.ts, p.frame, p.offset
	c.packets[d]++
	c.bytes[d] += int64(p.wireLen)
	c.payload[d] += int64(p.payloadLen)
	syn, ack, fin, rst := p.flags&0x02 != 0, p.flags&0x10 != 0, p.flags&0x01 != 0, p.flags&0x04 != 0
	if syn && !ack {
		if c.synTs == 0 {
			c.synTs = p.ts
		}
		c.sawStart = true
	}
	if syn && ack && c.synackTs == 0 {
		c.synackTs = p.ts
	}
	if !syn && ack && c.ackTs == 0 && c.synackTs != 0 && d == 0 {
		c.ackTs = p.ts
	}
	if syn && !c.isnSet[d] {
		c.isn[d], c.isnSet[d] = p.seq, true
	}
	if rst {
		c.resets++
	}
	if fin {
		c.fin[d] = true
	}
	if p.win == 0 && !rst && !syn {
		c.zeroWindows++
	}
	// A segment carrying sequence space that was already sent is a
	// retransmission (a SYN or FIN counts for one).
	length := uint32(p.payloadLen)
	if syn || fin {
		length++
	}
	retrans := false
	if length > 0 {
		end := p.seq + length
		if c.highSet[d] && int32(end-c.highSeq[d]) <= 0 {
			retrans = true
			c.retrans++
		}
		if !c.highSet[d] || int32(end-c.highSeq[d]) > 0 {
			c.highSeq[d], c.highSet[d] = end, true
		}
	}
	switch {
	case syn && !ack:
		c.mark(d, 'S')
	case syn && ack:
		c.mark(d, 'H')
	}
	if rst {
		c.mark(d, 'R')
	}
	if fin {
		c.mark(d, 'F')
	}
	if p.payloadLen > 0 {
		c.mark(d, 'D')
	} else if ack && !syn && !fin && !rst {
		c.mark(d, 'A')
	}
	if retrans {
		c.mark(d, 'T')
	}
	if p.win == 0 && !rst && !syn {
		c.mark(d, 'W')
	}
	return retrans
}

// historyLetters are the letters of a conversation's history, as Zeek's
// conn.log writes them: SYN, SYN-ACK, pure ACK, data, FIN, RST,
// retransmission, zero window; upper case from the initiator, lower case
// from the responder.
const historyLetters = "SHADFRTW"

// mark adds a history letter the first time a direction shows it (Zeek
// repeats some letters on 10, 100, ... occurrences; l4case keeps the
// counts in their own columns instead).
func (c *conv) mark(d int, letter byte) {
	bit := uint16(1) << strings.IndexByte(historyLetters, letter)
	if c.seen[d]&bit != 0 {
		return
	}
	c.seen[d] |= bit
	if d == 1 {
		letter += 'a' - 'A'
	}
	c.history = append(c.history, letter)
}

// endReason is how the conversation ended, as far as the capture saw.
func (c *conv) endReason() string {
	switch {
	case c.resets > 0:
		return "RST"
	case c.fin[0] && c.fin[1]:
		return "FIN"
	case c.fin[0] || c.fin[1]:
		return "half-closed"
	}
	return "none"
}

// dirState follows the application bytes of one direction: first what
// they are (PROXY header, HTTP, something else), then the HTTP messages.
type dirState struct {
	imp    *importer
	c      *conv
	src    netip.AddrPort
	dst    netip.AddrPort
	st     stream
	head   []byte
	mode   int
	http   *httpParser
	atHead bool // no application byte seen yet
}

const (
	mUnknown = iota
	mHTTP
	mOther
)

// maxSniff is how many leading bytes decide what a direction carries.
const maxSniff = 4096

func (ds *dirState) data(b []byte, ts int64, frame uint32) {
	switch ds.mode {
	case mHTTP:
		ds.http.feed(b, ts, frame)
		return
	case mOther:
		return
	}
	ds.head = append(ds.head, b...)
	for ds.mode == mUnknown {
		h := ds.head
		if ds.atHead && looksLikeProxy(h) {
			ph, n, err := ParseProxy(h)
			if err == errMore && len(h) < maxSniff {
				return
			}
			ds.atHead = false
			if err == nil {
				ds.imp.proxyHeader(ds.c, ph, ts, frame)
				ds.head = h[n:]
				continue
			}
		}
		ds.atHead = false
		if len(h) == 0 {
			return
		}
		isReq, isRsp := looksLikeHTTP(h, true), looksLikeHTTP(h, false)
		if (isReq || isRsp) && len(h) < 8 {
			return // "GET" could still turn out to be something else
		}
		switch {
		case isReq:
			ds.startHTTP(true)
		case isRsp:
			ds.startHTTP(false)
		default:
			ds.mode = mOther
			ds.st.dead = true
			ds.head = nil
			return
		}
		rest := ds.head
		ds.head = nil
		ds.http.feed(rest, ts, frame)
	}
}

func (ds *dirState) startHTTP(isReq bool) {
	ds.mode = mHTTP
	c := ds.c
	ds.http = &httpParser{isReq: isReq, emit: func(m *httpMsg) { ds.imp.httpMessage(c, ds, m) }}
	if !isReq {
		ds.http.method = func() string {
			if len(c.queue) > 0 {
				return c.queue[0].method
			}
			return ""
		}
	}
}

func (ds *dirState) gap(n int64, why string, ts int64, frame uint32) {
	switch ds.mode {
	case mHTTP:
		ds.http.gap(n, why, ts, frame)
	case mUnknown:
		// Lost the start: whatever comes next is judged on its own.
		ds.head = nil
		ds.atHead = false
	}
}

// end closes the direction.
func (ds *dirState) end() {
	ds.st.close()
	if ds.mode == mHTTP {
		ds.http.end()
	}
}
