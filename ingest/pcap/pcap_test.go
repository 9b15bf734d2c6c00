package pcap

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
)

const td = "../../testdata/pcaps/"

func TestProxyV1FromNDPI(t *testing.T) {
	r := ingesttest.Import(t, Importer{}, td+"proxy-protocol/ndpi_haproxy.pcap", ingest.Options{})
	if r.Err != nil || r.Records != 1 {
		t.Fatalf("%v %d", r.Err, r.Records)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT conv_id, frame, version, command, family, src_addr, src_port, dst_addr, dst_port, vpce_id FROM proxy_headers`)
	want := [][]string{{"0", "1", "1", "PROXY", "TCP4", "11.111.11.111", "52176", "222.222.222.22", "443", "NULL"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}

func v2(cmd, fam byte, addrs []byte, tlvs ...[]byte) []byte {
	var body []byte
	body = append(body, addrs...)
	for _, t := range tlvs {
		body = append(body, t...)
	}
	b := append([]byte(nil), v2sig...)
	b = append(b, 0x20|cmd, fam)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func TestParseProxy(t *testing.T) {
	inet := []byte{203, 0, 113, 7, 10, 0, 134, 187, 0x8a, 0xd0, 0x7c, 0x2e} // :35536 -> :31790
	vpce := append([]byte{0xEA, 0, 23, 0x01}, []byte("vpce-08d2bf15fac5001c9")...)
	v6 := append(append(netip.MustParseAddr("2001:db8::1").AsSlice(), netip.MustParseAddr("2001:db8::2").AsSlice()...), 0, 80, 1, 187)
	cases := []struct {
		name string
		in   []byte
		want *ProxyHeader
		n    int
		err  string
	}{
		{"v1 tcp4", []byte("PROXY TCP4 198.51.100.22 203.0.113.7 35646 80\r\nGET / HTTP/1.1\r\n"),
			&ProxyHeader{Version: 1, Command: "PROXY", Family: "TCP4", Src: netip.MustParseAddrPort("198.51.100.22:35646"), Dst: netip.MustParseAddrPort("203.0.113.7:80")}, 47, ""},
		{"v1 tcp6", []byte("PROXY TCP6 2001:db8::1 2001:db8::2 4242 443\r\n"),
			&ProxyHeader{Version: 1, Command: "PROXY", Family: "TCP6", Src: netip.MustParseAddrPort("[2001:db8::1]:4242"), Dst: netip.MustParseAddrPort("[2001:db8::2]:443")}, 45, ""},
		{"v1 unknown", []byte("PROXY UNKNOWN\r\n"), &ProxyHeader{Version: 1, Command: "PROXY", Family: "UNKNOWN"}, 15, ""},
		{"v1 partial", []byte("PROXY TCP4 198.51"), nil, 0, errMore.Error()},
		{"v1 bad port", []byte("PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n"), nil, 0, "PROXY v1 addresses or ports do not parse"},
		{"v1 mixed family", []byte("PROXY TCP4 2001:db8::1 5.6.7.8 1 80\r\n"), nil, 0, "PROXY v1 TCP4 with addresses of the other family"},
		{"v1 too long", append([]byte("PROXY TCP4 "), bytes.Repeat([]byte("1"), 120)...), nil, 0, "PROXY v1 line longer than 107 bytes"},
		{"v2 inet", v2(1, 0x11, inet), &ProxyHeader{Version: 2, Command: "PROXY", Family: "TCP4",
			Src: netip.MustParseAddrPort("203.0.113.7:35536"), Dst: netip.MustParseAddrPort("10.0.134.187:31790")}, 28, ""},
		{"v2 aws vpce tlv", v2(1, 0x11, inet, vpce), &ProxyHeader{Version: 2, Command: "PROXY", Family: "TCP4",
			Src: netip.MustParseAddrPort("203.0.113.7:35536"), Dst: netip.MustParseAddrPort("10.0.134.187:31790"), VPCE: "vpce-08d2bf15fac5001c9"}, 54, ""},
		{"v2 inet6", v2(1, 0x21, v6), &ProxyHeader{Version: 2, Command: "PROXY", Family: "TCP6",
			Src: netip.MustParseAddrPort("[2001:db8::1]:80"), Dst: netip.MustParseAddrPort("[2001:db8::2]:443")}, 52, ""},
		{"v2 local", v2(0, 0x00, nil), &ProxyHeader{Version: 2, Command: "LOCAL", Family: "UNKNOWN"}, 16, ""},
		{"v2 partial", v2(1, 0x11, inet)[:20], nil, 0, errMore.Error()},
		{"v2 bad tlv", v2(1, 0x11, inet, []byte{0xEA, 0, 50, 1}), nil, 0, "PROXY v2 TLV runs past the header"},
	}
	for _, c := range cases {
		h, n, err := ParseProxy(c.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.err || n != c.n || !reflect.DeepEqual(h, c.want) {
			t.Errorf("%s: %+v %d %q, want %+v %d %q", c.name, h, n, got, c.want, c.n, c.err)
		}
	}
}

// collect runs the parser of one direction over chunks and returns what it emitted.
func collect(isReq bool, method string, chunks ...string) []*httpMsg {
	var out []*httpMsg
	p := &httpParser{isReq: isReq, emit: func(m *httpMsg) { out = append(out, m) }}
	if method != "" {
		p.method = func() string { return method }
	}
	for i, c := range chunks {
		if strings.HasPrefix(c, "\x00gap") {
			var n int64
			fmt.Sscanf(c[4:], "%d", &n)
			p.gap(n, "gap", int64(i), uint32(i+1))
			continue
		}
		p.feed([]byte(c), int64(i), uint32(i+1))
	}
	p.end()
	return out
}

func summary(ms []*httpMsg) string {
	var parts []string
	for _, m := range ms {
		var s string
		if m.isReq {
			s = fmt.Sprintf("%s %s body=%d frames=%d-%d", m.method, m.uri, m.bodyBytes, m.firstFrame, m.lastFrame)
		} else {
			s = fmt.Sprintf("%d body=%d frames=%d-%d", m.status, m.bodyBytes, m.firstFrame, m.lastFrame)
		}
		if rid := m.header("request-id"); rid != "" {
			s += " rid=" + rid
		}
		if m.incomplete != "" {
			s += " incomplete=" + m.incomplete
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func TestHTTPParser(t *testing.T) {
	cases := []struct {
		name   string
		isReq  bool
		method string
		chunks []string
		want   string
	}{
		{"headers across segments", true, "", []string{"GET /a HTTP/1.1\r\nHost: x\r\nreq", "uest-id: abc\r\n\r\n"},
			"GET /a body=0 frames=1-2 rid=abc"},
		{"bare LF", true, "", []string{"GET / HTTP/1.1\nHost: x\nContent-Length: 3\n\nabc"}, "GET / body=3 frames=1-1"},
		{"pipelined with body", true, "", []string{"POST /p HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcdGET /q HTTP/1.1\r\n\r\n"},
			"POST /p body=4 frames=1-1; GET /q body=0 frames=1-1"},
		{"chunked response", false, "GET", []string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "6;x=y\r\n world\r\n0\r\n\r\n"},
			"200 body=11 frames=1-2"},
		{"HEAD has no body", false, "HEAD", []string{"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n"},
			"200 body=0 frames=1-1; 204 body=0 frames=2-2"},
		{"until close", false, "GET", []string{"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/html\r\n\r\n<html>", "</html>"},
			"503 body=13 frames=1-2"},
		{"gap in body", false, "GET", []string{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "\x00gap4", "xyz", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"},
			"200 body=6 frames=1-3 incomplete=gap; 404 body=0 frames=4-4"},
		{"gap in headers resyncs", true, "", []string{"GET /lost HTTP/1.1\r\nHo", "\x00gap30", "st-garbage\r\n\r\nGET /next HTTP/1.1\r\n\r\n"},
			"GET /lost body=0 frames=1-1 incomplete=gap; GET /next body=0 frames=3-3"},
		{"eof in headers", true, "", []string{"GET /cut HTTP/1.1\r\nHost: x\r\n"}, "GET /cut body=0 frames=1-1 incomplete=eof"},
		{"not http", true, "", []string{"\x16\x03\x01\x02\x00 client hello"}, ""},
		{"mid-stream start", false, "", []string{"tail of a body\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, "200 body=2 frames=1-1"},
		{"repeated headers joined", true, "", []string{"GET / HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n\r\n"}, "GET / body=0 frames=1-1"},
	}
	for _, c := range cases {
		var got []*httpMsg
		if c.name == "not http" || c.name == "mid-stream start" {
			p := &httpParser{isReq: c.isReq, resync: c.name == "mid-stream start", emit: func(m *httpMsg) { got = append(got, m) }}
			for i, ch := range c.chunks {
				p.feed([]byte(ch), int64(i), uint32(i+1))
			}
			p.end()
		} else {
			got = collect(c.isReq, c.method, c.chunks...)
		}
		if s := summary(got); s != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, s, c.want)
		}
		if c.name == "repeated headers joined" && got[0].header("x-forwarded-for") != "1.1.1.1, 2.2.2.2" {
			t.Errorf("joined header %q", got[0].header("x-forwarded-for"))
		}
	}
}

type sinkLog struct{ parts []string }

func (s *sinkLog) data(b []byte, ts int64, frame uint32) { s.parts = append(s.parts, string(b)) }
func (s *sinkLog) gap(n int64, why string, ts int64, frame uint32) {
	s.parts = append(s.parts, fmt.Sprintf("<%s %d>", why, n))
}

func TestStreamReorders(t *testing.T) {
	log := &sinkLog{}
	s := &stream{sink: log}
	s.syn(999)
	s.segment(1006, []byte("world"), 0, 2, 2) // early
	s.segment(1000, []byte("hello "), 0, 1, 1)
	s.segment(1000, []byte("hello "), 0, 3, 3) // retransmission
	s.segment(1008, []byte("rld!"), 0, 4, 4)   // overlap: "!" is new
	s.segment(1020, []byte("late"), 0, 5, 5)   // after a hole
	s.segment(1012, []byte("ab"), 2, 6, 6)     // snaplen cut two bytes
	s.close()
	if got := strings.Join(log.parts, ""); got != "hello world!ab<truncated 2><gap 4>late" {
		t.Errorf("got %q", got)
	}
}

func TestMalformedCaptures(t *testing.T) {
	cases := []struct {
		file            string
		records, errors int64
		reason          string
	}{
		{"malformed/ndpi_fuzz-2021-10-13.pcap", 1, 1, "237 the file ends inside the record of frame 2 (2 bytes after its start): every complete frame before it is imported"},
		{"malformed/suricata-verify_bug-6875-01_fuzz.pcap", 1, 1, "228 after frame 1: capture length exceeds snap length: 1409179648 > 65535; the rest of the file cannot be read"},
		{"malformed/gopacket_pcapng_le_test901.pcapng", 1, 1, "480 after frame 1: Unknown pcapng Version in Section Header; the rest of the file cannot be read"},
		{"malformed/zeek_trunc-hdr.pcap", 1, 0, ""},
		{"malformed/zeek_ipv4-truncated-broken-header.pcap", 1, 0, ""},
		{"malformed/zeek_tcp_truncated-header.pcap", 24, 0, ""},
	}
	for _, c := range cases {
		r := ingesttest.Import(t, Importer{}, td+c.file, ingest.Options{})
		if r.Err != nil || r.Records != c.records || r.Rejected != c.errors {
			t.Errorf("%s: %v, %d records %d rejected", c.file, r.Err, r.Records, r.Rejected)
			continue
		}
		if c.reason != "" {
			got := ingesttest.Rows(t, r.DB, `SELECT line_or_offset || ' ' || reason FROM ingest_errors WHERE unit = 'byte'`)
			if len(got) != 1 || got[0][0] != c.reason {
				t.Errorf("%s: %q", c.file, got)
			}
		}
	}
	// A capture whose header does not parse cannot be read at all: the
	// contract's error at byte 0, and nothing of it is kept.
	for _, c := range []struct{ name, content, err string }{
		{"short.pcap", "\xd4\xc3\xb2\xa1\x02\x00", "short.pcap: byte 0: pcap file header: unexpected EOF"},
		{"bad.pcapng", "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x00\x00\x00\x00", "bad.pcapng: byte 0: pcapng section header: "},
	} {
		r := ingesttest.Import(t, Importer{}, ingesttest.File(t, c.name, c.content), ingest.Options{})
		var pe *ingest.PosError
		if !errors.As(r.Err, &pe) || pe.N != 0 || !strings.Contains(r.Err.Error(), c.err) {
			t.Errorf("%s: err = %v, want a *PosError at byte 0 containing %q", c.name, r.Err, c.err)
		}
		if n := ingesttest.Rows(t, r.DB, `SELECT count(*) FROM ingest_errors`); n[0][0] != "0" {
			t.Errorf("%s: %s rows kept in ingest_errors", c.name, n[0][0])
		}
	}
	// The decode errors are kept on the frames, and counted in a note.
	r := ingesttest.Import(t, Importer{}, td+"malformed/zeek_ipv4-truncated-broken-header.pcap", ingest.Options{})
	got := ingesttest.Rows(t, r.DB, `SELECT frame, decode_error, ip_version FROM packets`)
	if want := [][]string{{"1", "Invalid IP header length > IP length (15 > 20)", "NULL"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	r = ingesttest.Import(t, Importer{}, td+"malformed/zeek_tcp_truncated-header.pcap", ingest.Options{})
	got = ingesttest.Rows(t, r.DB, `SELECT count(*) FILTER (truncated), count(*) FILTER (conv_id = 0), max(cap_len) FROM packets`)
	if want := [][]string{{"24", "24", "68"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("snaplen 68 capture: %q", got)
	}
}

func TestLinkTypesAndDirections(t *testing.T) {
	cases := []struct {
		file, q string
		want    [][]string
	}{
		{"sll2/suricata-verify_decode-sll2-01.pcap", `SELECT DISTINCT ifindex, direction FROM packets ORDER BY 1, 2`, [][]string{{"2", "in"}, {"2", "out"}}},
		// a loopback capture: tshark shows sll.pkttype 0 on all ten frames
		{"sll1/suricata-verify_detect-pcre-02.pcap", `SELECT count(*), min(pkttype), max(pkttype) FROM packets`, [][]string{{"10", "0", "0"}}},
		{"vlan/zeek_http-qinq-0.pcap", `SELECT DISTINCT vlan FROM packets`, [][]string{{"0"}}},
		{"sll1/tcpdump_tcp-handshake-nano.pcap", `SELECT ts FROM packets ORDER BY frame LIMIT 1`, nil},
		{"pcapng/gopacket_pcapng_le_test202.pcapng", `SELECT ifindex, link_type FROM capture_interfaces ORDER BY 1`, [][]string{{"0", "EN10MB"}, {"1", "NULL"}}},
		// SYN retransmitted, SYN-ACK retransmitted, the capture stops after the GET
		{"ipv6/suricata-verify_bug-6269-01_ipv6-http.pcap", `SELECT a_addr, b_addr, b_port, round(handshake_rtt_ms, 3), retransmissions, end_reason FROM tcp_conversations`,
			[][]string{{"fd00:1:1::2", "fd00:2:1::2", "80", "1471.953", "2", "none"}}},
	}
	for _, c := range cases {
		r := ingesttest.Import(t, Importer{}, td+c.file, ingest.Options{})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		got := ingesttest.Rows(t, r.DB, c.q)
		if c.want == nil {
			// nanosecond pcap: the timestamps keep their nanoseconds
			if len(got) != 1 || !strings.Contains(got[0][0], ".") || len(strings.Split(strings.TrimSuffix(got[0][0], "Z"), ".")[1]) != 9 {
				t.Errorf("%s: %q", c.file, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %s = %q, want %q", c.file, c.q, got, c.want)
		}
	}
}

// TestGeneratedCaptureAgreesWithTruth checks the seed question: which
// stream carried request-id X, and what PROXY header and ELB ENI it came
// through, for every request the truth says this node saw.
func TestGeneratedCaptureAgreesWithTruth(t *testing.T) {
	o := gen.Defaults()
	o.Out = t.TempDir()
	o.Requests, o.Loss = 300, 0.05
	tr, err := gen.Generate(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	c := tr.Captures[0]
	r := ingesttest.Import(t, Importer{}, filepath.Join(o.Out, c.File), ingest.Options{Node: c.Node})
	if r.Err != nil || r.Records != c.Packets {
		t.Fatalf("%v: %d records, truth %d", r.Err, r.Records, c.Packets)
	}
	found := 0
	for _, q := range tr.Requests {
		if q.Node != c.Node || q.NodeSYN.After(tr.Start.Add(o.Rotate)) {
			continue
		}
		// The request reached the node: the NodePort stream carries its
		// request-id after a PROXY header naming the client.
		rows := ingesttest.Rows(t, r.DB, `SELECT c.a_addr || ':' || c.a_port, p.src_addr || ':' || p.src_port, c.node
			FROM http_messages m JOIN tcp_conversations c USING (evidence_id, conv_id)
			JOIN proxy_headers p USING (evidence_id, conv_id)
			WHERE m.request_id = ? AND m.is_request AND c.b_port = 31790`, q.RequestID)
		if len(rows) != 1 || rows[0][0] != q.ELBSource || rows[0][1] != q.Client || rows[0][2] != c.Node {
			t.Errorf("request %s: %q, truth ELB %s client %s", q.RequestID, rows, q.ELBSource, q.Client)
		}
		found++
	}
	if found < 50 {
		t.Fatalf("only %d requests in the first capture", found)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT sum(retransmissions) > 0, count(*) FILTER (handshake_rtt_ms IS NULL AND saw_start AND end_reason = 'FIN'),
		count(*) FILTER (NOT is_request AND latency_ms IS NULL) FROM tcp_conversations, (SELECT * FROM http_messages) m
		WHERE m.evidence_id = tcp_conversations.evidence_id AND m.conv_id = tcp_conversations.conv_id`)
	if want := [][]string{{"true", "0", "0"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("retransmissions, missing RTTs, unpaired responses: %q", got)
	}
	// The header text keeps what the promoted columns were read from.
	got = ingesttest.Rows(t, r.DB, `SELECT count(*) FILTER (is_request), count(*) FILTER (request_id IS NOT NULL),
		count(*) FILTER (request_id IS DISTINCT FROM coalesce(http_header(headers, 'Request-Id'), http_header(headers, 'x-request-id'))),
		count(*) FILTER (host IS DISTINCT FROM http_header(headers, 'HOST') OR host IS DISTINCT FROM http_headers(headers)['host']),
		count(*) FILTER (content_length IS DISTINCT FROM http_header(headers, 'content-length')::BIGINT)
		FROM http_messages`)
	if got[0][1] == "0" || got[0][2] != "0" || got[0][3] != "0" || got[0][4] != "0" {
		t.Errorf("requests, with request-id, request-id/host/content-length differing from the header text: %q", got)
	}
}

func FuzzParseProxy(f *testing.F) {
	f.Add([]byte("PROXY TCP4 198.51.100.22 203.0.113.7 35646 80\r\n"))
	f.Add(v2(1, 0x11, []byte{203, 0, 113, 7, 10, 0, 134, 187, 0x8a, 0xd0, 0x7c, 0x2e}, []byte{0xEA, 0, 3, 1, 'v', 'p'}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseProxy(b)
		if err == nil && (h == nil || n <= 0 || n > len(b)) {
			t.Fatalf("ok with header %v length %d of %d", h, n, len(b))
		}
	})
}

func FuzzHTTP(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"), uint8(7), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), uint8(3), true)
	f.Fuzz(func(t *testing.T, b []byte, split uint8, gap bool) {
		for _, isReq := range []bool{true, false} {
			// A message's header text is bytes of the input, and its names
			// have no ASCII capitals.
			emit := func(m *httpMsg) {
				if !bytes.Contains(b, []byte(m.headers)) {
					t.Fatalf("headers %q are not in the input", m.headers)
				}
				for _, k := range m.keys {
					if strings.IndexFunc(k, func(r rune) bool { return 'A' <= r && r <= 'Z' }) >= 0 {
						t.Fatalf("header name %q is not lower-case", k)
					}
				}
			}
			p := &httpParser{isReq: isReq, emit: emit, method: func() string { return "GET" }}
			step := int(split%17) + 1
			for i := 0; i < len(b); i += step {
				p.feed(b[i:min(len(b), i+step)], int64(i), uint32(i))
				if gap && i%3 == 0 {
					p.gap(int64(split), "gap", int64(i), uint32(i))
				}
			}
			p.end()
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{0, 0, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0x45, 0, 0, 40}, uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		links := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeNull, layers.LinkTypeRaw}
		d := newDecoder()
		p := pkt{ifindex: -1, pkttype: -1, vlan: -1, icmpType: -1}
		d.decode(links[int(which)%len(links)], b, &p)
		if p.payloadLen < 0 || len(p.payload) > p.payloadLen {
			t.Fatalf("payload %d of %d", len(p.payload), p.payloadLen)
		}
	})
}
