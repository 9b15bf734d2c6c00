package pcap

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// pkt is what l4case keeps of one captured frame.
type pkt struct {
	frame      uint32
	offset     int64 // byte offset of the frame's record in the capture file
	ts         int64
	capLen     int
	wireLen    int
	ifindex    int64 // -1 when the link layer has none
	pkttype    int   // Linux cooked packet type, -1 when not cooked
	vlan       int   // -1 when untagged
	ipVersion  int   // 0 when not IP
	src, dst   netip.AddrPort
	proto      uint8
	ipID       uint32
	ttl        uint8
	frag       uint8
	flags      uint16
	seq, ack   uint32
	win        uint16
	payloadLen int    // transport payload on the wire
	payload    []byte // transport payload captured (may be shorter)
	icmpType   int    // -1 when not ICMP
	icmpCode   int
	truncated  bool
	hasTCP     bool // the TCP header decoded
	sll2       bool // ifindex comes from an SLL2 header
	err        string
}

// decoder decodes frames with gopacket's DecodingLayerParser: one parser
// per first layer, layers reused, no allocation per packet.
type decoder struct {
	eth     layers.Ethernet
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	dot1q   layers.Dot1Q
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	icmp4   layers.ICMPv4
	icmp6   layers.ICMPv6
	payload gopacket.Payload
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2,
		layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		p := gopacket.NewDecodingLayerParser(first, &d.eth, &d.sll, &d.sll2, &d.loop, &d.dot1q, &d.ip4, &d.ip6,
			&d.tcp, &d.udp, &d.icmp4, &d.icmp6, &d.payload)
		p.IgnoreUnsupported = true
		d.parsers[first] = p
	}
	return d
}

// firstLayer is the layer a link type starts with; raw IP picks by version.
func firstLayer(link layers.LinkType, data []byte) (gopacket.LayerType, error) {
	switch link {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, nil
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, nil
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, nil
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, nil
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4, nil
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6, nil
	case layers.LinkTypeRaw, 12:
		if len(data) > 0 && data[0]>>4 == 6 {
			return layers.LayerTypeIPv6, nil
		}
		return layers.LayerTypeIPv4, nil
	}
	return 0, fmt.Errorf("link type %s (%d) is not supported", link, int(link))
}

// decode fills p from a frame of the given link type. Whatever decodes
// before an error is kept; the error is recorded in p.err.
func (d *decoder) decode(link layers.LinkType, data []byte, p *pkt) {
	first, err := firstLayer(link, data)
	if err != nil {
		p.err = err.Error()
		return
	}
	parser := d.parsers[first]
	err = parser.DecodeLayers(data, &d.decoded)
	if err != nil && (first == layers.LayerTypeLinuxSLL || first == layers.LayerTypeLinuxSLL2) && len(d.decoded) == 0 {
		// gopacket refuses a cooked header whose address length field is
		// over 8; the header is a fixed size all the same, and tshark
		// decodes what follows it.
		if next, rest, ok := cookedFallback(first, data, p); ok {
			err = d.parsers[next].DecodeLayers(rest, &d.decoded)
		}
	}
	if parser.Truncated {
		p.truncated = true
	}
	if err != nil {
		p.err = err.Error()
	}
	var tcpHdr int
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeLinuxSLL:
			p.pkttype = int(d.sll.PacketType)
		case layers.LayerTypeLinuxSLL2:
			p.pkttype = int(d.sll2.PacketType)
			p.ifindex, p.sll2 = int64(d.sll2.InterfaceIndex), true
		case layers.LayerTypeDot1Q:
			p.vlan = int(d.dot1q.VLANIdentifier)
		case layers.LayerTypeIPv4:
			ip := &d.ip4
			p.ipVersion = 4
			s, _ := netip.AddrFromSlice(ip.SrcIP.To4())
			t, _ := netip.AddrFromSlice(ip.DstIP.To4())
			p.src, p.dst = netip.AddrPortFrom(s, 0), netip.AddrPortFrom(t, 0)
			p.proto, p.ipID, p.ttl = uint8(ip.Protocol), uint32(ip.Id), ip.TTL
			switch {
			case ip.FragOffset > 0:
				p.frag = 2
			case ip.Flags&layers.IPv4MoreFragments != 0:
				p.frag = 1
			}
			p.payloadLen = int(ip.Length) - int(ip.IHL)*4
		case layers.LayerTypeIPv6:
			ip := &d.ip6
			p.ipVersion = 6
			s, _ := netip.AddrFromSlice(ip.SrcIP)
			t, _ := netip.AddrFromSlice(ip.DstIP)
			p.src, p.dst = netip.AddrPortFrom(s, 0), netip.AddrPortFrom(t, 0)
			p.proto, p.ipID, p.ttl = uint8(ip.NextHeader), ip.FlowLabel, ip.HopLimit
			p.payloadLen = int(ip.Length)
		case layers.LayerTypeTCP:
			t := &d.tcp
			p.hasTCP = true
			p.src = netip.AddrPortFrom(p.src.Addr(), uint16(t.SrcPort))
			p.dst = netip.AddrPortFrom(p.dst.Addr(), uint16(t.DstPort))
			p.seq, p.ack, p.win = t.Seq, t.Ack, t.Window
			p.flags = tcpFlags(t)
			tcpHdr = int(t.DataOffset) * 4
			p.payload = t.Payload
			p.payloadLen -= tcpHdr
		case layers.LayerTypeUDP:
			u := &d.udp
			p.src = netip.AddrPortFrom(p.src.Addr(), uint16(u.SrcPort))
			p.dst = netip.AddrPortFrom(p.dst.Addr(), uint16(u.DstPort))
			p.payload = u.Payload
			p.payloadLen -= 8
		case layers.LayerTypeICMPv4:
			p.icmpType, p.icmpCode = int(d.icmp4.TypeCode.Type()), int(d.icmp4.TypeCode.Code())
			p.payloadLen -= 8
		case layers.LayerTypeICMPv6:
			p.icmpType, p.icmpCode = int(d.icmp6.TypeCode.Type()), int(d.icmp6.TypeCode.Code())
			p.payloadLen -= 4
		}
	}
	if p.ipVersion != 0 && p.proto == 6 && !p.hasTCP {
		d.tcpFallback(p)
	}
	if p.ipVersion == 0 || p.payloadLen < 0 {
		p.payloadLen = 0
	}
	if len(p.payload) > p.payloadLen {
		p.payload = p.payload[:p.payloadLen] // Ethernet padding is not payload
	}
	if len(p.payload) < p.payloadLen {
		p.truncated = true
	}
}

// cookedFallback reads an SLL or SLL2 header without checking its address
// length, and returns the layer that follows it.
func cookedFallback(first gopacket.LayerType, data []byte, p *pkt) (gopacket.LayerType, []byte, bool) {
	var proto uint16
	var rest []byte
	if first == layers.LayerTypeLinuxSLL {
		if len(data) < 16 {
			return 0, nil, false
		}
		p.pkttype = int(binary.BigEndian.Uint16(data[0:2]))
		proto, rest = binary.BigEndian.Uint16(data[14:16]), data[16:]
	} else {
		if len(data) < 20 {
			return 0, nil, false
		}
		proto, rest = binary.BigEndian.Uint16(data[0:2]), data[20:]
		p.ifindex, p.sll2 = int64(binary.BigEndian.Uint32(data[4:8])), true
		p.pkttype = int(data[10])
	}
	switch proto {
	case 0x0800:
		return layers.LayerTypeIPv4, rest, true
	case 0x86dd:
		return layers.LayerTypeIPv6, rest, true
	}
	return 0, nil, false
}

// tcpFallback reads the fixed part of a TCP header that gopacket refused
// (cut by the snap length inside its options, or with a bogus length):
// tshark still reads its ports, numbers and flags and files it under its
// stream, and so does l4case.
func (d *decoder) tcpFallback(p *pkt) {
	var b []byte
	if p.ipVersion == 4 {
		b = d.ip4.Payload
	} else {
		b = d.ip6.Payload
	}
	if len(b) < 20 || p.frag > 1 {
		return
	}
	off := int(b[12]>>4) * 4
	if off < 20 {
		off = 20 // a bogus header length: tshark still files the segment under its ports
	}
	p.hasTCP = true
	p.src = netip.AddrPortFrom(p.src.Addr(), binary.BigEndian.Uint16(b[0:2]))
	p.dst = netip.AddrPortFrom(p.dst.Addr(), binary.BigEndian.Uint16(b[2:4]))
	p.seq, p.ack = binary.BigEndian.Uint32(b[4:8]), binary.BigEndian.Uint32(b[8:12])
	p.flags = uint16(b[13]) | uint16(b[12]&1)<<8
	p.win = binary.BigEndian.Uint16(b[14:16])
	p.payloadLen -= off
	p.payload = nil
	p.truncated = true
}

func tcpFlags(t *layers.TCP) uint16 {
	var f uint16
	for i, b := range []bool{t.FIN, t.SYN, t.RST, t.PSH, t.ACK, t.URG, t.ECE, t.CWR, t.NS} {
		if b {
			f |= 1 << i
		}
	}
	return f
}

// linkName is the LINKTYPE_ name tcpdump prints.
func linkName(link layers.LinkType) string {
	switch link {
	case layers.LinkTypeEthernet:
		return "EN10MB"
	case layers.LinkTypeLinuxSLL:
		return "LINUX_SLL"
	case layers.LinkTypeLinuxSLL2:
		return "LINUX_SLL2"
	case layers.LinkTypeNull:
		return "NULL"
	case layers.LinkTypeLoop:
		return "LOOP"
	case layers.LinkTypeRaw, 12:
		return "RAW"
	case layers.LinkTypeIPv4:
		return "IPV4"
	case layers.LinkTypeIPv6:
		return "IPV6"
	}
	return fmt.Sprintf("%s (%d)", link, int(link))
}
