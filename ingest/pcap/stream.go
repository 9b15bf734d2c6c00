package pcap

// stream puts one direction of a TCP connection back in order and hands
// the bytes on, saying where some are missing.
//
// gopacket's reassembly package does this for whole connections, keyed by
// 4-tuple itself; l4case needs its conversations to follow tshark's
// tcp.stream (a new SYN on a reused port is a new conversation), and only a
// handful of bytes at the start of most directions (PROXY, HTTP headers),
// so a small in-order buffer per direction does the job with no allocation
// per in-order segment.
type stream struct {
	started bool
	next    uint32 // next sequence number expected
	pend    []seg  // segments ahead of next, by sequence number
	pendLen int
	dead    bool // nothing downstream wants more bytes
	sink    streamSink
}

type seg struct {
	seq   uint32
	data  []byte
	ts    int64
	frame uint32
	cut   int // bytes the snap length removed after data
}

// streamSink receives a direction's bytes in order.
type streamSink interface {
	data(b []byte, ts int64, frame uint32)
	gap(n int64, why string, ts int64, frame uint32)
}

// maxPending bounds the out-of-order bytes held per direction; past it the
// hole is declared a gap.
const maxPending = 256 << 10

// syn sets the initial sequence number.
func (s *stream) syn(seq uint32) {
	if !s.started {
		s.started, s.next = true, seq+1
	}
}

// segment adds a segment's payload; cut is how many payload bytes the snap
// length removed after b.
func (s *stream) segment(seq uint32, b []byte, cut int, ts int64, frame uint32) {
	if s.dead || (len(b) == 0 && cut == 0) {
		return
	}
	if !s.started {
		// Capture started mid-connection: start where we are.
		s.started, s.next = true, seq
	}
	d := int32(seq - s.next)
	switch {
	case d == 0:
		s.deliver(seg{seq: seq, data: b, ts: ts, frame: frame, cut: cut})
		s.drain()
	case d < 0:
		// Retransmission or overlap: only bytes beyond next are new.
		end := seq + uint32(len(b)+cut)
		if int32(end-s.next) <= 0 {
			return
		}
		skip := int(s.next - seq)
		if skip >= len(b) {
			s.deliver(seg{seq: s.next, ts: ts, frame: frame, cut: len(b) + cut - skip})
		} else {
			s.deliver(seg{seq: s.next, data: b[skip:], ts: ts, frame: frame, cut: cut})
		}
		s.drain()
	default:
		s.pend = insert(s.pend, seg{seq: seq, data: append([]byte(nil), b...), ts: ts, frame: frame, cut: cut})
		s.pendLen += len(b)
		if s.pendLen > maxPending {
			s.skipToPending()
		}
	}
}

func insert(ps []seg, x seg) []seg {
	i := len(ps)
	for i > 0 && int32(ps[i-1].seq-x.seq) > 0 {
		i--
	}
	ps = append(ps, seg{})
	copy(ps[i+1:], ps[i:])
	ps[i] = x
	return ps
}

func (s *stream) deliver(x seg) {
	if len(x.data) > 0 {
		s.sink.data(x.data, x.ts, x.frame)
	}
	if x.cut > 0 {
		s.sink.gap(int64(x.cut), "truncated", x.ts, x.frame)
	}
	s.next = x.seq + uint32(len(x.data)+x.cut)
}

// drain delivers pending segments that have become in order.
func (s *stream) drain() {
	for len(s.pend) > 0 {
		x := s.pend[0]
		d := int32(x.seq - s.next)
		if d > 0 {
			return
		}
		s.pend = s.pend[1:]
		s.pendLen -= len(x.data)
		end := x.seq + uint32(len(x.data)+x.cut)
		if int32(end-s.next) <= 0 {
			continue
		}
		if skip := int(s.next - x.seq); skip > 0 {
			if skip >= len(x.data) {
				x.cut -= skip - len(x.data)
				x.data = nil
			} else {
				x.data = x.data[skip:]
			}
			x.seq = s.next
		}
		s.deliver(x)
	}
}

// skipToPending gives up on the hole before the first pending segment.
func (s *stream) skipToPending() {
	if len(s.pend) == 0 {
		return
	}
	x := s.pend[0]
	s.sink.gap(int64(x.seq-s.next), "gap", x.ts, x.frame)
	s.next = x.seq
	s.drain()
}

// close flushes what is pending, holes and all.
func (s *stream) close() {
	for len(s.pend) > 0 && !s.dead {
		s.skipToPending()
	}
	s.pend = nil
}
