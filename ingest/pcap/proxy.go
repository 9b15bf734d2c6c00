package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ProxyHeader is a PROXY protocol header (HAProxy's spec, v1 text or v2
// binary) at the start of a connection: how a load balancer tells the
// backend who the client was.
type ProxyHeader struct {
	Version  int
	Command  string // PROXY or LOCAL
	Family   string // TCP4, TCP6, UDP4, UDP6, UNIX, UNKNOWN
	Src, Dst netip.AddrPort
	VPCE     string // AWS TLV 0xEA subtype 0x01: the VPC endpoint id
}

var v2sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// errMore says the bytes so far are the beginning of a PROXY header and
// more are needed.
var errMore = errors.New("need more bytes")

// looksLikeProxy says whether b could start a PROXY header.
func looksLikeProxy(b []byte) bool {
	n := min(len(b), 6)
	if bytes.Equal(b[:n], []byte("PROXY ")[:n]) {
		return true
	}
	n = min(len(b), len(v2sig))
	return n > 0 && bytes.Equal(b[:n], v2sig[:n])
}

// ParseProxy reads a PROXY header at the start of b and returns it with its
// length. errMore means b is a prefix of one; any other error means b
// starts like a PROXY header but is not a valid one.
func ParseProxy(b []byte) (*ProxyHeader, int, error) {
	if len(b) >= 1 && b[0] == 'P' {
		return parseV1(b)
	}
	if len(b) < 16 {
		if bytes.HasPrefix(v2sig, b) || bytes.HasPrefix(b, v2sig) {
			return nil, 0, errMore
		}
		return nil, 0, errors.New("not a PROXY header")
	}
	return parseV2(b)
}

func parseV1(b []byte) (*ProxyHeader, int, error) {
	// The line is at most 107 bytes including CRLF.
	end := bytes.Index(b[:min(len(b), 107)], []byte("\r\n"))
	if end < 0 {
		if len(b) < 107 {
			return nil, 0, errMore
		}
		return nil, 0, errors.New("PROXY v1 line longer than 107 bytes")
	}
	f := strings.Split(string(b[:end]), " ")
	if f[0] != "PROXY" || len(f) < 2 {
		return nil, 0, errors.New("PROXY v1 line without a protocol")
	}
	h := &ProxyHeader{Version: 1, Command: "PROXY", Family: f[1]}
	switch f[1] {
	case "UNKNOWN":
		return h, end + 2, nil
	case "TCP4", "TCP6":
	default:
		return nil, 0, fmt.Errorf("PROXY v1 protocol %q is not TCP4, TCP6 or UNKNOWN", truncateStr(f[1], 16))
	}
	if len(f) != 6 {
		return nil, 0, fmt.Errorf("PROXY v1 line has %d fields, 6 expected", len(f))
	}
	src, err1 := netip.ParseAddr(f[2])
	dst, err2 := netip.ParseAddr(f[3])
	sp, err3 := strconv.ParseUint(f[4], 10, 16)
	dp, err4 := strconv.ParseUint(f[5], 10, 16)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return nil, 0, errors.New("PROXY v1 addresses or ports do not parse")
	}
	if (f[1] == "TCP4") != (src.Is4() && dst.Is4()) {
		return nil, 0, fmt.Errorf("PROXY v1 %s with addresses of the other family", f[1])
	}
	h.Src, h.Dst = netip.AddrPortFrom(src, uint16(sp)), netip.AddrPortFrom(dst, uint16(dp))
	return h, end + 2, nil
}

func parseV2(b []byte) (*ProxyHeader, int, error) {
	if !bytes.Equal(b[:12], v2sig) {
		return nil, 0, errors.New("not a PROXY header")
	}
	if b[12]>>4 != 2 {
		return nil, 0, fmt.Errorf("PROXY v2 header with version %d", b[12]>>4)
	}
	h := &ProxyHeader{Version: 2}
	switch b[12] & 0xf {
	case 0:
		h.Command = "LOCAL"
	case 1:
		h.Command = "PROXY"
	default:
		return nil, 0, fmt.Errorf("PROXY v2 command %d", b[12]&0xf)
	}
	n := int(binary.BigEndian.Uint16(b[14:16]))
	total := 16 + n
	if len(b) < total {
		return nil, 0, errMore
	}
	body := b[16:total]
	fam, proto := b[13]>>4, b[13]&0xf
	stream := map[byte]string{1: "TCP", 2: "UDP"}[proto]
	var alen int
	switch fam {
	case 0:
		h.Family = "UNKNOWN"
	case 1:
		h.Family, alen = stream+"4", 12
		if len(body) < alen {
			return nil, 0, errors.New("PROXY v2 INET addresses cut short")
		}
		s, d := netip.AddrFrom4([4]byte(body[0:4])), netip.AddrFrom4([4]byte(body[4:8]))
		h.Src = netip.AddrPortFrom(s, binary.BigEndian.Uint16(body[8:10]))
		h.Dst = netip.AddrPortFrom(d, binary.BigEndian.Uint16(body[10:12]))
	case 2:
		h.Family, alen = stream+"6", 36
		if len(body) < alen {
			return nil, 0, errors.New("PROXY v2 INET6 addresses cut short")
		}
		s, d := netip.AddrFrom16([16]byte(body[0:16])), netip.AddrFrom16([16]byte(body[16:32]))
		h.Src = netip.AddrPortFrom(s, binary.BigEndian.Uint16(body[32:34]))
		h.Dst = netip.AddrPortFrom(d, binary.BigEndian.Uint16(body[34:36]))
	case 3:
		h.Family, alen = "UNIX", 216
		if len(body) < alen {
			return nil, 0, errors.New("PROXY v2 UNIX addresses cut short")
		}
	default:
		return nil, 0, fmt.Errorf("PROXY v2 address family %d", fam)
	}
	// TLVs: type, 16-bit length, value.
	tlv := body[alen:]
	for len(tlv) >= 3 {
		t, l := tlv[0], int(binary.BigEndian.Uint16(tlv[1:3]))
		if len(tlv) < 3+l {
			return nil, 0, errors.New("PROXY v2 TLV runs past the header")
		}
		v := tlv[3 : 3+l]
		if t == 0xEA && l > 1 && v[0] == 0x01 { // PP2_TYPE_AWS, PP2_SUBTYPE_AWS_VPCE_ID
			h.VPCE = string(v[1:])
		}
		tlv = tlv[3+l:]
	}
	return h, total, nil
}

func truncateStr(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
