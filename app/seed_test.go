package app

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The bundle of ../shared/seeds/000_*: the manual trace of request-id
// abcdefghijk on OpenShift behind a Classic ELB, rebuilt from the
// document's own excerpts (frames, times, ports, ENIs, the ELB lines):
//
//   - node ip-10-0-134-187's capture: the ELB's stream 10.0.14.231:31566 →
//     10.0.134.187:31790 with its PROXY v1 header, its DNAT'd copy to the
//     router pod 10.128.2.7:80, the router's request to 10.131.0.23:8080
//     with the same request-id, and the next request, from port 31568;
//   - node ip-10-0-198-72's capture: a request two minutes later that
//     reused the ELB's port 31566 towards that node;
//   - the ELB log lines of 217.178.150.208:35088 at 06:34:14.307137Z and
//     :35111 at 06:34:15.426174Z, and the other node's line;
//   - the flow logs of the ELB's ENI and both nodes' ENIs, the ELB ENI's
//     window 06:33:27–06:34:26 and the node ENI's 06:35:02–06:35:14, which
//     starts 48 s after the request ended, as in the document.
//
// The trace must join exactly what the engineer joined, and nothing else:
// not the 31568 records, not the other node's 31566 records.
func TestTraceSeed000(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05.999999", "2021-04-05 "+s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	node1, node2 := "ip-10-0-134-187.ap-northeast-1.compute.internal", "ip-10-0-198-72.ap-northeast-1.compute.internal"

	p1 := newSLLPcap(t, filepath.Join(bundle, "pcap", node1, "tcpdump_20210405_063341.pcap"))
	front := p1.conn("10.0.14.231:31566", "10.0.134.187:31790", 2042992871)
	dnat := p1.conn("10.0.14.231:31566", "10.128.2.7:80", 2042992871)
	req := "GET /dddddddddd HTTP/1.1\r\nHost: shop.apps.ocp4.example.com\r\nUser-Agent: Apache-HttpClient/4.5.13 (Java/11.0.11)\r\nrequest-id: abcdefghijk\r\n\r\n"
	rsp := "HTTP/1.0 200 OK\r\ncontent-type: text/html\r\n\r\n<html><body>ok</body></html>"
	for i, c := range []*sllConn{front, dnat} {
		d := time.Duration(i) * 9 * time.Microsecond // the copy, a little after
		c.send(at("06:34:14.307291").Add(d), true, "S", "")
		c.send(at("06:34:14.307408").Add(d), false, "SA", "")
		c.send(at("06:34:14.307733").Add(d), true, "A", "")
		c.send(at("06:34:14.307828").Add(d), true, "PA", "PROXY TCP4 217.178.150.208 52.199.57.168 35088 80\r\n")
		c.send(at("06:34:14.308841").Add(d), true, "PA", req)
		c.send(at("06:34:14.308861").Add(d), false, "A", "")
		c.send(at("06:34:15.311728").Add(d), false, "PA", rsp)
		c.send(at("06:34:15.312048").Add(d), true, "A", "")
		c.send(at("06:34:15.416932").Add(d), true, "FA", "")
		c.send(at("06:34:15.417029").Add(d), false, "FA", "")
		c.send(at("06:34:15.417310").Add(d), true, "A", "")
	}
	back := p1.conn("10.128.2.7:45712", "10.131.0.23:8080", 3141592653)
	back.send(at("06:34:14.309120"), true, "S", "")
	back.send(at("06:34:14.309300"), false, "SA", "")
	back.send(at("06:34:14.309420"), true, "A", "")
	back.send(at("06:34:14.309500"), true, "PA", strings.Replace(req, "\r\n\r\n", "\r\nx-forwarded-for: 217.178.150.208\r\n\r\n", 1))
	back.send(at("06:34:15.311400"), false, "PA", rsp)
	back.send(at("06:34:15.311600"), true, "FA", "")
	back.send(at("06:34:15.311700"), false, "FA", "")
	back.send(at("06:34:15.311800"), true, "A", "")
	next := p1.conn("10.0.14.231:31568", "10.0.134.187:31790", 2042993999)
	next.send(at("06:34:15.426300"), true, "S", "")
	next.send(at("06:34:15.426400"), false, "SA", "")
	next.send(at("06:34:15.426700"), true, "A", "")
	next.send(at("06:34:15.426800"), true, "PA", "PROXY TCP4 217.178.150.208 52.199.57.168 35111 80\r\n")
	next.send(at("06:34:15.427800"), true, "PA", strings.Replace(req, "abcdefghijk", "lmnopqrstuv", 1))
	next.send(at("06:34:15.440000"), false, "PA", rsp)
	next.send(at("06:34:15.540000"), true, "FA", "")
	next.send(at("06:34:15.540100"), false, "FA", "")
	p1.close()

	p2 := newSLLPcap(t, filepath.Join(bundle, "pcap", node2, "tcpdump_20210405_054132.pcap"))
	reuse := p2.conn("10.0.14.231:31566", "10.0.198.72:31790", 2043111111)
	reuse.send(at("06:36:40.100000"), true, "S", "")
	reuse.send(at("06:36:40.100100"), false, "SA", "")
	reuse.send(at("06:36:40.100400"), true, "A", "")
	reuse.send(at("06:36:40.100500"), true, "PA", "PROXY TCP4 126.33.1.2 52.199.57.168 40000 80\r\n")
	reuse.send(at("06:36:40.101500"), true, "PA", strings.Replace(req, "abcdefghijk", "zyxwvutsrqp", 1))
	reuse.send(at("06:36:40.120000"), false, "PA", rsp)
	reuse.send(at("06:36:40.220000"), true, "FA", "")
	reuse.send(at("06:36:40.220100"), false, "FA", "")
	p2.close()

	elbLog := filepath.Join(bundle, "AWS_ACCOUNT_ID_elasticloadbalancing_ap-northeast-1_a17a43204638c41818a7d130503ccfa1_20210405T0635Z_52.199.57.168_ysy02mf0.log")
	writeFile(t, elbLog, `2021-04-05T06:34:14.307137Z a17a43204638c41818a7d130503ccfa1 217.178.150.208:35088 10.0.134.187:31790 0.000499 0.000009 0.000013 - - 567 346 "- - - " "-" - -
2021-04-05T06:34:15.426174Z a17a43204638c41818a7d130503ccfa1 217.178.150.208:35111 10.0.134.187:31790 0.00048 0.000009 0.000013 - - 567 346 "- - - " "-" - -
2021-04-05T06:36:40.099000Z a17a43204638c41818a7d130503ccfa1 126.33.1.2:40000 10.0.198.72:31790 0.0005 0.000009 0.000013 - - 567 346 "- - - " "-" - -
`)
	flowLog := filepath.Join(bundle, "AWS_ACCOUNT_ID_vpcflowlogs_ap-northeast-1_fl-0e34a6dfefc0db8a9_20210405T0635Z_6427407c.log")
	writeFile(t, flowLog, `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789012 eni-047359708552d4965 10.0.134.187 10.0.14.231 31790 31566 6 4 562 1617604407 1617604466 ACCEPT OK
2 123456789012 eni-047359708552d4965 10.0.14.231 10.0.134.187 31566 31790 6 7 988 1617604407 1617604466 ACCEPT OK
2 123456789012 eni-047359708552d4965 10.0.134.187 10.0.14.231 31790 31568 6 4 562 1617604407 1617604466 ACCEPT OK
2 123456789012 eni-047359708552d4965 10.0.14.231 10.0.134.187 31568 31790 6 7 988 1617604407 1617604466 ACCEPT OK
2 123456789012 eni-0622b40e5b07b6f17 10.0.14.231 10.0.134.187 31566 31790 6 7 988 1617604502 1617604514 ACCEPT OK
2 123456789012 eni-0622b40e5b07b6f17 10.0.134.187 10.0.14.231 31790 31566 6 4 562 1617604502 1617604514 ACCEPT OK
2 123456789012 eni-0622b40e5b07b6f17 10.0.14.231 10.0.134.187 31568 31790 6 7 988 1617604502 1617604514 ACCEPT OK
2 123456789012 eni-0622b40e5b07b6f17 10.0.134.187 10.0.14.231 31790 31568 6 4 562 1617604502 1617604514 ACCEPT OK
2 123456789012 eni-047359708552d4965 10.0.14.231 10.0.198.72 31566 31790 6 5 600 1617604600 1617604601 ACCEPT OK
2 123456789012 eni-047359708552d4965 10.0.198.72 10.0.14.231 31790 31566 6 3 400 1617604600 1617604601 ACCEPT OK
2 123456789012 eni-0b2b0b2b0b2b0b2b0 10.0.14.231 10.0.198.72 31566 31790 6 5 600 1617604600 1617604601 ACCEPT OK
2 123456789012 eni-0b2b0b2b0b2b0b2b0 10.0.198.72 10.0.14.231 31790 31566 6 3 400 1617604600 1617604601 ACCEPT OK
`)
	writeFile(t, filepath.Join(bundle, "describe-network-interfaces.json"), describeENIs(
		eniSnap{"eni-047359708552d4965", "10.0.14.231", "ELB a17a43204638c41818a7d130503ccfa1", "interface"},
		eniSnap{"eni-0622b40e5b07b6f17", "10.0.134.187", "", "interface"},
		eniSnap{"eni-0b2b0b2b0b2b0b2b0", "10.0.198.72", "", "interface"}))
	var pods strings.Builder
	row := func(cols ...string) {
		fmt.Fprintf(&pods, "%-19s %-33s %-7s %-9s %-10s %-7s %-13s %-49s %-16s %s\n", cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9])
	}
	row("NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES")
	row("openshift-ingress", "router-default-56589566bc-nb52j", "1/1", "Running", "0", "4d22h", "10.128.2.7", node1, "<none>", "<none>")
	row("openshift-ingress", "router-default-56589566bc-tghb9", "1/1", "Running", "1", "4d22h", "10.129.2.10", node2, "<none>", "<none>")
	row("shop", "web-6b8f9d7c5-k2x9z", "1/1", "Running", "0", "4d22h", "10.131.0.23", "ip-10-0-150-33.ap-northeast-1.compute.internal", "<none>", "<none>")
	podsTxt := pods.String()
	writeFile(t, filepath.Join(bundle, "oc-get-pods-A-o-wide.txt"), podsTxt)

	c, err := New(ctx, filepath.Join(dir, "case"), "seed 000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep, err := c.Import(ctx, []string{bundle}, ImportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Files {
		if f.Err != nil || f.Evidence == nil || f.Evidence.Rejected > 0 {
			t.Fatalf("%s: %v %s", f.Name, f.Err, f.Skipped)
		}
	}

	for _, key := range []TraceKey{{RequestID: "abcdefghijk"}, {Client: "217.178.150.208:35088"}} {
		tr, err := c.Trace(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range tr.Hops {
			for _, e := range h.Evidence {
				got = append(got, fmt.Sprintf("%s %s %s %d %s", h.Step, h.Source, filepath.Base(e.File), e.N, e.Label))
			}
		}
		sort.Strings(got)
		pcap1 := "tcpdump_20210405_063341.pcap"
		want := []string{
			// the ELB line of 217.178.150.208:35088 at 06:34:14.307137Z
			"client_lb elb_log " + filepath.Base(elbLog) + " 1 ",
			// the ELB ENI's and the node ENI's records of 31566 ↔ 31790, both ways
			"lb_node flow_log " + filepath.Base(flowLog) + " 2 ACCEPT",
			"lb_node flow_log " + filepath.Base(flowLog) + " 3 ACCEPT",
			"lb_node flow_log " + filepath.Base(flowLog) + " 6 ACCEPT",
			"lb_node flow_log " + filepath.Base(flowLog) + " 7 ACCEPT",
			// stream 0: SYN, PROXY, request, response, last ACK (frames in
			// time order, each of its packets followed by its DNAT'd copy)
			"lb_node capture " + pcap1 + " 1 first", "lb_node capture " + pcap1 + " 7 PROXY", "lb_node capture " + pcap1 + " 9 request",
			"lb_node capture " + pcap1 + " 20 response 200", "lb_node capture " + pcap1 + " 29 last",
			// stream 1: the DNAT'd copy, 9 µs behind
			"node_router capture " + pcap1 + " 2 first", "node_router capture " + pcap1 + " 8 PROXY", "node_router capture " + pcap1 + " 10 request",
			"node_router capture " + pcap1 + " 21 response 200", "node_router capture " + pcap1 + " 30 last",
			// stream 2: the router's request with the same request-id,
			// between the request's ACK (frame 12) and the response
			"router_backend capture " + pcap1 + " 13 first", "router_backend capture " + pcap1 + " 16 request",
			"router_backend capture " + pcap1 + " 17 response 200", "router_backend capture " + pcap1 + " 22 last",
		}
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s joined:\n%s\nwant:\n%s", key, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if tr.Request.Client != "217.178.150.208:35088" || tr.Request.RequestID != "abcdefghijk" || !tr.Complete || tr.Outcome != "ok" {
			t.Errorf("%s: client %s, request-id %s, complete %v, outcome %s", key, tr.Request.Client, tr.Request.RequestID, tr.Complete, tr.Outcome)
		}
		lanes := map[string]string{}
		for _, l := range tr.Lanes {
			lanes[l.ID] = l.Addr + " " + l.Label + " " + l.ENI
		}
		for id, w := range map[string]string{
			"lb":      "10.0.14.231:31566 a17a43204638c41818a7d130503ccfa1 eni-047359708552d4965",
			"node":    "10.0.134.187:31790 " + node1 + " eni-0622b40e5b07b6f17",
			"router":  "10.128.2.7:80 openshift-ingress/router-default-56589566bc-nb52j ",
			"backend": "10.131.0.23:8080 shop/web-6b8f9d7c5-k2x9z ",
		} {
			if lanes[id] != w {
				t.Errorf("%s: lane %s %q, want %q", key, id, lanes[id], w)
			}
		}
		// The node ENI's window starts 48 s after the request ended: the
		// trace says so, and takes it all the same.
		found := false
		for _, h := range tr.Hops {
			if h.ENI == "eni-0622b40e5b07b6f17" && strings.Contains(h.Summary, "(the window starts 48s after the packets)") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: the node ENI's late window is not said", key)
		}
	}
	// The request that reused port 31566 towards the other node gets the
	// other node's records, not the seed's.
	tr, err := c.Trace(ctx, TraceKey{RequestID: "zyxwvutsrqp"})
	if err != nil {
		t.Fatal(err)
	}
	var lines []int64
	for _, h := range tr.Hops {
		if h.Source == "flow_log" {
			for _, e := range h.Evidence {
				lines = append(lines, e.N)
			}
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i] < lines[j] })
	if fmt.Sprint(lines) != "[10 11 12 13]" || tr.Request.Client != "126.33.1.2:40000" {
		t.Errorf("the reused port's request: flow lines %v, client %s", lines, tr.Request.Client)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sllPcap writes a Linux cooked capture (tcpdump -i any before 4.99),
// its frames in time order whatever order they were sent in.
type sllPcap struct {
	t      *testing.T
	f      *os.File
	w      *pcapgo.Writer
	frames []sllFrame
}

type sllFrame struct {
	ts   time.Time
	data []byte
}

func newSLLPcap(t *testing.T, path string) *sllPcap {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriterNanos(f)
	if err := w.WriteFileHeader(262144, layers.LinkTypeLinuxSLL); err != nil {
		t.Fatal(err)
	}
	return &sllPcap{t: t, f: f, w: w}
}

func (p *sllPcap) close() {
	sort.SliceStable(p.frames, func(i, j int) bool { return p.frames[i].ts.Before(p.frames[j].ts) })
	for _, fr := range p.frames {
		if err := p.w.WritePacket(gopacket.CaptureInfo{Timestamp: fr.ts, CaptureLength: len(fr.data), Length: len(fr.data)}, fr.data); err != nil {
			p.t.Fatal(err)
		}
	}
	if err := p.f.Close(); err != nil {
		p.t.Fatal(err)
	}
}

// sllConn is one TCP connection's sequence numbers.
type sllConn struct {
	p          *sllPcap
	a, b       *net.TCPAddr
	nxtA, nxtB uint32
}

func (p *sllPcap) conn(a, b string, isn uint32) *sllConn {
	ta, err := net.ResolveTCPAddr("tcp4", a)
	if err != nil {
		p.t.Fatal(err)
	}
	tb, err := net.ResolveTCPAddr("tcp4", b)
	if err != nil {
		p.t.Fatal(err)
	}
	return &sllConn{p: p, a: ta, b: tb, nxtA: isn, nxtB: isn ^ 0x5a5a5a5a}
}

// send writes one segment from a (fromA) or b with flags of "SAPF".
func (c *sllConn) send(ts time.Time, fromA bool, flags, payload string) {
	src, dst, seq, ack := c.a, c.b, &c.nxtA, c.nxtB
	if !fromA {
		src, dst, seq, ack = c.b, c.a, &c.nxtB, c.nxtA
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.IP.To4(), DstIP: dst.IP.To4(), Flags: layers.IPv4DontFragment}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port), DstPort: layers.TCPPort(dst.Port), Seq: *seq, Window: 27136,
		SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"), PSH: strings.Contains(flags, "P"), FIN: strings.Contains(flags, "F")}
	if tcp.ACK {
		tcp.Ack = ack
	}
	tcp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp, gopacket.Payload(payload)); err != nil {
		c.p.t.Fatal(err)
	}
	*seq += uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		*seq++
	}
	// SLL: packet type (0 to us, 4 outgoing), ARPHRD_ETHER, address length, address, protocol.
	sll := make([]byte, 16)
	if !fromA {
		binary.BigEndian.PutUint16(sll[0:], 4)
	}
	binary.BigEndian.PutUint16(sll[2:], 1)
	binary.BigEndian.PutUint16(sll[4:], 6)
	binary.BigEndian.PutUint16(sll[14:], 0x0800)
	c.p.frames = append(c.p.frames, sllFrame{ts, append(sll, buf.Bytes()...)})
}
