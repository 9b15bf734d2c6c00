package pcap

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Position is where to start reading a capture: the record at byte Offset
// is frame Frame (1-based). The zero Position is the first frame.
type Position struct {
	Offset int64
	Frame  int64
}

// Packet is a frame read back from a kept capture, decoded as import
// decodes it: the columns of the case's packets view.
type Packet struct{ p pkt }

// PacketColumns are the columns of Values, those of the packets view.
var PacketColumns = []string{"evidence_id", "frame", "ts", "ifindex", "pkttype", "direction", "vlan", "ip_version", "src", "dst",
	"proto", "sport", "dport", "ip_id", "ttl", "frag", "tcp_flags", "seq", "ack", "win", "payload_len", "frame_len", "cap_len",
	"icmp_type", "icmp_code", "conv_id", "truncated", "decode_error"}

func (x *Packet) Frame() int64        { return int64(x.p.frame) }
func (x *Packet) Time() time.Time     { return time.Unix(0, x.p.ts).UTC() }
func (x *Packet) Src() netip.AddrPort { return x.p.src }
func (x *Packet) Dst() netip.AddrPort { return x.p.dst }
func (x *Packet) TCP() bool           { return x.p.hasTCP && x.p.frag < 2 }
func (x *Packet) Flags() uint16       { return x.p.flags }
func (x *Packet) Seq() uint32         { return x.p.seq }
func (x *Packet) Ack() uint32         { return x.p.ack }
func (x *Packet) PayloadLen() int     { return x.p.payloadLen }
func (x *Packet) Proto() uint8        { return x.p.proto }
func (x *Packet) IPVersion() int      { return x.p.ipVersion }
func (x *Packet) Offset() int64       { return x.p.offset }
func (x *Packet) Payload() []byte     { return x.p.payload }

// Values are the packet's columns (PacketColumns), NULLs as nil, with the
// evidence and the conversation it belongs to (nil when none).
func (x *Packet) Values(evidenceID int, conv *int64) []any {
	p := &x.p
	v := make([]any, len(PacketColumns))
	v[0], v[1], v[2] = int64(evidenceID), int64(p.frame), x.Time()
	if p.ifindex >= 0 {
		v[3] = p.ifindex
	}
	if p.pkttype >= 0 {
		v[4] = int64(p.pkttype)
		v[5] = map[int]any{4: "out", 0: "in", 1: "broadcast", 2: "multicast", 3: "otherhost"}[p.pkttype]
	}
	if p.vlan >= 0 {
		v[6] = int64(p.vlan)
	}
	if p.ipVersion != 0 {
		v[7], v[8], v[9], v[10] = int64(p.ipVersion), p.src.Addr().String(), p.dst.Addr().String(), int64(p.proto)
		if p.proto == 6 || p.proto == 17 {
			v[11], v[12] = int64(p.src.Port()), int64(p.dst.Port())
		}
		v[13], v[14], v[15], v[20] = int64(p.ipID), int64(p.ttl), int64(p.frag), int64(p.payloadLen)
	}
	if x.TCP() {
		v[16], v[17], v[18], v[19] = int64(p.flags), int64(p.seq), int64(p.ack), int64(p.win)
		if conv != nil {
			v[25] = *conv
		}
	}
	v[21], v[22] = int64(p.wireLen), int64(p.capLen)
	if p.icmpType >= 0 {
		v[23], v[24] = int64(p.icmpType), int64(p.icmpCode)
	}
	v[26] = p.truncated
	if p.err != "" {
		v[27] = p.err
	}
	return v
}

// Read decodes the frames of the capture at path from pos on, giving each
// to yield until it returns false or the file ends. A pcap file is read
// from pos.Offset (the record there is frame pos.Frame): one conversation
// costs what its own frames cost, wherever it lies in the file. A pcapng
// file, whose interfaces are described in blocks before, is read from its
// start, frames before pos.Frame skipped. The packet given to yield is
// reused: copy what is kept.
func Read(ctx context.Context, path string, pos Position, yield func(*Packet) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var hdr [24]byte
	n, _ := io.ReadFull(f, hdr[:])
	var r io.Reader
	frame := int64(0)
	base := int64(0) // the file offset of what r reads at 0
	if n == 24 && plainPcap(hdr[:]) && pos.Frame > 1 && pos.Offset >= 24 {
		if _, err := f.Seek(pos.Offset, io.SeekStart); err != nil {
			return err
		}
		r, frame, base = io.MultiReader(bytes.NewReader(hdr[:]), f), pos.Frame-1, pos.Offset-24
	} else {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r = f
	}
	c, err := openCapture(path, func(string) {}, r)
	if err != nil {
		return err
	}
	dec := newDecoder()
	var x Packet
	for {
		if frame&0x3ff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		at := base + c.offset()
		var data []byte
		var ci gopacket.CaptureInfo
		if c.ng != nil {
			data, ci, _, err = c.ng.ZeroCopyReadPacketDataWithOptions()
		} else {
			data, ci, err = c.r.ZeroCopyReadPacketData()
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: after frame %d: %w", path, frame, err)
		}
		frame++
		if frame < pos.Frame {
			continue
		}
		l := c.link
		if c.ng != nil && len(ci.AncillaryData) > 0 {
			if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				l = lt
			}
		}
		x.p = pkt{frame: uint32(frame), offset: at, ts: ci.Timestamp.UnixNano(), capLen: ci.CaptureLength, wireLen: ci.Length,
			ifindex: -1, pkttype: -1, vlan: -1, icmpType: -1}
		if c.ng != nil {
			x.p.ifindex = int64(ci.InterfaceIndex)
		}
		dec.decode(l, data, &x.p)
		if ci.CaptureLength < ci.Length {
			x.p.truncated = true
		}
		if !yield(&x) {
			return nil
		}
	}
}

// plainPcap says whether a file header is pcap 2.4, whose records can be
// read from any record's offset behind the header.
func plainPcap(hdr []byte) bool {
	m := binary.LittleEndian.Uint32(hdr)
	var bo binary.ByteOrder = binary.LittleEndian
	switch m {
	case 0xa1b2c3d4, 0xa1b23c4d:
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return false
	}
	return bo.Uint16(hdr[4:]) == 2 && bo.Uint16(hdr[6:]) == 4
}
