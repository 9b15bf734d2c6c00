package gen

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

const us = time.Microsecond

var paths = []string{"shop/item", "shop/cart", "shop/search", "api/v1/orders", "static/img"}

// request plays one client request through the ELB, the node, the router
// and the backend, as described in the package comment.
func (g *generator) request(i int, t0 time.Time, kind string) {
	w, r := g.w, g.w.rng
	k := r.IntN(len(w.elbENIs))
	elbE := w.elbENIs[k]
	n := w.routers[r.IntN(len(w.routers))].Node
	router := n.Router
	host := "shop." + ingressHost
	if kind == "networkpolicy_drop" {
		host = "payments." + ingressHost
	}
	backs := w.backends[host]
	back := backs[r.IntN(len(backs))]
	client := g.clientAddr()
	rttC := time.Duration(15+r.IntN(75)) * time.Millisecond
	reqID := randLower(w, 20)
	uri := "/" + paths[r.IntN(len(paths))] + "/" + randLower(w, 10)
	method := "GET"
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Apache-HttpClient/4.5.13 (Java/11.0.11)\r\nAccept: */*\r\nrequest-id: %s\r\nConnection: close\r\n\r\n",
		method, uri, host, reqID)

	// Client <-> ELB listener: only the ELB ENI's flow logs see it. An NLB
	// passes the client's own connection through instead.
	var cc *conn
	T := t0.Add(rttC)
	if w.lb != "nlb" {
		listen := netip.AddrPortFrom(elbE.IP, 80)
		cc = g.newConn(client, listen, t0, 1460, 8961)
		cc.cross = []crossing{{elbE, true, true}}
		cc.send(t0, true, fSYN, nil, nil)
		cc.send(t0.Add(100*us), false, fSYN|fACK, nil, nil)
		cc.send(T, true, fACK, nil, nil)
		cc.send(T.Add(50*us), true, fPSH|fACK, []byte(req), nil)
		cc.send(T.Add(150*us), false, fACK, nil, nil)
	}

	// ELB -> node NodePort, DNAT'd to the router pod on the node. The ALB
	// adds X-Forwarded-* and X-Amzn-Trace-Id; the NLB keeps the client's
	// address and port.
	src, reused := client, false
	if w.lb != "nlb" {
		src, reused = g.elbSource(k, n, T, kind == "port_reuse")
	}
	reqNode, traceID := req, ""
	if w.lb == "alb" {
		traceID = fmt.Sprintf("Root=1-%08x-%s", T.Unix(), hexID(r, 24))
		reqNode = strings.Replace(req, "\r\n\r\n", fmt.Sprintf("\r\nX-Forwarded-For: %s\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\nX-Amzn-Trace-Id: %s\r\n\r\n",
			client.Addr(), traceID), 1)
	}
	np := netip.AddrPortFrom(n.IP, httpNode)
	rt := netip.AddrPortFrom(router.IP, router.Port)
	fc := g.newConn(src, np, T, 8961, 8911)
	fc.cross = []crossing{{elbE, true, true}, {n.ENI, true, true}}
	fc.see(n, n.Ifaces["ens5"], src, np, pktHost, pktOutgoing, 64, 64)
	fc.see(n, router.Veth, src, rt, pktOutgoing, pktHost, 63, 64)
	ts := T.Add(time.Duration(120+r.IntN(80)) * us)
	fc.send(ts, true, fSYN, nil, nil)
	fc.send(ts.Add(120*us), false, fSYN|fACK, nil, nil)
	fc.send(ts.Add(330*us), true, fACK, nil, nil)
	if w.lb == "classic" {
		proxy := fmt.Sprintf("PROXY TCP4 %s %s %d %d\r\n", client.Addr(), w.elbPubIP[k], client.Port(), 80)
		fc.send(ts.Add(430*us), true, fPSH|fACK, []byte(proxy), &frameMeta{proxySrc: client.String()})
		fc.send(ts.Add(450*us), false, fACK, nil, nil)
	}
	tq := ts.Add(1400 * us)
	reqSeq := fc.nxtA
	fc.send(tq, true, fPSH|fACK, []byte(reqNode), &frameMeta{requestID: reqID})
	fc.send(tq.Add(20*us), false, fACK, nil, nil)
	if kind == "loss" {
		// The node's ACK is lost on the way back: the ELB retransmits and
		// the node answers with a duplicate ACK.
		fc.retransmit(tq.Add(200*time.Millisecond), true, fPSH|fACK, []byte(reqNode), reqSeq)
		fc.send(tq.Add(200*time.Millisecond+20*us), false, fACK, nil, nil)
	}

	// Router -> backend pod.
	rsrc := netip.AddrPortFrom(router.IP, uint16(32768+r.IntN(28000)))
	bdst := netip.AddrPortFrom(back.IP, back.Port)
	tb := tq.Add(250 * us)
	rc := g.newConn(rsrc, bdst, tb, 8901, 8901)
	rc.see(n, router.Veth, rsrc, bdst, pktHost, pktOutgoing, 64, 63)
	if back.Node != n {
		rc.encap = &encap{from: n, to: back.Node, sport: uint16(49152 + r.IntN(16000))}
	}
	fwd := fmt.Sprintf("%s %s HTTP/1.1\r\nuser-agent: Apache-HttpClient/4.5.13 (Java/11.0.11)\r\naccept: */*\r\nrequest-id: %s\r\nhost: %s\r\n"+
		"x-forwarded-host: %s\r\nx-forwarded-port: 80\r\nx-forwarded-proto: http\r\nforwarded: for=%s;host=%s;proto=http\r\nx-forwarded-for: %s\r\n\r\n",
		method, uri, reqID, host, host, client.Addr(), host, client.Addr())
	if traceID != "" {
		fwd = strings.TrimSuffix(fwd, "\r\n") + "x-amzn-trace-id: " + traceID + "\r\n\r\n"
	}
	status := 200
	var rsp string
	var tBackRsp time.Time
	var front time.Time
	synSeq := rc.nxtA
	rc.send(tb, true, fSYN, nil, nil)
	if back.Denied {
		// A deny-all NetworkPolicy: OpFlex drops every SYN at the backend's
		// node; HAProxy gives up after its 5 s connect timeout.
		ttl := uint8(64)
		if back.Node != n {
			ttl = 63
		}
		dmac := fmt.Sprintf("0a:58:%02x:%02x:%02x:%02x", back.IP.As4()[0], back.IP.As4()[1], back.IP.As4()[2], back.IP.As4()[3])
		id := rc.idA
		g.opflex.drop(tb.Add(60*us), "00:22:bd:f8:19:ff", dmac, rsrc, bdst, ttl, id, synSeq)
		for _, d := range []time.Duration{time.Second, 3 * time.Second} {
			rc.retransmit(tb.Add(d), true, fSYN, nil, synSeq)
			g.opflex.drop(tb.Add(d+60*us), "00:22:bd:f8:19:ff", dmac, rsrc, bdst, ttl, rc.idA, synSeq)
		}
		status = 503
		body := "<html><body><h1>Application is not available</h1><p>The application is currently not serving requests at this endpoint.</p></body></html>"
		rsp = fmt.Sprintf("HTTP/1.0 503 Service Unavailable\r\npragma: no-cache\r\ncache-control: private, max-age=0, no-cache, no-store\r\nconnection: close\r\ncontent-type: text/html\r\n\r\n%s", body)
		front = tq.Add(5 * time.Second)
	} else {
		rttP := time.Duration(100+r.IntN(300)) * us
		rc.send(tb.Add(rttP/2), false, fSYN|fACK, nil, nil)
		rc.send(tb.Add(rttP), true, fACK, nil, nil)
		tf := tb.Add(rttP + 30*us)
		rc.send(tf, true, fPSH|fACK, []byte(fwd), &frameMeta{requestID: reqID})
		rc.send(tf.Add(40*us), false, fACK, nil, nil)
		lat := time.Duration(3+r.IntN(57)) * time.Millisecond
		reason := "OK"
		switch kind {
		case "slow":
			lat = time.Duration(1000+r.IntN(3000)) * time.Millisecond
		case "backend_5xx":
			status = []int{500, 502, 503, 504}[r.IntN(4)]
			reason = map[int]string{500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
		}
		body := page(r.IntN(2400)+200, uri)
		rsp = fmt.Sprintf("HTTP/1.1 %d %s\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: %d\r\nrequest-id: %s\r\n\r\n%s", status, reason, len(body), reqID, body)
		tBackRsp = tf.Add(lat)
		rc.send(tBackRsp, false, fPSH|fACK, []byte(rsp), nil)
		rc.send(tBackRsp.Add(30*us), true, fACK, nil, nil)
		rc.send(tBackRsp.Add(200*us), true, fFIN|fACK, nil, nil)
		rc.send(tBackRsp.Add(300*us), false, fFIN|fACK, nil, nil)
		rc.send(tBackRsp.Add(330*us), true, fACK, nil, nil)
		front = tBackRsp.Add(150 * us)
	}

	// Router -> ELB response, then the ELB closes.
	fc.send(front, false, fPSH|fACK, []byte(rsp), nil)
	fc.send(front.Add(300*us), true, fACK, nil, nil)
	fin := front.Add(time.Duration(100+r.IntN(10)) * time.Millisecond)
	fc.send(fin, true, fFIN|fACK, nil, nil)
	fc.send(fin.Add(100*us), false, fFIN|fACK, nil, nil)
	fc.send(fin.Add(400*us), true, fACK, nil, nil)
	g.rememberClosed(k, n, src.Port(), fin)

	// ELB -> client.
	if cc != nil {
		cc.send(front.Add(50*us), false, fPSH|fACK, []byte(rsp), nil)
		cc.send(front.Add(rttC), true, fACK, nil, nil)
		cc.send(fin.Add(50*us), false, fFIN|fACK, nil, nil)
		cc.send(fin.Add(rttC), true, fFIN|fACK, nil, nil)
		cc.send(fin.Add(rttC+rttC/2), false, fACK, nil, nil)
	}

	rpt := 0.0002 + r.Float64()*0.0004
	bpt := 0.000005 + r.Float64()*0.000015
	rspt := 0.00001 + r.Float64()*0.00002
	elbTime := T
	switch w.lb {
	case "classic":
		g.elb.add(elbEntry{t: T, node: k, client: client, backend: np, rpt: rpt, bpt: bpt, rsp: rspt, recv: len(req), sent: len(rsp)})
	case "alb":
		// An ALB line is written when the response goes out; the target's
		// time runs from the request sent to the response's first byte.
		elbTime = front.Add(50 * us)
		g.elb.add(elbEntry{t: elbTime, created: T, node: k, client: client, backend: np, rpt: rpt, bpt: front.Sub(tq).Seconds(), rsp: rspt,
			recv: len(req), sent: len(rsp), status: status, request: method + " http://" + host + ":80" + uri + " HTTP/1.1", trace: traceID})
	case "nlb":
		elbTime = time.Time{} // a TCP listener writes no access log
	}

	tr := TruthRequest{N: i, RequestID: reqID, Method: method, URI: uri, Host: host, Client: client.String(),
		ELBNode: elbE.IP.String(), ELBSource: src.String(), Node: n.Name, NodePort: np.String(),
		RouterPod: router.Namespace + "/" + router.Name, Router: rt.String(), RouterSrc: rsrc.String(),
		BackendPod: back.Namespace + "/" + back.Name, Backend: bdst.String(), Status: status, Fault: kind,
		TraceID: traceID, ClientSYN: t0, ELBTime: elbTime, NodeSYN: ts, Request: tq, BackendReq: tb, BackendRsp: tBackRsp, Response: front,
		Closed: fin.Add(400 * us), ReqBytes: len(req), RspBytes: len(rsp)}
	if reused {
		tr.Fault = "port_reuse"
	}
	g.addRequest(tr)
	switch kind {
	case "networkpolicy_drop":
		f := g.faultFor("networkpolicy_drop", "networkpolicy_drop", back.Node.ENI, rsrc.Addr(), back.IP)
		f.Rule = fmt.Sprintf("NetworkPolicy deny-all in %s selects %s: OpFlex Acc-SEC_GROUP_IN_TABLE MISS on %s", back.Namespace, back.Name, back.Node.Name)
		f.Requests = append(f.Requests, reqID)
		f.Src = ""
		f.Count++
	case "backend_5xx", "slow":
		verdict := map[string]string{"backend_5xx": "backend_error", "slow": "slow_backend"}[kind]
		f := g.faultFor(kind, verdict, nil, netip.Addr{}, netip.Addr{})
		f.Requests = append(f.Requests, reqID)
		f.Count++
	}
}

// encap is the VXLAN tunnel a pod-to-pod connection crosses between nodes:
// the VPC sees UDP between the node ENIs.
type encap struct {
	from, to *node
	sport    uint16
}

// page is an HTML body of about n bytes.
func page(n int, title string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><title>" + title + "</title></head><body>")
	for b.Len() < n {
		b.WriteString("<p>Parks near you: Yellowstone, Yosemite, Zion, Banff, Fuji-Hakone-Izu.</p>")
	}
	b.WriteString("</body></html>")
	return b.String()
}

var scanPorts = []int{22, 23, 25, 80, 110, 135, 139, 443, 445, 1433, 1723, 2375, 3306, 3389, 5432, 5900, 6379, 7547, 8080, 8088, 8443, 9200, 11211, 27017}

// scanner probes a worker's public address on many ports; the worker
// security group rejects every SYN at the ENI.
func (g *generator) scanner(t time.Time, src netip.Addr) {
	w, r := g.w, g.w.rng
	n := w.workers[r.IntN(len(w.workers))]
	count := 5 + r.IntN(20)
	perm := r.Perm(len(scanPorts))
	sport := uint16(1024 + r.IntN(64000))
	f := g.faultFor("scanner", "sg_inbound", n.ENI, src, n.IP)
	f.Protocol = 6
	f.Rule = fmt.Sprintf("security group %s (worker) has no inbound rule allowing %s", w.sgWorker, src)
	at := t
	for i := 0; i < count; i++ {
		port := scanPorts[perm[i%len(perm)]]
		if i >= len(perm) {
			port = 1024 + r.IntN(60000)
		}
		dst := netip.AddrPortFrom(n.IP, uint16(port))
		s := netip.AddrPortFrom(src, sport)
		g.flows.add(n.ENI, s, dst, 6, at, 44, fSYN, false)
		f.Ports = append(f.Ports, port)
		f.Flows = append(f.Flows, s.String()+">"+dst.String())
		f.Count++
		at = at.Add(time.Duration(50+r.IntN(450)) * time.Millisecond)
	}
}

// sgBlock is an HTTPS client: the ELB accepts it on 443 and connects to the
// https NodePort, which the worker security group does not allow.
func (g *generator) sgBlock(t time.Time) {
	w, r := g.w, g.w.rng
	k := r.IntN(len(w.elbENIs))
	elbE := w.elbENIs[k]
	n := w.routers[r.IntN(len(w.routers))].Node
	client := g.clientAddr()
	rttC := time.Duration(15+r.IntN(75)) * time.Millisecond
	T := t.Add(rttC)
	var cc *conn
	src := client
	if w.lb != "nlb" {
		cc = g.newConn(client, netip.AddrPortFrom(elbE.IP, 443), t, 1460, 8961)
		cc.cross = []crossing{{elbE, true, true}}
		cc.send(t, true, fSYN, nil, nil)
		cc.send(t.Add(100*us), false, fSYN|fACK, nil, nil)
		cc.send(T, true, fACK, nil, nil)
		hello := make([]byte, 517)
		hello[0], hello[1], hello[2] = 0x16, 0x03, 0x01
		cc.send(T.Add(50*us), true, fPSH|fACK, hello, nil)
		cc.send(T.Add(150*us), false, fACK, nil, nil)
		src, _ = g.elbSource(k, n, T, false)
	}
	dst := netip.AddrPortFrom(n.IP, httpsNode)
	bc := g.newConn(src, dst, T, 8961, 8911)
	bc.cross = []crossing{{elbE, true, true}, {n.ENI, false, true}}
	seq := bc.nxtA
	bc.send(T.Add(150*us), true, fSYN, nil, nil)
	bc.retransmit(T.Add(time.Second), true, fSYN, nil, seq)
	bc.retransmit(T.Add(3*time.Second), true, fSYN, nil, seq)
	switch w.lb {
	case "classic":
		cc.send(T.Add(7*time.Second), false, fRST|fACK, nil, nil)
		g.elb.add(elbEntry{t: T, node: k, client: client, recv: 517})
	case "alb":
		// The ALB gives up on the target and answers 504 itself.
		cc.send(T.Add(7*time.Second), false, fRST|fACK, nil, nil)
		g.elb.add(elbEntry{t: T.Add(10 * time.Second), created: T, node: k, client: client, recv: 517, status: 504,
			request: "GET https://shop." + ingressHost + ":443/ HTTP/1.1", trace: fmt.Sprintf("Root=1-%08x-%s", T.Unix(), hexID(r, 24))})
	}
	f := g.faultFor("sg_block", "sg_inbound", n.ENI, src.Addr(), n.IP)
	f.Protocol = 6
	f.Rule = fmt.Sprintf("security group %s (worker) has no inbound rule for tcp/%d", w.sgWorker, httpsNode)
	f.Ports = appendUnique(f.Ports, httpsNode)
	f.Flows = append(f.Flows, src.String()+">"+dst.String())
	f.Clients = append(f.Clients, client.String())
	f.Count++
}

// naclReturn is a client whose SYN the ELB ENI accepts and whose SYN-ACK
// the public subnets' network ACL denies outbound.
func (g *generator) naclReturn(t time.Time) {
	w, r := g.w, g.w.rng
	k := r.IntN(len(w.elbENIs))
	elbE := w.elbENIs[k]
	client := netip.AddrPortFrom(randIn(r, blockedNet), uint16(32768+r.IntN(28232)))
	dst := netip.AddrPortFrom(elbE.IP, 80)
	cc := g.newConn(client, dst, t, 1460, 8961)
	cc.cross = []crossing{{elbE, true, false}}
	seqC := cc.nxtA
	cc.send(t, true, fSYN, nil, nil)
	seqE := cc.nxtB
	cc.send(t.Add(100*us), false, fSYN|fACK, nil, nil)
	for _, d := range []time.Duration{time.Second, 3 * time.Second, 7 * time.Second} {
		cc.retransmit(t.Add(d), true, fSYN, nil, seqC)
		cc.retransmit(t.Add(d+100*us), false, fSYN|fACK, nil, seqE)
	}
	f := g.faultFor("nacl_return", "nacl_outbound", elbE, client.Addr(), elbE.IP)
	f.Protocol = 6
	f.Rule = fmt.Sprintf("network ACL %s rule 90 (outbound, deny tcp 1024-65535 to %s)", w.aclPub, blockedNet)
	f.Ports = appendUnique(f.Ports, 80)
	f.Flows = append(f.Flows, client.String()+">"+dst.String())
	f.Count++
}

// notListening is an ELB health check of the http NodePort on the worker
// without a router pod: with externalTrafficPolicy Local nothing there
// answers, and the SYN goes unanswered.
func (g *generator) notListening(t time.Time, k int) {
	w := g.w
	elbE := w.elbENIs[k]
	n := w.workers[2]
	src, _ := g.elbSource(k, n, t, false)
	dst := netip.AddrPortFrom(n.IP, httpNode)
	hc := g.newConn(src, dst, t, 8961, 8911)
	hc.cross = []crossing{{elbE, true, true}, {n.ENI, true, true}}
	seq := hc.nxtA
	hc.send(t, true, fSYN, nil, nil)
	hc.retransmit(t.Add(time.Second), true, fSYN, nil, seq)
	f := g.faultFor("not_listening", "not_listening", n.ENI, src.Addr(), n.IP)
	f.Protocol = 6
	f.Rule = fmt.Sprintf("nothing answers on %s: node %s runs no router-default pod (externalTrafficPolicy: Local)", dst, n.Name)
	f.Ports = appendUnique(f.Ports, httpNode)
	f.Flows = append(f.Flows, src.String()+">"+dst.String())
	f.Count++
}

func appendUnique(xs []int, x int) []int {
	for _, v := range xs {
		if v == x {
			return xs
		}
	}
	return append(xs, x)
}

// faultFor returns the truth entry of a fault kind between src and dst on
// an ENI, creating it.
func (g *generator) faultFor(kind, verdict string, e *eni, src, dst netip.Addr) *TruthFault {
	eniID, s, d := "", "", ""
	if e != nil {
		eniID = e.ID
	}
	if src.IsValid() {
		s = src.String()
	}
	if dst.IsValid() {
		d = dst.String()
	}
	for i := range g.truth.Faults {
		f := &g.truth.Faults[i]
		if f.Kind == kind && f.ENI == eniID && f.Dst == d && (f.Src == s || kind == "networkpolicy_drop") {
			return f
		}
	}
	g.truth.Faults = append(g.truth.Faults, TruthFault{Kind: kind, Verdict: verdict, ENI: eniID, Src: s, Dst: d})
	return &g.truth.Faults[len(g.truth.Faults)-1]
}
