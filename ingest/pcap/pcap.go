// Package pcap imports packet captures: pcap (micro- and nanosecond, both
// byte orders) and pcapng (several interfaces, mixed link types, comments),
// plain or gzip; link types Ethernet (802.1Q, QinQ), Linux cooked SLL and
// SLL2, raw IPv4/IPv6 and BSD loopback.
//
// It fills packet_data (one compact row per frame, addresses through a
// per-capture dictionary), tcp_conversations (numbered like tshark's
// tcp.stream), http_messages (HTTP/1.x from the reassembled streams) and
// proxy_headers (PROXY v1/v2 at the start of a conversation).
//
// Frames are read with gopacket's pcapgo and decoded with a
// DecodingLayerParser. A frame that does not decode completely is kept with
// what decoded and the reason; a file cut short keeps every complete frame
// and records the byte offset where it stops. Conversations idle for
// longer than idleTimeout (capture time) are closed and written, so memory
// does not grow with the length of the capture.
package pcap

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"dev.l4case/l4case/ingest"
)

// Importer reads packet captures.
type Importer struct{}

// Kind is "pcap".
func (Importer) Kind() string { return "pcap" }

// Detect accepts the pcap and pcapng magic numbers.
func (Importer) Detect(name string, head []byte) error {
	if len(head) < 4 {
		return errors.New("shorter than a capture file header")
	}
	switch binary.LittleEndian.Uint32(head) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a:
		return nil
	}
	return fmt.Errorf("no pcap or pcapng magic number (starts with % x)", head[:4])
}

// A conversation silent for idleTimeout is closed and written; one that has
// ended (FIN both ways, or RST) after closedTimeout, Linux's TIME_WAIT: a
// packet later than that on the same 4-tuple starts a new conversation
// (tshark would continue the old one; it never forgets, l4case must to keep
// memory bounded).
const (
	idleTimeout   = 10 * time.Minute
	closedTimeout = 60 * time.Second
)

// packetReader is what pcapgo's two readers have in common.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Import reads one capture in three steps: open (which format, which link
// type), frames (every record, decoded and counted into conversations) and,
// for pcapng, the interfaces and comments its blocks described.
func (Importer) Import(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	rc, err := src.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	imp, err := newImporter(src, w)
	if err != nil {
		return "", err
	}
	c, err := openCapture(src.Name, w.Note, rc)
	if err != nil {
		return "", err
	}
	if c.ng == nil {
		imp.iface(-1, c.link, int64(c.snaplen), "", "")
	}
	if err := c.frames(ctx, imp, w); err != nil {
		return "", err
	}
	if c.ng != nil {
		c.format = c.describeInterfaces(imp)
	}
	imp.finish()
	return c.format, nil
}

// capture is an open capture file of either format.
type capture struct {
	r       packetReader
	ng      *pcapgo.NgReader // set for pcapng
	link    layers.LinkType  // pcap: the file's one link type
	snaplen uint32
	format  string
	offset  func() int64 // byte offset of the next record
}

// openCapture reads the file header. A header that does not parse is the
// Importer contract's unreadable file (an error at byte 0).
func openCapture(name string, note func(string), rc io.Reader) (*capture, error) {
	cr := &countReader{r: rc}
	// pcapgo wraps its input in a bufio.Reader of its own unless given one
	// at least as large: giving it ours keeps the byte offset exact.
	br := bufio.NewReaderSize(cr, 1<<20)
	c := &capture{offset: func() int64 { return cr.n.Load() - int64(br.Buffered()) }}
	magic, _ := br.Peek(4)
	if len(magic) == 4 && binary.LittleEndian.Uint32(magic) == 0x0a0d0d0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, unreadable(name, "pcapng section header", err)
		}
		c.r, c.ng, c.format = ng, ng, "pcapng"
		return c, nil
	}
	pr, err := pcapgo.NewReader(legacyVersion(br, note))
	if err != nil {
		return nil, unreadable(name, "pcap file header", err)
	}
	c.r, c.link, c.snaplen = pr, pr.LinkType(), pr.Snaplen() // (pcapgo keeps the low 16 bits of the link type: flag bits such as the FCS length drop off)
	res := "microsecond"
	if pr.Resolution().ToDuration() == time.Nanosecond {
		res = "nanosecond"
	}
	c.format = fmt.Sprintf("pcap %s, %s timestamps, snaplen %d", linkName(c.link), res, c.snaplen)
	return c, nil
}

// legacyVersion lets pcapgo, which wants version 2.4, read any 2.x file as
// libpcap and tshark do. Before 2.3 a record header has the captured and
// the original length the other way round (libpcap's "swapped" files).
func legacyVersion(br *bufio.Reader, note func(string)) io.Reader {
	hdr, _ := br.Peek(24)
	if len(hdr) < 24 {
		return br
	}
	bo := binary.ByteOrder(binary.LittleEndian)
	if m := binary.BigEndian.Uint32(hdr); m == 0xa1b2c3d4 || m == 0xa1b23c4d {
		bo = binary.BigEndian
	}
	major, minor := bo.Uint16(hdr[4:]), bo.Uint16(hdr[6:])
	if major != 2 || minor == 4 {
		return br
	}
	fixed := append([]byte(nil), hdr...)
	bo.PutUint16(fixed[6:], 4)
	br.Discard(24)
	var rest io.Reader = br
	if minor < 3 {
		rest = &swapLengths{r: br, bo: bo}
	}
	note(fmt.Sprintf("pcap header version 2.%d read as 2.4", minor))
	return io.MultiReader(bytes.NewReader(fixed), rest)
}

// frames decodes every record. A record that cannot be read ends the file:
// it is rejected at its byte offset and every frame before it is kept.
func (c *capture) frames(ctx context.Context, imp *importer, w *ingest.Writer) error {
	dec := newDecoder()
	var frame uint32
	for {
		at := c.offset()
		var data []byte
		var ci gopacket.CaptureInfo
		var comments []string
		var err error
		if c.ng != nil {
			var opts pcapgo.NgPacketOptions
			data, ci, opts, err = c.ng.ZeroCopyReadPacketDataWithOptions()
			comments = opts.Comments
		} else {
			data, ci, err = c.r.ZeroCopyReadPacketData()
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			reason := fmt.Sprintf("after frame %d: %v; the rest of the file cannot be read", frame, err)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				reason = fmt.Sprintf("the file ends inside the record of frame %d (%d bytes after its start): every complete frame before it is imported", frame+1, c.offset()-at)
			}
			w.Reject(at, "byte", "", reason)
			return nil
		}
		frame++
		if frame&0x3fff == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			imp.expire(ci.Timestamp.UnixNano())
		}
		l := c.link
		if c.ng != nil && len(ci.AncillaryData) > 0 {
			if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				l = lt
			}
		}
		p := pkt{frame: frame, offset: at, ts: ci.Timestamp.UnixNano(), capLen: ci.CaptureLength, wireLen: ci.Length,
			ifindex: -1, pkttype: -1, vlan: -1, icmpType: -1}
		if c.ng != nil {
			p.ifindex = int64(ci.InterfaceIndex)
		}
		dec.decode(l, data, &p)
		if ci.CaptureLength < ci.Length {
			p.truncated = true
		}
		imp.packet(&p)
		for _, cm := range comments {
			imp.comment(int64(frame), cm)
		}
	}
}

// describeInterfaces records a pcapng's interfaces and comments, known
// only once every block has been read, and returns the format.
func (c *capture) describeInterfaces(imp *importer) string {
	var links []string
	for i := 0; i < c.ng.NInterfaces(); i++ {
		in, _ := c.ng.Interface(i)
		imp.iface(int64(i), in.LinkType, int64(in.SnapLength), in.Name, strings.TrimSpace(in.Description+" "+in.Comment))
		if in.Comment != "" {
			imp.comment(-1, fmt.Sprintf("interface %d: %s", i, in.Comment))
		}
		links = append(links, linkName(in.LinkType))
	}
	if cm := c.ng.SectionInfo().Comment; cm != "" {
		imp.comment(-1, "section: "+cm)
	}
	return fmt.Sprintf("pcapng, %d interfaces (%s)", c.ng.NInterfaces(), strings.Join(links, ", "))
}

// unreadable is the error of a capture whose header does not parse: the
// Importer contract's file that cannot be read, at byte 0.
func unreadable(name string, what string, err error) error {
	return &ingest.PosError{ErrorPos: ingest.ErrorPos{File: name, Unit: "byte", N: 0}, Err: fmt.Errorf("%s: %w", what, err)}
}

// swapLengths rewrites the record headers of a pre-2.3 pcap, whose
// captured and original lengths are stored the other way round.
type swapLengths struct {
	r    io.Reader
	bo   binary.ByteOrder
	hdr  [16]byte
	out  []byte // header bytes not yet returned
	body int64  // record bytes left to pass through
}

func (s *swapLengths) Read(b []byte) (int, error) {
	if len(s.out) > 0 {
		n := copy(b, s.out)
		s.out = s.out[n:]
		return n, nil
	}
	if s.body > 0 {
		if int64(len(b)) > s.body {
			b = b[:s.body]
		}
		n, err := s.r.Read(b)
		s.body -= int64(n)
		return n, err
	}
	n, err := io.ReadFull(s.r, s.hdr[:])
	if err != nil {
		if n > 0 {
			return copy(b, s.hdr[:n]), nil // a cut-short header still reaches pcapgo
		}
		return 0, err
	}
	incl, orig := s.bo.Uint32(s.hdr[8:]), s.bo.Uint32(s.hdr[12:])
	if orig < incl {
		s.bo.PutUint32(s.hdr[8:], orig)
		s.bo.PutUint32(s.hdr[12:], incl)
	}
	s.body = int64(s.bo.Uint32(s.hdr[8:]))
	s.out = s.hdr[:]
	return s.Read(b)
}

type countReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// importer holds the state of one capture's import.
type importer struct {
	src  *ingest.Source
	w    *ingest.Writer
	id   int64
	node string

	pk, convs, msgs, proxies, addrs, ifaces, comments *ingest.Table

	addr4    map[[4]byte]uint32
	addr6    map[netip.Addr]uint32
	nextAddr uint32
	conns    map[convKey]*conv
	nextConv uint32
	ifSeen   map[int64]bool
	badDec   map[string]int64
	lastTs   int64
}

func newImporter(src *ingest.Source, w *ingest.Writer) (*importer, error) {
	imp := &importer{src: src, w: w, id: int64(src.ID), node: src.Opts.Node,
		addr4: map[[4]byte]uint32{}, addr6: map[netip.Addr]uint32{}, conns: map[convKey]*conv{},
		ifSeen: map[int64]bool{}, badDec: map[string]int64{}}
	var err error
	open := func(t **ingest.Table, records bool, table string, cols ...string) {
		if err != nil {
			return
		}
		if records {
			*t, err = w.Records(table, cols...)
		} else {
			*t, err = w.Table(table, cols...)
		}
	}
	if !src.Opts.NoPackets {
		open(&imp.pk, true, "packet_data", pkCols...)
	}
	open(&imp.convs, false, "tcp_conversations", convCols...)
	open(&imp.msgs, false, "http_messages", msgCols...)
	open(&imp.proxies, false, "proxy_headers", "evidence_id", "conv_id", "frame", "time", "version", "command", "family",
		"src_addr", "src_port", "dst_addr", "dst_port", "vpce_id")
	open(&imp.addrs, false, "addresses", "evidence_id", "addr_id", "addr")
	open(&imp.ifaces, false, "capture_interfaces", "evidence_id", "ifindex", "name", "link_type", "snaplen", "description")
	open(&imp.comments, false, "capture_comments", "evidence_id", "frame", "comment")
	if err != nil {
		return nil, err
	}
	if imp.pk != nil {
		imp.pk.Derive("evidence_id", fmt.Sprintf("%d::USMALLINT", src.ID))
	}
	return imp, nil
}

var pkCols = []string{"frame", "ts", "ifindex", "pkttype", "vlan", "ip_version", "src_id", "dst_id", "proto", "sport", "dport",
	"ip_id", "ttl", "frag", "tcp_flags", "seq", "ack", "win", "payload_len", "frame_len", "cap_len", "icmp_type", "icmp_code",
	"conv_id", "truncated", "decode_error"}

const (
	pFrame = iota
	pTs
	pIfindex
	pPkttype
	pVlan
	pIPVersion
	pSrc
	pDst
	pProto
	pSport
	pDport
	pIPID
	pTTL
	pFrag
	pFlags
	pSeq
	pAck
	pWin
	pPayload
	pFrameLen
	pCapLen
	pICMPType
	pICMPCode
	pConv
	pTruncated
	pError
)

func (imp *importer) addrID(a netip.Addr) uint32 {
	if a.Is4() {
		k := a.As4()
		if id, ok := imp.addr4[k]; ok {
			return id
		}
		imp.nextAddr++
		imp.addr4[k] = imp.nextAddr
	} else {
		if id, ok := imp.addr6[a]; ok {
			return id
		}
		imp.nextAddr++
		imp.addr6[a] = imp.nextAddr
	}
	t := imp.addrs
	t.Int(0, imp.id)
	t.Int(1, int64(imp.nextAddr))
	t.Str(2, a.String())
	t.Row()
	return imp.nextAddr
}

// packet records one frame and follows its TCP conversation.
func (imp *importer) packet(p *pkt) {
	imp.lastTs = p.ts
	imp.w.SeeTimeNS(p.ts)
	if p.err != "" {
		imp.badDec[p.err]++
	}
	var c *conv
	if p.hasTCP && p.frag < 2 {
		c = imp.follow(p)
	}
	t := imp.pk
	if t == nil {
		imp.w.AddRecords(1) // a packet, read back from the capture on demand
		return
	}
	t.Int(pFrame, int64(p.frame))
	t.Nanos(pTs, p.ts)
	if p.ifindex >= 0 {
		t.Int(pIfindex, p.ifindex)
		if p.sll2 {
			imp.ifSeen[p.ifindex] = true
		}
	}
	if p.pkttype >= 0 {
		t.Int(pPkttype, int64(p.pkttype))
	}
	if p.vlan >= 0 {
		t.Int(pVlan, int64(p.vlan))
	}
	if p.ipVersion != 0 {
		t.Int(pIPVersion, int64(p.ipVersion))
		t.Int(pSrc, int64(imp.addrID(p.src.Addr())))
		t.Int(pDst, int64(imp.addrID(p.dst.Addr())))
		t.Int(pProto, int64(p.proto))
		if p.proto == 6 || p.proto == 17 {
			t.Int(pSport, int64(p.src.Port()))
			t.Int(pDport, int64(p.dst.Port()))
		}
		t.Int(pIPID, int64(p.ipID))
		t.Int(pTTL, int64(p.ttl))
		t.Int(pFrag, int64(p.frag))
		t.Int(pPayload, int64(p.payloadLen))
	}
	if c != nil {
		t.Int(pFlags, int64(p.flags))
		t.Int(pSeq, int64(p.seq))
		t.Int(pAck, int64(p.ack))
		t.Int(pWin, int64(p.win))
		t.Int(pConv, int64(c.id))
	}
	t.Int(pFrameLen, int64(p.wireLen))
	t.Int(pCapLen, int64(p.capLen))
	if p.icmpType >= 0 {
		t.Int(pICMPType, int64(p.icmpType))
		t.Int(pICMPCode, int64(p.icmpCode))
	}
	t.Bool(pTruncated, p.truncated)
	if p.err != "" {
		t.Str(pError, p.err)
	}
	t.Row()
}

// follow finds (or starts) the packet's conversation, as tshark's
// tcp.stream does: a SYN whose sequence number differs from the one that
// opened the conversation on the same 4-tuple starts a new one.
func (imp *importer) follow(p *pkt) *conv {
	key, _ := keyOf(p.src, p.dst)
	c := imp.conns[key]
	synOnly := p.flags&0x12 == 0x02
	if c != nil && synOnly {
		d := c.dir(p.src)
		if c.isnSet[d] && c.isn[d] != p.seq {
			imp.close(c)
			delete(imp.conns, key)
			c = nil
		}
	}
	if c == nil {
		c = &conv{id: imp.nextConv, firstTs: p.ts, firstFrame: p.frame, firstOffset: p.offset, a: p.src, b: p.dst}
		if p.flags&0x12 == 0x12 { // first seen: the SYN-ACK
			c.a, c.b = p.dst, p.src
		}
		imp.nextConv++
		imp.conns[key] = c
	}
	c.update(p)
	d := c.dir(p.src)
	ds := c.dirs[d]
	if ds == nil {
		ds = &dirState{imp: imp, c: c, src: p.src, dst: p.dst, atHead: true}
		ds.st.sink = ds
		c.dirs[d] = ds
	}
	if p.flags&0x02 != 0 {
		ds.st.syn(p.seq)
	}
	cut := p.payloadLen - len(p.payload)
	if len(p.payload) > 0 || cut > 0 {
		seq := p.seq
		if p.flags&0x02 != 0 {
			seq++ // data on a SYN follows it
		}
		ds.st.segment(seq, p.payload, cut, p.ts, p.frame)
	}
	if p.flags&0x01 != 0 {
		ds.end()
	}
	if p.flags&0x04 != 0 {
		for _, x := range c.dirs {
			if x != nil {
				x.end()
			}
		}
	}
	return c
}

// expire closes conversations silent for idleTimeout.
func (imp *importer) expire(now int64) {
	var old []*conv
	for k, c := range imp.conns {
		silent := now - c.lastTs
		ended := c.resets > 0 || (c.fin[0] && c.fin[1])
		if silent > int64(idleTimeout) || (ended && silent > int64(closedTimeout)) {
			old = append(old, c)
			delete(imp.conns, k)
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].id < old[j].id })
	for _, c := range old {
		imp.close(c)
	}
}

var convCols = []string{"evidence_id", "conv_id", "node", "a_addr", "a_port", "b_addr", "b_port", "first_time", "last_time",
	"first_frame", "last_frame", "syn_time", "synack_time", "ack_time", "handshake_rtt_ms", "isn_a", "isn_b",
	"packets_ab", "bytes_ab", "payload_ab", "packets_ba", "bytes_ba", "payload_ba", "retransmissions", "zero_windows",
	"resets", "end_reason", "saw_start", "first_offset", "last_offset", "history"}

// close ends a conversation's streams and writes its row.
func (imp *importer) close(c *conv) {
	if c.closed {
		return
	}
	c.closed = true
	for _, d := range c.dirs {
		if d != nil {
			d.end()
		}
	}
	t := imp.convs
	t.Int(0, imp.id)
	t.Int(1, int64(c.id))
	if imp.node != "" {
		t.Str(2, imp.node)
	}
	t.Str(3, c.a.Addr().String())
	t.Int(4, int64(c.a.Port()))
	t.Str(5, c.b.Addr().String())
	t.Int(6, int64(c.b.Port()))
	t.Nanos(7, c.firstTs)
	t.Nanos(8, c.lastTs)
	t.Int(9, int64(c.firstFrame))
	t.Int(10, int64(c.lastFrame))
	if c.synTs != 0 {
		t.Nanos(11, c.synTs)
	}
	if c.synackTs != 0 {
		t.Nanos(12, c.synackTs)
	}
	if c.ackTs != 0 {
		t.Nanos(13, c.ackTs)
		if c.synTs != 0 {
			t.Float(14, float64(c.ackTs-c.synTs)/1e6)
		}
	}
	if c.isnSet[0] {
		t.Int(15, int64(c.isn[0]))
	}
	if c.isnSet[1] {
		t.Int(16, int64(c.isn[1]))
	}
	for i, v := range []int64{c.packets[0], c.bytes[0], c.payload[0], c.packets[1], c.bytes[1], c.payload[1], c.retrans, c.zeroWindows, c.resets} {
		t.Int(17+i, v)
	}
	t.Str(26, c.endReason())
	t.Bool(27, c.sawStart)
	t.Int(28, c.firstOffset)
	t.Int(29, c.lastOffset)
	t.Str(30, string(c.history))
	t.Row()
}

var msgCols = []string{"evidence_id", "conv_id", "msg_index", "is_request", "first_time", "last_time", "first_frame", "last_frame",
	"src_addr", "src_port", "dst_addr", "dst_port", "method", "uri", "version", "host", "status", "reason", "content_length",
	"body_bytes", "headers", "request_id", "x_forwarded_for", "x_amzn_trace_id", "user_agent", "latency_ms", "incomplete"}

// httpMessage writes a message and pairs a response with its request.
func (imp *importer) httpMessage(c *conv, ds *dirState, m *httpMsg) {
	t := imp.msgs
	t.Int(0, imp.id)
	t.Int(1, int64(c.id))
	if m.isReq {
		t.Int(2, int64(c.nReq))
		c.queue = append(c.queue, pendingReq{index: c.nReq, method: m.method, lastTs: m.lastTs})
		c.nReq++
	} else if len(c.queue) > 0 {
		q := c.queue[0]
		c.queue = c.queue[1:]
		t.Int(2, int64(q.index))
		t.Float(25, float64(m.firstTs-q.lastTs)/1e6)
	}
	t.Bool(3, m.isReq)
	t.Nanos(4, m.firstTs)
	t.Nanos(5, m.lastTs)
	t.Int(6, int64(m.firstFrame))
	t.Int(7, int64(m.lastFrame))
	t.Str(8, ds.src.Addr().String())
	t.Int(9, int64(ds.src.Port()))
	t.Str(10, ds.dst.Addr().String())
	t.Int(11, int64(ds.dst.Port()))
	opt := func(i int, s string) {
		if s != "" {
			t.Str(i, s)
		}
	}
	opt(12, m.method)
	opt(13, m.uri)
	opt(14, m.version)
	opt(15, m.header("host"))
	if !m.isReq {
		t.Int(16, int64(m.status))
		opt(17, m.reason)
	}
	if m.contentLength >= 0 {
		t.Int(18, m.contentLength)
	}
	t.Int(19, m.bodyBytes)
	opt(20, m.headers)
	rid := m.header("request-id")
	if rid == "" {
		rid = m.header("x-request-id")
	}
	opt(21, rid)
	opt(22, m.header("x-forwarded-for"))
	opt(23, m.header("x-amzn-trace-id"))
	opt(24, m.header("user-agent"))
	opt(26, m.incomplete)
	t.Row()
}

func (imp *importer) proxyHeader(c *conv, h *ProxyHeader, ts int64, frame uint32) {
	t := imp.proxies
	t.Int(0, imp.id)
	t.Int(1, int64(c.id))
	t.Int(2, int64(frame))
	t.Nanos(3, ts)
	t.Int(4, int64(h.Version))
	t.Str(5, h.Command)
	t.Str(6, h.Family)
	if h.Src.IsValid() {
		t.Str(7, h.Src.Addr().String())
		t.Int(8, int64(h.Src.Port()))
		t.Str(9, h.Dst.Addr().String())
		t.Int(10, int64(h.Dst.Port()))
	}
	if h.VPCE != "" {
		t.Str(11, h.VPCE)
	}
	t.Row()
}

func (imp *importer) iface(index int64, link layers.LinkType, snaplen int64, name, desc string) {
	t := imp.ifaces
	t.Int(0, imp.id)
	if index >= 0 {
		t.Int(1, index)
	}
	if name != "" {
		t.Str(2, name)
	}
	t.Str(3, linkName(link))
	t.Int(4, snaplen)
	if desc != "" {
		t.Str(5, desc)
	}
	t.Row()
}

func (imp *importer) comment(frame int64, s string) {
	t := imp.comments
	t.Int(0, imp.id)
	if frame >= 0 {
		t.Int(1, frame)
	}
	t.Str(2, s)
	t.Row()
}

// finish closes every conversation still open, in conversation order, and
// notes what could not be decoded.
func (imp *importer) finish() {
	open := make([]*conv, 0, len(imp.conns))
	for _, c := range imp.conns {
		open = append(open, c)
	}
	sort.Slice(open, func(i, j int) bool { return open[i].id < open[j].id })
	for _, c := range open {
		imp.close(c)
	}
	var ifs []int64
	for i := range imp.ifSeen {
		ifs = append(ifs, i)
	}
	sort.Slice(ifs, func(i, j int) bool { return ifs[i] < ifs[j] })
	for _, i := range ifs {
		imp.iface(i, layers.LinkTypeLinuxSLL2, 0, "", "interface index from the SLL2 header")
	}
	var reasons []string
	for r := range imp.badDec {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		imp.w.Note(fmt.Sprintf("%d frames did not decode completely (kept with decode_error): %s", imp.badDec[r], r))
	}
}
