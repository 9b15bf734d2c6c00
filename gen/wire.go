package gen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// Link types of the captures tcpdump -i any writes.
const (
	linkSLL  = 113 // LINKTYPE_LINUX_SLL: tcpdump before 4.99 / libpcap 1.10
	linkSLL2 = 276 // LINKTYPE_LINUX_SLL2: carries the interface index
)

// Linux packet types, as the cooked header records them.
const (
	pktHost     = 0 // to this host
	pktOutgoing = 4 // sent by this host
)

// TCP flags.
const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fPSH = 0x08
	fACK = 0x10
)

// iface is an interface of a node as a capture on "any" sees it.
type iface struct {
	name  string
	index uint32
	mac   [6]byte
}

// frame is one captured packet, before encoding.
type frame struct {
	ts      time.Time
	ifc     *iface
	pkttype uint8
	src     netip.AddrPort
	dst     netip.AddrPort
	proto   uint8 // 6 TCP, 17 UDP
	ipID    uint16
	ttl     uint8
	flags   uint8
	seq     uint32
	ack     uint32
	win     uint16
	opts    []byte // TCP options, already padded to 4 bytes
	payload []byte
}

// ipLen is the IP total length of the frame: what flow logs count as bytes.
func (f *frame) ipLen() int {
	if f.proto == 17 {
		return 20 + 8 + len(f.payload)
	}
	return 20 + 20 + len(f.opts) + len(f.payload)
}

// encode appends the cooked header and the IPv4 packet to b.
func (f *frame) encode(b []byte, link int) []byte {
	switch link {
	case linkSLL:
		var h [16]byte
		binary.BigEndian.PutUint16(h[0:], uint16(f.pkttype))
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], f.ifc.mac[:])
		binary.BigEndian.PutUint16(h[14:], 0x0800)
		b = append(b, h[:]...)
	case linkSLL2:
		var h [20]byte
		binary.BigEndian.PutUint16(h[0:], 0x0800)
		binary.BigEndian.PutUint32(h[4:], f.ifc.index)
		binary.BigEndian.PutUint16(h[8:], 1)
		h[10] = f.pkttype
		h[11] = 6
		copy(h[12:], f.ifc.mac[:])
		b = append(b, h[:]...)
	}
	ip := len(b)
	total := f.ipLen()
	b = append(b, 0x45, 0, byte(total>>8), byte(total), byte(f.ipID>>8), byte(f.ipID), 0x40, 0, f.ttl, f.proto, 0, 0)
	s4, d4 := f.src.Addr().As4(), f.dst.Addr().As4()
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	cs := checksum(b[ip:ip+20], 0)
	binary.BigEndian.PutUint16(b[ip+10:], cs)

	l4 := len(b)
	pseudo := sum16(s4[:], 0)
	pseudo = sum16(d4[:], pseudo)
	pseudo += uint32(f.proto) + uint32(total-20)
	if f.proto == 17 {
		ul := 8 + len(f.payload)
		b = append(b, byte(f.src.Port()>>8), byte(f.src.Port()), byte(f.dst.Port()>>8), byte(f.dst.Port()), byte(ul>>8), byte(ul), 0, 0)
		b = append(b, f.payload...)
		c := checksum(b[l4:], pseudo)
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(b[l4+6:], c)
		return b
	}
	off := byte((20 + len(f.opts)) / 4 << 4)
	b = append(b, byte(f.src.Port()>>8), byte(f.src.Port()), byte(f.dst.Port()>>8), byte(f.dst.Port()))
	b = binary.BigEndian.AppendUint32(b, f.seq)
	b = binary.BigEndian.AppendUint32(b, f.ack)
	b = append(b, off, f.flags, byte(f.win>>8), byte(f.win), 0, 0, 0, 0)
	b = append(b, f.opts...)
	b = append(b, f.payload...)
	binary.BigEndian.PutUint16(b[l4+16:], checksum(b[l4:], pseudo))
	return b
}

func sum16(b []byte, s uint32) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func checksum(b []byte, s uint32) uint16 {
	s = sum16(b, s)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// synOpts are the options of a Linux SYN: MSS, SACK permitted, timestamps,
// window scale, as in the seed capture.
func synOpts(mss uint16, tsval, tsecr uint32, wscale uint8) []byte {
	b := []byte{2, 4, byte(mss >> 8), byte(mss), 4, 2, 8, 10}
	b = binary.BigEndian.AppendUint32(b, tsval)
	b = binary.BigEndian.AppendUint32(b, tsecr)
	return append(b, 1, 3, 3, wscale)
}

// tsOpts are NOP, NOP, timestamps: the options of every later segment.
func tsOpts(tsval, tsecr uint32) []byte {
	b := []byte{1, 1, 8, 10}
	b = binary.BigEndian.AppendUint32(b, tsval)
	return binary.BigEndian.AppendUint32(b, tsecr)
}

// pcapWriter writes one node's capture as tcpdump -G 600 -w
// tcpdump_%Y%m%d_%H%M%S.pcap does: a new file every rotate, named by the
// time the file was started.
type pcapWriter struct {
	dir    string
	link   int
	rotate time.Duration
	snap   uint32

	f       *os.File
	w       *bufio.Writer
	fileEnd time.Time
	buf     []byte
	files   []string
	packets map[string]int64
	bytes   int64
}

func newPcapWriter(dir string, link int, rotate time.Duration) *pcapWriter {
	return &pcapWriter{dir: dir, link: link, rotate: rotate, snap: 262144, packets: map[string]int64{}}
}

func (p *pcapWriter) write(f *frame) error {
	if p.f == nil || !f.ts.Before(p.fileEnd) {
		if err := p.open(f.ts); err != nil {
			return err
		}
	}
	p.buf = f.encode(p.buf[:0], p.link)
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(f.ts.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(f.ts.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(p.buf)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(p.buf)))
	p.w.Write(h[:])
	_, err := p.w.Write(p.buf)
	p.packets[p.files[len(p.files)-1]]++
	p.bytes += int64(16 + len(p.buf))
	return err
}

// open starts the file that holds time t. tcpdump -G names files by the
// time they were opened and opens the next one on the first packet after
// the interval; the first file starts at the capture's start.
func (p *pcapWriter) open(t time.Time) error {
	if err := p.close(); err != nil {
		return err
	}
	start := t
	if !p.fileEnd.IsZero() {
		for !t.Before(p.fileEnd.Add(p.rotate)) {
			p.fileEnd = p.fileEnd.Add(p.rotate)
		}
		start = p.fileEnd
	}
	p.fileEnd = start.Add(p.rotate)
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	name := filepath.Join(p.dir, "tcpdump_"+start.UTC().Format("20060102_150405")+".pcap")
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	p.f, p.w = f, bufio.NewWriterSize(f, 1<<20)
	p.files = append(p.files, name)
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], p.snap)
	binary.LittleEndian.PutUint32(h[20:], uint32(p.link))
	_, err = p.w.Write(h[:])
	p.bytes += 24
	return err
}

// start sets the time the capture started (the first file's name).
func (p *pcapWriter) start(t time.Time) error {
	if p.f != nil {
		return fmt.Errorf("capture already started")
	}
	return p.open(t)
}

func (p *pcapWriter) close() error {
	if p.f == nil {
		return nil
	}
	err := p.w.Flush()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f, p.w = nil, nil
	return err
}
