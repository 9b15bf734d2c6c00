package query

import (
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// overlayPorts are the UDP ports of pod-network tunnels between nodes:
// VXLAN (IANA and OpenShift SDN's) and Geneve (OVN-Kubernetes).
var overlayPorts = []any{4789, 8472, 6081}

// build turns the legs found into lanes and hops, in path order.
func (tr *tracer) build() error {
	t, f, d, b, e := tr.t, tr.conn.front, tr.conn.dnat, tr.conn.back, tr.elb
	ref := tr.refTime()

	// Lanes, labelled from endpoints.
	client := Lane{ID: "client", Label: "client", Addr: t.Request.Client}
	lb := Lane{ID: "lb", Label: "load balancer"}
	node := Lane{ID: "node", Label: "node"}
	router := Lane{ID: "router", Label: "router pod"}
	backend := Lane{ID: "backend", Label: "backend pod"}
	if e != nil {
		lb.Label = e.elb
		if e.backend != "" {
			node.Addr = hostPort(e.backend, e.backendPort)
		}
	}
	if f != nil {
		lb.Addr = hostPort(f.aAddr, f.aPort)
		if ep, ok := tr.eps[f.aAddr]; ok {
			lb.ENI = ep.eni
			if ep.kind == "elb" {
				lb.Label = ep.name
			}
		}
		node.Addr = hostPort(f.bAddr, f.bPort)
		if n := tr.files[f.ev].node; n != "" {
			node.Label = n
		}
	}
	if node.Addr != "" {
		nip := hostOf(node.Addr)
		if ep, ok := tr.eps[nip]; ok && ep.kind == "node" {
			node.Label = ep.name
		}
		eni, err := tr.eniOf(nip)
		if err != nil {
			return err
		}
		node.ENI = eni
	}
	switch {
	case d != nil:
		router.Addr = hostPort(d.bAddr, d.bPort)
	case b != nil:
		router.Addr = b.aAddr // its listening port is on the DNAT'd leg, not captured
	}
	if b != nil {
		backend.Addr = hostPort(b.bAddr, b.bPort)
		if ep, ok := tr.eps[b.bAddr]; ok {
			backend.Label = ep.name
		}
	}
	if ep, ok := tr.eps[hostOf(router.Addr)]; ok && router.Addr != "" {
		router.Label = ep.name
	}
	t.Lanes = []Lane{client, lb, node, router, backend}

	// client → load balancer: the access-log line.
	if e != nil {
		h := Hop{Step: "client_lb", From: "client", To: "lb", Source: "elb_log", Status: "ok",
			Start: tp(e.time), Evidence: []EvRef{tr.ref(e.ev, "line", e.line, "")}, Confidence: 1}
		total := 0.0
		var times []string
		for _, x := range []sql.NullFloat64{e.rpt, e.bpt, e.rspt} {
			if x.Valid {
				total += x.Float64
				times = append(times, fmt.Sprintf("%.3f", x.Float64*1000))
			} else {
				times = append(times, "-1")
				h.Status = "error"
			}
		}
		h.DurationMS = round3(total * 1000)
		h.End = tp(e.time.Add(time.Duration(total * float64(time.Second))))
		status := "-"
		if e.elbStatus.Valid {
			status = fmt.Sprint(e.elbStatus.Int64)
			if e.elbStatus.Int64 >= 500 {
				h.Status = "error"
			}
		}
		h.Summary = fmt.Sprintf("%s %s → %s, processing %s ms, status %s, %d bytes in, %d out",
			e.lbType, hostPort(e.client, e.clientPort), hostPort(e.backend, e.backendPort), strings.Join(times, "/"), status, e.recv.Int64, e.sent.Int64)
		switch {
		case tr.elbByTrace:
			h.Match = "exact key: X-Amzn-Trace-Id"
		case tr.proxy != nil:
			h.Match = "exact key: the PROXY header's client ip:port"
		case f != nil:
			h.Match = "tuple + time window"
			h.Confidence = 0.9
		default:
			h.Match = "the key"
		}
		t.Hops = append(t.Hops, h)
	} else if !tr.passThrough {
		reason, err := tr.elbMissing(ref)
		if err != nil {
			return err
		}
		t.Hops = append(t.Hops, Hop{Step: "client_lb", From: "client", To: "lb", Source: "elb_log", Status: "missing", Reason: reason, Evidence: []EvRef{}})
	}

	// client ↔ load balancer as its ENI's flow log saw it (when it logs
	// its listener side). A pass-through load balancer has one connection,
	// the load balancer → node leg's.
	if t.Request.Client != "" && !ref.IsZero() && !tr.passThrough {
		cip, cport := hostOf(t.Request.Client), portOf(t.Request.Client)
		fs, err := tr.flows(`protocol = 6 AND ((srcaddr = ? AND srcport = ?) OR (dstaddr = ? AND dstport = ?)) AND start_time <= ? AND end_time >= ?`,
			cip, cport, cip, cport, ref.Add(flowAfter), ref.Add(-flowBefore))
		if err != nil {
			return err
		}
		for _, g := range tr.byENI(nearestWindows(fs, ref)) {
			t.Hops = append(t.Hops, tr.flowHop("client_lb", "client", "lb", g, ref, true))
		}
	}

	// load balancer → node: flow logs of each ENI, then the capture.
	if f != nil {
		if err := tr.flowLeg("lb_node", "lb", "node", f, []string{lb.ENI, node.ENI}); err != nil {
			return err
		}
		if tr.passThrough {
			// The load balancer's own ENI is the one of its records that
			// is not the node's: name the lane after it.
			for _, h := range t.Hops {
				if h.Step == "lb_node" && h.Source == "flow_log" && h.ENI != node.ENI && h.ENI != "" {
					t.Lanes[1].ENI = h.ENI
					if name := tr.lbOfENI(h.ENI); name != "" {
						t.Lanes[1].Label = name
					}
				}
			}
			t.Hops = append(t.Hops, Hop{Step: "client_lb", From: "client", To: "lb", Source: "elb_log", Status: "missing", Evidence: []EvRef{},
				Reason: "the load balancer passed the client's own connection through (its address reached the node): a Network Load Balancer's TCP listener writes no access log"})
		}
		t.Hops = append(t.Hops, tr.convHop("lb_node", "lb", "node", f, "exact key", 1))
		if d != nil {
			t.Hops = append(t.Hops, tr.convHop("node_router", "node", "router", d, "exact key: the initiator's ISN across kube-proxy's DNAT", 1))
		} else {
			t.Hops = append(t.Hops, Hop{Step: "node_router", From: "node", To: "router", Source: "capture", Status: "missing", Evidence: []EvRef{},
				Reason: "the capture of " + tr.files[f.ev].node + " has no DNAT'd copy of the stream (tcpdump -i any shows it on the router pod's veth when the router runs on this node)"})
		}
	} else {
		reason := "no capture holds the connection"
		if e != nil && e.backend == "" {
			reason = "the access-log line names no backend: the load balancer reached none"
		}
		if node.Addr != "" {
			var err error
			reason, err = tr.captureMissing(hostOf(node.Addr), node.Label, ref)
			if err != nil {
				return err
			}
		}
		for _, eni := range []string{lb.ENI, node.ENI} {
			if eni == "" {
				continue
			}
			t.Hops = append(t.Hops, Hop{Step: "lb_node", From: "lb", To: "node", Source: "flow_log", Status: "missing", ENI: eni, Evidence: []EvRef{},
				Reason: "without a capture of the connection its ephemeral port is unknown, so no flow-log record can be told apart"})
		}
		if lb.ENI == "" && node.ENI == "" {
			t.Hops = append(t.Hops, Hop{Step: "lb_node", From: "lb", To: "node", Source: "flow_log", Status: "missing", Evidence: []EvRef{},
				Reason: "without a capture of the connection its ephemeral port is unknown, so no flow-log record can be told apart"})
		}
		t.Hops = append(t.Hops, Hop{Step: "lb_node", From: "lb", To: "node", Source: "capture", Status: "missing", Reason: reason, Evidence: []EvRef{}})
		t.Hops = append(t.Hops, Hop{Step: "node_router", From: "node", To: "router", Source: "capture", Status: "missing", Reason: reason, Evidence: []EvRef{}})
	}

	// router → backend pod.
	if b != nil {
		match, conf := "exact key: request-id", 1.0
		if tr.backHeuristic > 0 {
			match, conf = tr.backMatch, 0.7
			if tr.backHeuristic > 1 {
				conf = 0.4
				t.Ambiguous = append(t.Ambiguous, fmt.Sprintf("%d router connections match (%s); the first was taken", tr.backHeuristic, tr.backMatch))
			}
		}
		t.Hops = append(t.Hops, tr.convHop("router_backend", "router", "backend", b, match, conf))
		if err := tr.overlay(b); err != nil {
			return err
		}
		if err := tr.drops(b); err != nil {
			return err
		}
	} else {
		reason := "no router → backend request with this request-id, nor one with its URI and client, was captured"
		if t.Request.RequestID == "" && t.Request.URI == "" {
			reason = "the request itself was not captured, so nothing joins the router's connection to it"
		}
		switch {
		case f == nil && e != nil && e.backend == "":
			reason = "the load balancer reached no backend"
		case f == nil && node.Addr != "":
			reason = "the request was not captured on " + node.Label
		}
		t.Hops = append(t.Hops, Hop{Step: "router_backend", From: "router", To: "backend", Source: "capture", Status: "missing", Reason: reason, Evidence: []EvRef{}})
	}
	return nil
}

// refTime is when the request reached the node (capture), or was logged.
func (tr *tracer) refTime() time.Time {
	switch {
	case tr.conn.front != nil:
		return tr.conn.front.first
	case tr.elb != nil:
		return tr.elb.time
	case tr.conn.back != nil:
		return tr.conn.back.first
	}
	return time.Time{}
}

func (tr *tracer) ref(ev int, unit string, n int64, label string) EvRef {
	return EvRef{Evidence: ev, File: tr.files[ev].name, Unit: unit, N: n, Label: label}
}

func hostOf(ipPort string) string {
	i := strings.LastIndexByte(ipPort, ':')
	if i < 0 {
		return ipPort
	}
	return strings.Trim(ipPort[:i], "[]")
}

func portOf(ipPort string) int {
	i := strings.LastIndexByte(ipPort, ':')
	var p int
	fmt.Sscan(ipPort[i+1:], &p)
	return p
}

// eniOf is the ENI holding an address, from the snapshot.
func (tr *tracer) eniOf(ip string) (string, error) {
	tr.mu.Lock()
	eni, ok := tr.enis[ip]
	tr.mu.Unlock()
	if ok {
		return eni, nil
	}
	var e sql.NullString
	if err := tr.queryRow(`SELECT min(network_interface_id) FROM enis WHERE list_contains(private_ips, ?)`, ip).Scan(&e); err != nil {
		return "", err
	}
	tr.mu.Lock()
	tr.enis[ip] = e.String
	tr.mu.Unlock()
	return e.String, nil
}

// convHop is a captured connection as a hop.
func (tr *tracer) convHop(step, from, to string, c *convRow, match string, conf float64) Hop {
	h := Hop{Step: step, From: from, To: to, Source: "capture", Status: "ok", Match: match, Confidence: conf,
		Start: tp(c.first), End: tp(c.last), DurationMS: round3(msBetween(c.first, c.last)),
		Packets: &Ref{Evidence: c.ev, N: c.conv}}
	var parts []string
	h.Evidence = append(h.Evidence, tr.ref(c.ev, "frame", c.firstFrame, "first"))
	if c.syn.Valid && c.ack.Valid {
		parts = append(parts, fmt.Sprintf("handshake %.3f ms", msBetween(c.syn.Time, c.ack.Time)))
	} else if !c.syn.Valid {
		parts = append(parts, "no SYN seen")
	} else if !c.synack.Valid {
		parts = append(parts, "SYN unanswered")
		h.Status = "no_response"
	}
	if tr.proxy != nil && tr.proxy.ev == c.ev && tr.proxy.conv == c.conv || step == "node_router" && tr.proxy != nil {
		if p, _ := tr.proxyOf(c); p != nil {
			parts = append(parts, fmt.Sprintf("PROXY v%d %s", p.version, hostPort(p.src, p.sp)))
			h.Evidence = append(h.Evidence, tr.ref(c.ev, "frame", p.frame, "PROXY"))
		}
	}
	msgs, _ := tr.msgsOf(c)
	// A connection the capture's rotation cut in two ends in the next file.
	last := c
	for next, _ := tr.continuation(last); next != nil; next, _ = tr.continuation(last) {
		last = next
	}
	if last != c {
		h.End = tp(last.last)
		h.DurationMS = round3(msBetween(c.first, last.last))
	}
	var req *httpRow
	for _, m := range msgs {
		if m.request {
			if req == nil {
				req = m
				parts = append(parts, strings.TrimSpace(m.method+" "+m.uri))
				h.Evidence = append(h.Evidence, tr.ref(m.ev, "frame", m.firstFrame, "request"))
			}
			continue
		}
		lat := ""
		if m.latency.Valid {
			lat = fmt.Sprintf(" after %.3f ms", m.latency.Float64)
		}
		parts = append(parts, fmt.Sprintf("→ %d%s", m.status, lat))
		h.Evidence = append(h.Evidence, tr.ref(m.ev, "frame", m.firstFrame, fmt.Sprintf("response %d", m.status)))
		if m.status >= 500 {
			h.Status = "error"
		}
		req = nil
	}
	if req != nil {
		// A capture that ended soon after the request may simply not have
		// lasted long enough to see the response.
		if end := tr.files[last.ev].last; last.endReason == "none" && end.Valid && end.Time.Sub(req.last) < backendWindow {
			parts = append(parts, fmt.Sprintf("the capture ended %s after the request, before any response", end.Time.Sub(req.last).Round(time.Millisecond)))
			h.Status = "truncated"
		} else {
			parts = append(parts, "no response")
			h.Status = "no_response"
		}
	}
	if c.retrans > 0 {
		parts = append(parts, fmt.Sprintf("%d retransmission(s)", c.retrans))
	}
	if last != c {
		parts = append(parts, fmt.Sprintf("continued in #%d stream %d (the capture rotated)", last.ev, last.conv))
	}
	switch last.endReason {
	case "RST":
		parts = append(parts, "reset")
		h.Status = "reset"
	case "":
	case "none":
		if h.Status != "truncated" {
			parts = append(parts, "not closed when the capture ended")
		}
	default:
		parts = append(parts, last.endReason)
	}
	h.Evidence = append(h.Evidence, tr.ref(last.ev, "frame", last.lastFrame, "last"))
	h.Summary = fmt.Sprintf("stream %d on %s: %s → %s, %s", c.conv, tr.files[c.ev].node, hostPort(c.aAddr, c.aPort), hostPort(c.bAddr, c.bPort), strings.Join(parts, ", "))
	return h
}

// flowLeg adds, for each ENI, the flow-log records of a captured
// connection, or a missing hop saying why there are none.
func (tr *tracer) flowLeg(step, from, to string, c *convRow, enis []string) error {
	fs, err := tr.flows(`protocol = 6 AND ((srcaddr = ? AND srcport = ? AND dstaddr = ? AND dstport = ?) OR (srcaddr = ? AND srcport = ? AND dstaddr = ? AND dstport = ?))
		AND start_time <= ? AND end_time >= ?`, c.aAddr, c.aPort, c.bAddr, c.bPort, c.bAddr, c.bPort, c.aAddr, c.aPort,
		c.last.Add(flowAfter), c.first.Add(-flowBefore))
	if err != nil {
		return err
	}
	// The load balancer reuses ephemeral ports: every captured connection
	// of the same 4-tuple near this one competes for the records.
	others := tr.sameTuple
	groups := tr.byENI(claim(fs, c, others))
	seen := map[string]bool{}
	for _, g := range groups {
		seen[g[0].eni] = true
		tr.t.Hops = append(tr.t.Hops, tr.flowHop(step, from, to, g, c.first, true))
	}
	for _, eni := range enis {
		if eni == "" || seen[eni] {
			continue
		}
		reason, err := tr.flowMissing(eni, c.first)
		if err != nil {
			return err
		}
		tr.t.Hops = append(tr.t.Hops, Hop{Step: step, From: from, To: to, Source: "flow_log", Status: "missing", ENI: eni, Reason: reason, Evidence: []EvRef{}})
	}
	return nil
}

// recordDelay is how late AWS says a flow-log record's start may be after
// its first packet (up to 60 s), with room for the clocks of two sources.
const recordDelay = 65 * time.Second

// claim keeps the records that belong to connection c rather than to one
// of its rivals (other captured connections of the same 4-tuple, which the
// load balancer opened reusing the port). Records are taken a window at a
// time (both directions on one ENI, starting within a few seconds of each
// other); a window may hold the connections whose first packet lies no more
// than recordDelay before its start and not after its end. On each ENI:
//   - a window whose packet counts match one connection's in both
//     directions is that connection's;
//   - one whose counts are the sum of all it may hold aggregates them all;
//   - the rest go in time order, the first window to the first connection,
//     when there are as many of each; else each to the connection that
//     began last before it (records start after their packets).
func claim(fs []*flowRow, c *convRow, rivals []*convRow) []*flowRow {
	type window struct {
		rows       []*flowRow
		start, end time.Time
		fwd, back  int64
		owners     []*convRow
	}
	var ws []*window
	for _, f := range fs {
		var w *window
		for _, x := range ws {
			if x.rows[0].eni == f.eni && absDur(x.start.Sub(f.start)) <= 5*time.Second {
				w = x
				break
			}
		}
		if w == nil {
			w = &window{start: f.start, end: f.end}
			ws = append(ws, w)
		}
		w.rows = append(w.rows, f)
		if f.end.After(w.end) {
			w.end = f.end
		}
		if f.src == c.aAddr && f.srcPort == c.aPort {
			w.fwd += f.packets
		} else {
			w.back += f.packets
		}
	}
	cands := []*convRow{c}
	for _, r := range rivals {
		if r.ev == c.ev && r.conv == c.conv || r.isn.Valid && r.isn == c.isn {
			continue // c itself, or c seen in another capture
		}
		cands = append(cands, r)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].first.Before(cands[j].first) })
	fits := func(w *window, x *convRow) bool {
		return !x.first.Before(w.start.Add(-recordDelay)) && !x.first.After(w.end.Add(5*time.Second))
	}
	byENI := map[string][]*window{}
	var enis []string
	for _, w := range ws {
		if byENI[w.rows[0].eni] == nil {
			enis = append(enis, w.rows[0].eni)
		}
		byENI[w.rows[0].eni] = append(byENI[w.rows[0].eni], w)
	}
	var out []*flowRow
	for _, eni := range enis {
		wins := byENI[eni]
		sort.SliceStable(wins, func(i, j int) bool { return wins[i].start.Before(wins[j].start) })
		taken := map[*convRow]bool{}
		var open []*window
		for _, w := range wins {
			var in []*convRow
			var fwd, back int64
			for _, x := range cands {
				if fits(w, x) {
					in = append(in, x)
					fwd, back = fwd+x.pktAB, back+x.pktBA
				}
			}
			switch m := exactly(w.fwd, w.back, in); {
			case m != nil:
				w.owners, taken[m] = []*convRow{m}, true
			case len(in) > 1 && fwd == w.fwd && back == w.back:
				w.owners = in
				for _, x := range in {
					taken[x] = true
				}
			default:
				open = append(open, w)
			}
		}
		var free []*convRow
		for _, x := range cands {
			if !taken[x] {
				free = append(free, x)
			}
		}
		for i, w := range open {
			if len(open) == len(free) && fits(w, free[i]) {
				w.owners = []*convRow{free[i]}
				continue
			}
			w.owners = []*convRow{lastBefore(free, cands, w.start)}
		}
		for _, w := range wins {
			if slices.Contains(w.owners, c) {
				out = append(out, w.rows...)
			}
		}
	}
	return out
}

// lastBefore is the connection of xs (else of all) that began last before
// t, give or take a few seconds of clock; else the first after it.
func lastBefore(xs, all []*convRow, t time.Time) *convRow {
	if len(xs) == 0 {
		xs = all
	}
	var best *convRow
	for _, x := range xs {
		if !x.first.After(t.Add(5 * time.Second)) {
			best = x // xs is in time order
		}
	}
	if best == nil {
		best = xs[0]
	}
	return best
}

// exactly is the one connection whose packet counts a window matches.
func exactly(fwd, back int64, cs []*convRow) *convRow {
	var m *convRow
	for _, x := range cs {
		if x.pktAB == fwd && x.pktBA == back {
			if m != nil {
				return nil
			}
			m = x
		}
	}
	return m
}

// nearestWindows keeps, per ENI, the records of the aggregation window
// nearest to at (both directions of a window start within a second or two):
// for the legs whose records no captured connection dates, the client's to
// the load balancer and the overlay's between nodes.
func nearestWindows(fs []*flowRow, at time.Time) []*flowRow {
	dist := func(f *flowRow) time.Duration {
		switch {
		case at.Before(f.start):
			return f.start.Sub(at)
		case at.After(f.end.Add(time.Second)):
			return at.Sub(f.end)
		}
		return 0
	}
	best := map[string]time.Duration{}
	for _, f := range fs {
		if b, ok := best[f.eni]; !ok || dist(f) < b {
			best[f.eni] = dist(f)
		}
	}
	var out []*flowRow
	for _, f := range fs {
		if dist(f) <= best[f.eni]+2*time.Second {
			out = append(out, f)
		}
	}
	return out
}

func (tr *tracer) byENI(fs []*flowRow) [][]*flowRow {
	var out [][]*flowRow
	idx := map[string]int{}
	for _, f := range fs {
		i, ok := idx[f.eni]
		if !ok {
			i = len(out)
			idx[f.eni] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], f)
	}
	// The load balancer's ENI first: that is the order the packets cross.
	sort.SliceStable(out, func(i, j int) bool {
		return tr.eniRank(out[i][0].eni) < tr.eniRank(out[j][0].eni)
	})
	return out
}

func (tr *tracer) eniRank(eni string) int {
	for _, ep := range tr.eps {
		if ep.eni == eni && ep.kind == "elb" {
			return 0
		}
	}
	return 1
}

// flowHop is one ENI's records of a connection as a hop.
// Only the records of the request's own connection (not the overlay's,
// which every connection between two nodes shares) say anything about a
// source's skew or an ambiguity.
func (tr *tracer) flowHop(step, from, to string, g []*flowRow, at time.Time, own bool) Hop {
	h := Hop{Step: step, From: from, To: to, Source: "flow_log", Status: "ok", ENI: g[0].eni,
		Match: "tuple + time window", Confidence: 0.9}
	start, end := g[0].start, g[0].end
	var parts []string
	windows := map[time.Time]bool{}
	for _, f := range g {
		if f.start.Before(start) {
			start = f.start
		}
		if f.end.After(end) {
			end = f.end
		}
		windows[f.start] = true
		parts = append(parts, fmt.Sprintf("%s → %s %s %d pkts %d bytes", hostPort(f.src, f.srcPort), hostPort(f.dst, f.dstPort), f.action, f.packets, f.bytes))
		if f.action == "REJECT" {
			h.Status = "rejected"
		}
		h.Evidence = append(h.Evidence, tr.ref(f.ev, "line", f.line, f.action))
	}
	h.Start, h.End = tp(start), tp(end)
	h.DurationMS = round3(msBetween(start, end))
	label := tr.eniLabel(g[0].eni)
	h.Summary = fmt.Sprintf("%s, window %s–%s: %s", label, start.UTC().Format("15:04:05"), end.UTC().Format("15:04:05"), strings.Join(parts, "; "))
	lag := start.Sub(at)
	if absDur(lag) > 5*time.Second {
		h.Summary += fmt.Sprintf(" (the window starts %s %s the packets)", absDur(lag).Round(time.Second), map[bool]string{true: "after", false: "before"}[lag > 0])
	}
	if !own {
		return h
	}
	if len(windows) > 2 {
		h.Confidence = 0.6
		tr.t.Ambiguous = append(tr.t.Ambiguous, fmt.Sprintf("%s: %d aggregation windows of this tuple equally near", g[0].eni, len(windows)))
	}
	// Skew against the packets of the load balancer → node connection,
	// whose first packet the capture dates.
	if step != "lb_node" {
		return h
	}
	src := "flow log " + g[0].eni
	for _, s := range tr.t.Skew {
		if s.Source == src {
			return h
		}
	}
	tr.t.Skew = append(tr.t.Skew, Skew{Source: src, OffsetMS: round3(msBetween(at, start)),
		Note: "record start minus the connection's first packet: aggregation delay (records are to the second) plus any clock difference"})
	return h
}

// lbOfENI is the load balancer an ENI belongs to, from endpoints.
func (tr *tracer) lbOfENI(eni string) string {
	for _, ep := range tr.eps {
		if ep.eni == eni && ep.kind == "elb" {
			return ep.name
		}
	}
	return ""
}

func (tr *tracer) eniLabel(eni string) string {
	for ip, ep := range tr.eps {
		if ep.eni == eni {
			switch ep.kind {
			case "elb":
				return eni + " (load balancer " + ep.name + ", " + ip + ")"
			}
		}
	}
	return eni
}

// overlay adds the tunnel records between the router's node and the
// backend's node: shared by every pod-to-pod connection between them, so a
// heuristic.
func (tr *tracer) overlay(b *convRow) error {
	var rn, bn sql.NullString
	err := tr.queryRow(`SELECT (SELECT n.internal_ip FROM pods p JOIN nodes n ON n.name = p.node WHERE p.ip = ? LIMIT 1),
		(SELECT n.internal_ip FROM pods p JOIN nodes n ON n.name = p.node WHERE p.ip = ? LIMIT 1)`, b.aAddr, b.bAddr).Scan(&rn, &bn)
	if err != nil || !rn.Valid || !bn.Valid || rn.String == bn.String {
		return err
	}
	fs, err := tr.flows(`protocol = 17 AND dstport IN (?, ?, ?) AND ((srcaddr = ? AND dstaddr = ?) OR (srcaddr = ? AND dstaddr = ?)) AND start_time <= ? AND end_time >= ?`,
		append(overlayPorts, rn.String, bn.String, bn.String, rn.String, b.last.Add(flowAfter), b.first.Add(-flowBefore))...)
	if err != nil {
		return err
	}
	for _, g := range tr.byENI(nearestWindows(fs, b.first)) {
		h := tr.flowHop("router_backend", "router", "backend", g, b.first, false)
		h.Match = "heuristic: the tunnel between the two nodes in the window, shared by every pod-to-pod connection between them"
		h.Confidence = 0.3
		var pkts, bytes int64
		for _, f := range g {
			pkts += f.packets
			bytes += f.bytes
		}
		h.Summary = fmt.Sprintf("overlay %s, window %s–%s: %d tunnel records between %s and %s (UDP %d), %d pkts %d bytes in all",
			tr.eniLabel(g[0].eni), clock(*h.Start), clock(*h.End), len(g), g[0].src, g[0].dst, g[0].dstPort, pkts, bytes)
		tr.t.Hops = append(tr.t.Hops, h)
	}
	return nil
}

// drops adds OpFlex drops of the router's packets to the backend.
func (tr *tracer) drops(b *convRow) error {
	rows, err := tr.query(`SELECT evidence_id, line, time, coalesce(table_name, ''), coalesce(reason, ''), coalesce(tcp_flags, '')
		FROM drops WHERE kind = 'packet' AND src = ? AND spt = ? AND dst = ? AND dpt = ? AND time BETWEEN ? AND ? ORDER BY time, line`,
		b.aAddr, b.aPort, b.bAddr, b.bPort, b.first.Add(-backendWindow), b.last.Add(backendWindow))
	if err != nil {
		return err
	}
	defer rows.Close()
	var h *Hop
	for rows.Next() {
		var ev int
		var line int64
		var at time.Time
		var table, reason, flags string
		if err := rows.Scan(&ev, &line, &at, &table, &reason, &flags); err != nil {
			return err
		}
		if h == nil {
			h = &Hop{Step: "drop", From: "router", To: "backend", Source: "opflex", Status: "dropped", Start: tp(at),
				Match: "tuple + time window", Confidence: 0.95}
			h.Summary = fmt.Sprintf("OpFlex %s %s", table, reason)
		}
		h.End = tp(at)
		h.Evidence = append(h.Evidence, tr.ref(ev, "line", line, strings.TrimSpace(flags)))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if h != nil {
		h.DurationMS = round3(msBetween(*h.Start, *h.End))
		h.Summary += fmt.Sprintf(": %d packet(s) of %s → %s dropped", len(h.Evidence), hostPort(b.aAddr, b.aPort), hostPort(b.bAddr, b.bPort))
		tr.t.Hops = append(tr.t.Hops, *h)
	}
	return nil
}

// coverage is the time span of some evidence, or none.
func (tr *tracer) coverage(q string, args ...any) (first, last sql.NullTime, err error) {
	err = tr.queryRow(q, args...).Scan(&first, &last)
	return
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05") }

func (tr *tracer) elbMissing(at time.Time) (string, error) {
	first, last, err := tr.coverage(`SELECT min(first_time), max(last_time) FROM evidence WHERE kind = 'elblog'`)
	if err != nil {
		return "", err
	}
	switch {
	case !first.Valid:
		return "no load balancer access log in the bundle", nil
	case at.IsZero():
		return "no access-log line names the client", nil
	case at.Before(first.Time.Add(-elbWindow)) || at.After(last.Time.Add(elbWindow)):
		return fmt.Sprintf("ELB log for %s missing: the bundle's access logs cover %s–%s", at.UTC().Format("15:04"), clock(first.Time), clock(last.Time)), nil
	}
	return fmt.Sprintf("no access-log line for this client around %s, although the logs cover that time (a health check, or a connection the load balancer never forwarded)", clock(at)), nil
}

func (tr *tracer) captureMissing(ip, name string, at time.Time) (string, error) {
	if name == "" {
		name = ip
	}
	first, last, err := tr.coverage(`SELECT min(e.first_time), max(e.last_time) FROM evidence e
		WHERE e.kind = 'pcap' AND (e.node = ? OR e.node = ?)`, name, ip)
	if err != nil {
		return "", err
	}
	switch {
	case !first.Valid:
		return "no capture from node " + name + " in the bundle", nil
	case at.After(last.Time):
		return fmt.Sprintf("no capture from node %s after %s", name, clock(last.Time)), nil
	case at.Before(first.Time):
		return fmt.Sprintf("no capture from node %s before %s", name, clock(first.Time)), nil
	}
	return fmt.Sprintf("the captures of node %s cover %s but hold no stream of this request (dropped before the node, or filtered)", name, clock(at)), nil
}

func (tr *tracer) flowMissing(eni string, at time.Time) (string, error) {
	first, last, err := tr.coverage(`SELECT min(first_time), max(last_time) FROM flow_log_sources WHERE interface_id = ? AND chosen`, eni)
	if err != nil {
		return "", err
	}
	label := tr.eniLabel(eni)
	win := at.UTC().Truncate(10 * time.Minute)
	switch {
	case !first.Valid:
		return "no flow log of " + label + " in the bundle", nil
	case at.Before(first.Time.Add(-flowBefore)) || at.After(last.Time.Add(flowBefore)):
		return fmt.Sprintf("flow-log window for %s–%s not in the bundle (%s's records cover %s–%s)",
			win.Format("15:04"), win.Add(10*time.Minute).Format("15:04"), eni, clock(first.Time), clock(last.Time)), nil
	}
	return fmt.Sprintf("no record of this connection on %s although its flow log covers %s (a flow log of ACCEPT or REJECT only?)", label, clock(at)), nil
}

// finish orders the hops, sets offsets, the skew of the ELB log, the
// outcome and the completeness.
func (tr *tracer) finish() {
	t := tr.t
	sortHops(t.Hops)
	// Offsets count from the first precise time: flow-log windows are to
	// the second and may start well before or after the packets.
	for _, h := range t.Hops {
		if h.Start != nil && h.Source != "flow_log" && (t.Start.IsZero() || h.Start.Before(t.Start)) {
			t.Start = *h.Start
		}
	}
	if t.Start.IsZero() { // only flow-log windows: count from the first
		for _, h := range t.Hops {
			if h.Start != nil && (t.Start.IsZero() || h.Start.Before(t.Start)) {
				t.Start = *h.Start
			}
		}
	}
	for i := range t.Hops {
		if t.Hops[i].Start != nil {
			t.Hops[i].OffsetMS = round3(msBetween(t.Start, *t.Hops[i].Start))
		}
	}
	if tr.elb != nil && tr.conn.front != nil {
		t.Skew = append([]Skew{{Source: "elb log", OffsetMS: round3(msBetween(tr.conn.front.first, tr.elb.time)),
			Note: "log time minus the first packet on " + tr.files[tr.conn.front.ev].node + ": clock difference plus when the line is written"}}, t.Skew...)
	}
	// Completeness: the legs every request has.
	want := []struct{ step, source string }{
		{"client_lb", "elb_log"}, {"lb_node", "flow_log"}, {"lb_node", "capture"}, {"node_router", "capture"}, {"router_backend", "capture"},
	}
	if tr.passThrough {
		want = want[1:] // no access log to expect
	}
	t.Expected = len(want)
	for _, w := range want {
		for _, h := range t.Hops {
			if h.Step == w.step && h.Source == w.source && h.Status != "missing" {
				t.Found++
				break
			}
		}
	}
	t.Complete = t.Found == t.Expected
	for _, h := range t.Hops {
		if h.Source == "flow_log" && h.Status == "missing" {
			t.Complete = false
		}
	}
	t.Outcome, t.Why = tr.outcome()
}

func (tr *tracer) outcome() (string, string) {
	t := tr.t
	status := t.Request.Status
	if status == 0 && tr.elb != nil && tr.elb.elbStatus.Valid {
		status = int(tr.elb.elbStatus.Int64)
		t.Request.Status = status
	}
	for _, h := range t.Hops {
		if h.Status == "dropped" {
			return "dropped", fmt.Sprintf("%s; the client got %s", h.Summary, statusText(status))
		}
	}
	for _, h := range t.Hops {
		if h.Status == "rejected" {
			return "rejected", "a REJECT on " + h.ENI + ": " + h.Summary
		}
	}
	for _, h := range t.Hops {
		if h.Status == "reset" {
			return "reset", "the connection was reset: " + h.Summary
		}
	}
	if status >= 400 {
		for _, h := range t.Hops {
			if h.Step == "router_backend" && h.Status == "error" {
				return "http_error", fmt.Sprintf("the backend answered %d: %s", status, h.Summary)
			}
		}
		return "http_error", fmt.Sprintf("the client got %d", status)
	}
	for _, h := range t.Hops {
		if h.Status == "no_response" {
			return "no_response", "no response: " + h.Summary
		}
	}
	if e := tr.elb; e != nil && (!e.rpt.Valid || !e.bpt.Valid || !e.rspt.Valid) {
		return "no_response", "the load balancer logged -1 processing times: no backend answered, or none could be reached"
	}
	if status > 0 {
		return "ok", fmt.Sprintf("answered %d", status)
	}
	if tr.elb != nil && tr.elb.sent.Int64 > 0 {
		return "ok", fmt.Sprintf("the load balancer sent the client %d bytes (TCP listener: no status)", tr.elb.sent.Int64)
	}
	return "unknown", "no response seen by any source"
}

func statusText(s int) string {
	if s == 0 {
		return "no status"
	}
	return fmt.Sprint(s)
}
