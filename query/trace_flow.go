package query

import (
	"fmt"
	"time"
)

// flowConn is a connection only flow logs saw: no capture holds it and no
// access-log line names it. Most of what the diagnosis lists is such: a
// health check to a NodePort nothing listens on, a SYN a security group
// refused, an internet scanner's probe. Its trace is the records of each
// ENI it crossed, and why nothing else saw it.
type flowConn struct {
	rec        Ref
	src, dst   string
	sp, dp     int
	start, end time.Time
}

// laneOf is the lane an address of a flow-only connection belongs on.
func (tr *tracer) laneOf(ip string) string {
	switch tr.eps[ip].kind {
	case "elb":
		return "lb"
	case "node", "eni-public":
		return "node"
	case "router":
		return "router"
	case "pod":
		return "backend"
	}
	return "client" // not ours: the internet, or another VPC
}

// laneOrder places lanes left to right, as the path runs.
var laneOrder = map[string]int{"client": 0, "lb": 1, "node": 2, "router": 3, "backend": 4}

// buildFlowOnly draws a connection only flow logs saw: its records on each
// ENI, who started it, and a missing hop for each source that would have
// seen it had it gone further, with why.
func (tr *tracer) buildFlowOnly() error {
	fc, t := tr.flowOnly, tr.t
	// Both directions of the tuple, a few windows either side.
	fs, err := tr.flows(`protocol = 6 AND ((srcaddr = ? AND srcport = ? AND dstaddr = ? AND dstport = ?) OR (srcaddr = ? AND srcport = ? AND dstaddr = ? AND dstport = ?))
		AND start_time <= ? AND end_time >= ?`, fc.src, fc.sp, fc.dst, fc.dp, fc.dst, fc.dp, fc.src, fc.sp,
		fc.end.Add(flowBefore), fc.start.Add(-flowAfter))
	if err != nil {
		return err
	}
	// Who opened it: the side whose records carry a SYN without ACK (v5
	// tcp-flags); else the load balancer towards a node, or an outside
	// address towards ours; else the record's source.
	ini, iport, resp, rport := fc.src, fc.sp, fc.dst, fc.dp
	flip := func() { ini, iport, resp, rport = resp, rport, ini, iport }
	bySYN := false
	for _, f := range fs {
		if f.flags.Valid && f.flags.Int64&2 != 0 && f.flags.Int64&16 == 0 {
			if f.src != ini || f.srcPort != iport {
				flip()
			}
			bySYN = true
			break
		}
	}
	if !bySYN && laneOrder[tr.laneOf(resp)] < laneOrder[tr.laneOf(ini)] {
		flip()
	}
	from, to := tr.laneOf(ini), tr.laneOf(resp)
	if from == to { // two nodes, or two outside addresses: keep them apart
		to = map[string]string{"client": "lb", "lb": "node", "node": "router", "router": "backend", "backend": "backend"}[from]
		if from == "backend" {
			from = "router"
		}
	}
	step := from + "_" + to

	lanes := []Lane{
		{ID: "client", Label: "client"}, {ID: "lb", Label: "load balancer"}, {ID: "node", Label: "node"},
		{ID: "router", Label: "router pod"}, {ID: "backend", Label: "backend pod"},
	}
	for i := range lanes {
		for _, side := range []struct {
			lane, ip string
			port     int
		}{{from, ini, iport}, {to, resp, rport}} {
			if lanes[i].ID != side.lane {
				continue
			}
			lanes[i].Addr = hostPort(side.ip, side.port)
			if ep, ok := tr.eps[side.ip]; ok {
				lanes[i].Label, lanes[i].ENI = ep.name, ep.eni
			}
			if lanes[i].ENI == "" {
				if eni, err := tr.eniOf(side.ip); err == nil {
					lanes[i].ENI = eni
				}
			}
		}
	}
	t.Lanes = lanes
	if from == "client" {
		t.Request.Client = hostPort(ini, iport)
	}

	// One hop per ENI that logged it; an ACCEPT nothing answered is a
	// connection without a response.
	groups := tr.byENI(nearestWindows(fs, fc.start))
	for _, g := range groups {
		// Not "own": no packet dates the connection, so the records say
		// nothing of a source's skew.
		h := tr.flowHop(step, from, to, g, fc.start, false)
		if h.Status == "ok" {
			back := false
			for _, f := range g {
				if f.src == resp && f.srcPort == rport {
					back = true
				}
			}
			if !back {
				h.Status = "no_response"
				h.Summary += fmt.Sprintf(" — nothing came back from %s on this interface", hostPort(resp, rport))
			}
		}
		t.Hops = append(t.Hops, h)
	}
	// The ENIs on the path that logged nothing of it.
	seen := map[string]bool{}
	for _, g := range groups {
		seen[g[0].eni] = true
	}
	for _, l := range lanes {
		if (l.ID == from || l.ID == to) && l.ENI != "" && !seen[l.ENI] {
			reason, err := tr.flowMissing(l.ENI, fc.start)
			if err != nil {
				return err
			}
			t.Hops = append(t.Hops, Hop{Step: step, From: from, To: to, Source: "flow_log", Status: "missing", ENI: l.ENI, Reason: reason, Evidence: []EvRef{}})
		}
	}

	// What the other sources would have shown.
	refused := "the connection was refused or never answered"
	for _, h := range t.Hops {
		if h.Status == "rejected" {
			refused = "the connection was refused at " + h.ENI
			break
		}
	}
	if from == "lb" || to == "lb" {
		reason, err := tr.elbMissing(fc.start)
		if err != nil {
			return err
		}
		if from == "lb" {
			reason += "; the load balancer opened this connection itself"
		}
		t.Hops = append(t.Hops, Hop{Step: "client_lb", From: "client", To: "lb", Source: "elb_log", Status: "missing", Evidence: []EvRef{}, Reason: reason})
	}
	for _, side := range []struct{ ip, lane string }{{resp, to}, {ini, from}} {
		if side.lane != "node" {
			continue
		}
		name := tr.eps[side.ip].name
		reason, err := tr.captureMissing(side.ip, name, fc.start)
		if err != nil {
			return err
		}
		t.Hops = append(t.Hops, Hop{Step: step, From: from, To: to, Source: "capture", Status: "missing", Evidence: []EvRef{}, Reason: reason})
		break
	}
	for _, next := range []struct{ step, from, to string }{{"lb_node", "lb", "node"}, {"node_router", "node", "router"}, {"router_backend", "router", "backend"}} {
		if laneOrder[next.from] >= laneOrder[to] {
			t.Hops = append(t.Hops, Hop{Step: next.step, From: next.from, To: next.to, Source: "capture", Status: "missing", Evidence: []EvRef{},
				Reason: refused + ": no request went further"})
		}
	}
	return nil
}
