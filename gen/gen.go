// Package gen writes a realistic evidence bundle of an OpenShift-on-AWS
// ingress incident, with a truth.json that says what really happened.
//
// It models the default OpenShift ingress on AWS: a Classic ELB with TCP
// listeners and PROXY protocol v1 in front of NodePorts on the workers;
// kube-proxy DNATs the NodePort to the router-default pod on the nodes that
// run one; the router (HAProxy) proxies to the backend pods, keeping the
// client's request-id header and adding X-Forwarded-For. A JMeter-like load
// sends requests with random request-id values. Faults are injected on
// request: internet scanners, a security group missing a NodePort, a network
// ACL blocking replies to ephemeral ports, a NodePort nothing answers on, a
// deny-all NetworkPolicy (OpFlex drops), backend errors and slow responses.
//
// Everything is derived from the seed: the same options give the same bytes.
// Packets are produced in time order through a heap and written as they
// fall due, so memory stays bounded however large the output.
//
// Simplifications, stated: the router-to-backend connection is captured on
// the router pod's veth only (a real -i any capture also shows it on the
// backend's veth or inside VXLAN); client-to-ELB traffic appears only in
// flow logs (the ELB's own hosts are not captured).
package gen

import (
	"bufio"
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Options shape the incident.
type Options struct {
	Out         string
	Seed        uint64
	Requests    int
	Duration    time.Duration
	Start       time.Time
	Aggregation time.Duration // flow log aggregation interval: 60s or 600s
	Rotate      time.Duration // tcpdump -G

	Scanners     int     // internet sources probing the workers' ENIs
	SGBlock      int     // HTTPS connections whose NodePort the worker security group does not allow
	NACLReturn   int     // clients whose replies the public subnets' NACL blocks
	NotListening bool    // ELB health checks to a NodePort on a node without a router (no answer)
	NetPolDrops  int     // requests to the backend a deny-all NetworkPolicy selects
	ErrorRate    float64 // requests the backend answers with 5xx
	SlowRate     float64 // requests the backend answers after 1-4 s
	Loss         float64 // requests whose data segment is retransmitted
	PortReuse    float64 // ELB connections that reuse an ephemeral port of an earlier one
	SkewELB      time.Duration
	SkewFlow     time.Duration
	SkewNode     time.Duration // clock of the second router node's capture
	FlowDelay    time.Duration // flow-log records' start and end trail their packets by up to this (AWS: up to 60 s)
	// LB is the load balancer in front of the routers: classic (TCP
	// listener, PROXY protocol v1: OpenShift's default), alb (HTTP
	// listener: X-Forwarded-For and X-Amzn-Trace-Id) or nlb (TCP listener
	// preserving the client's address; no access log).
	LB         string
	V5         bool  // also write a custom version-5 flow log on the workers
	ScaleBytes int64 // when set, requests are chosen to write about this many pcap bytes
	// CaptureSpan, when set, stops the captures this long after Start, as
	// a tcpdump run for part of the incident: the logs cover the whole
	// window. truth.json's requests still describe every leg.
	CaptureSpan time.Duration

	// Progress, if set, is told how many pcap bytes are written so far.
	Progress func(bytes int64)
}

// Defaults are the demo scenario: every fault visible, small enough to
// import in seconds.
func Defaults() Options {
	return Options{
		Seed: 1, Requests: 3000, Duration: 20 * time.Minute,
		Start:       time.Date(2021, 4, 5, 6, 30, 0, 0, time.UTC),
		Aggregation: time.Minute, Rotate: 10 * time.Minute,
		Scanners: 12, SGBlock: 6, NACLReturn: 4, NotListening: true, NetPolDrops: 8,
		ErrorRate: 0.02, SlowRate: 0.01, Loss: 0.01, PortReuse: 0.01,
		SkewELB: 0, SkewFlow: 0, SkewNode: 0, V5: true,
	}
}

// bytesPerRequest is what one request adds to the captures, measured on
// the default scenario; --scale divides by it.
const bytesPerRequest = 8300

type generator struct {
	o       Options
	w       *world
	heap    frameHeap
	order   uint64
	pcaps   map[*node]*pcapWriter
	flows   *flowAgg
	fwV2    *flowWriter
	fwV5    *flowWriter
	elb     *elbWriter
	opflex  *opflexWriter
	streams int
	truth   *Truth

	// per capture file truth counters
	fileStreams map[string]map[int]bool
	fileHTTP    map[string]int
	fileProxy   map[string][]string
	fileNode    map[string]*node

	// ELB ephemeral ports: next port per ELB node, recently closed ones per (ELB, node)
	elbPort map[int]uint16
	closed  map[string][]closedPort
	pcapOut int64

	lastProgress time.Time
	reqOut       *json.Encoder // requests go here when there are too many for truth.json
	reqFile      *os.File
	reqBuf       *bufio.Writer
}

// requestsInline is how many requests truth.json holds itself.
const requestsInline = 50000

func (g *generator) addRequest(r TruthRequest) error {
	g.truth.RequestCount++
	if g.reqOut == nil {
		g.truth.Requests = append(g.truth.Requests, r)
		return nil
	}
	return g.reqOut.Encode(r)
}

type closedPort struct {
	port uint16
	at   time.Time
}

// Generate writes the bundle into o.Out and returns its truth.
func Generate(ctx context.Context, o Options) (*Truth, error) {
	if o.ScaleBytes > 0 {
		o.Requests = int(o.ScaleBytes / bytesPerRequest)
		if o.Duration < time.Duration(o.Requests/200)*time.Second {
			o.Duration = time.Duration(o.Requests/200) * time.Second
		}
	}
	if o.Requests < 0 || o.Duration <= 0 || o.Aggregation < time.Second || o.Rotate <= 0 {
		return nil, fmt.Errorf("gen: requests, duration, aggregation and rotation must be positive")
	}
	switch o.LB {
	case "":
		o.LB = "classic"
	case "classic", "alb", "nlb":
	default:
		return nil, fmt.Errorf("gen: load balancer %q: want classic, alb or nlb", o.LB)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	w := newWorld(o.Seed)
	w.setLB(o.LB)
	g := &generator{o: o, w: w, pcaps: map[*node]*pcapWriter{},
		fileStreams: map[string]map[int]bool{}, fileHTTP: map[string]int{}, fileProxy: map[string][]string{}, fileNode: map[string]*node{},
		elbPort: map[int]uint16{0: uint16(30000 + w.rng.IntN(2000)), 1: uint16(30000 + w.rng.IntN(2000))}, closed: map[string][]closedPort{}}
	g.truth = &Truth{Seed: o.Seed, Start: o.Start.UTC(), End: o.Start.Add(o.Duration).UTC(), AggregationS: int(o.Aggregation / time.Second),
		LB: o.LB, Skew: TruthSkew{ELB: o.SkewELB.String(), FlowLogs: o.SkewFlow.String(), Node2: o.SkewNode.String(), FlowDelay: durOrEmpty(o.FlowDelay)}}
	for _, n := range w.nodes {
		if n.Link != 0 {
			g.pcaps[n] = newPcapWriter(filepath.Join(o.Out, "pcap", n.Name), n.Link, o.Rotate)
			if err := g.pcaps[n].start(o.Start.Add(g.nodeSkew(n))); err != nil {
				return nil, err
			}
		}
	}
	flowRoot := filepath.Join(o.Out, "flowlogs")
	g.fwV2 = &flowWriter{g: g, root: flowRoot, id: w.flowLog, fields: v2Fields, skew: o.SkewFlow, maxDelay: o.FlowDelay, slot: 5 * time.Minute}
	outs := []*flowWriter{g.fwV2}
	if o.V5 {
		only := map[*eni]bool{}
		for _, n := range w.workers {
			only[n.ENI] = true
		}
		g.fwV5 = &flowWriter{g: g, root: flowRoot, id: w.flowLog5, fields: v5Fields, skew: o.SkewFlow, maxDelay: o.FlowDelay, slot: 5 * time.Minute, only: only}
		outs = append(outs, g.fwV5)
	}
	g.flows = newFlowAgg(o.Aggregation, outs...)
	g.elb = &elbWriter{g: g, root: filepath.Join(o.Out, "elb"), skew: o.SkewELB}
	var err error
	if o.Requests > requestsInline {
		g.truth.RequestsFile = "truth-requests.jsonl"
		g.reqFile, err = os.Create(filepath.Join(o.Out, g.truth.RequestsFile))
		if err != nil {
			return nil, err
		}
		g.reqBuf = bufio.NewWriterSize(g.reqFile, 1<<20)
		g.reqOut = json.NewEncoder(g.reqBuf)
	}
	g.opflex, err = newOpflexWriter(filepath.Join(o.Out, "opflex", "opflex-agent.log"))
	if err != nil {
		return nil, err
	}

	jobs := g.plan()
	// Windows and log intervals close on boundaries; check them only when
	// time crosses one, not on every job.
	var nextFlush time.Time
	for i, j := range jobs {
		if i&0xff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if err := g.flushFrames(j.t); err != nil {
			return nil, err
		}
		if !j.t.Before(nextFlush) {
			if err := g.flows.flushBefore(j.t.Add(-time.Minute)); err != nil {
				return nil, err
			}
			if err := g.elb.flushBefore(j.t.Add(-time.Minute)); err != nil {
				return nil, err
			}
			nextFlush = j.t.Truncate(10 * time.Second).Add(10 * time.Second)
		}
		j.run(g)
	}
	far := o.Start.Add(o.Duration + 24*time.Hour)
	if err := g.flushFrames(far); err != nil {
		return nil, err
	}
	if err := g.flows.flushBefore(far); err != nil {
		return nil, err
	}
	if err := g.elb.flushBefore(far); err != nil {
		return nil, err
	}
	for _, fw := range outs {
		if err := fw.close(); err != nil {
			return nil, err
		}
	}
	for _, p := range g.pcaps {
		if err := p.close(); err != nil {
			return nil, err
		}
	}
	if err := g.opflex.close(); err != nil {
		return nil, err
	}
	if g.reqFile != nil {
		if err := g.reqBuf.Flush(); err != nil {
			return nil, err
		}
		if err := g.reqFile.Close(); err != nil {
			return nil, err
		}
	}
	snaps, err := g.writeSnapshots()
	if err != nil {
		return nil, err
	}
	g.finishTruth(snaps)
	return g.truth, writeJSON(filepath.Join(o.Out, "truth.json"), g.truth)
}

func durOrEmpty(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func (g *generator) nodeSkew(n *node) time.Duration {
	if n.Link == linkSLL2 {
		return g.o.SkewNode
	}
	return 0
}

// emit queues a frame for a node's capture.
func (g *generator) emit(n *node, f *frame, stream int, meta *frameMeta) {
	g.order++
	f.ts = f.ts.Add(g.nodeSkew(n))
	heap.Push(&g.heap, &pending{f: f, n: n, stream: stream, meta: meta, order: g.order})
}

// flushFrames writes every queued frame due before t.
func (g *generator) flushFrames(t time.Time) error {
	for g.heap.Len() > 0 && g.heap[0].f.ts.Before(t) {
		p := heap.Pop(&g.heap).(*pending)
		if g.o.CaptureSpan > 0 && p.f.ts.After(g.o.Start.Add(g.o.CaptureSpan)) {
			continue // tcpdump was stopped
		}
		pw := g.pcaps[p.n]
		if err := pw.write(p.f); err != nil {
			return err
		}
		file := pw.files[len(pw.files)-1]
		g.fileNode[file] = p.n
		if g.fileStreams[file] == nil {
			g.fileStreams[file] = map[int]bool{}
		}
		g.fileStreams[file][p.stream] = true
		if p.meta != nil {
			if p.meta.requestID != "" {
				g.fileHTTP[file]++
			}
			if p.meta.proxySrc != "" {
				g.fileProxy[file] = append(g.fileProxy[file], p.meta.proxySrc)
			}
		}
		g.pcapOut += int64(16 + len(pw.buf))
		if g.o.Progress != nil && time.Since(g.lastProgress) > 200*time.Millisecond {
			g.lastProgress = time.Now()
			g.o.Progress(g.pcapOut)
		}
	}
	return nil
}

// job is something that happens at time t.
type job struct {
	t   time.Time
	run func(*generator)
	ord int
}

// plan lays out every request and fault in time order.
func (g *generator) plan() []*job {
	o, r := g.o, g.w.rng
	var jobs []*job
	add := func(t time.Time, f func(*generator)) {
		jobs = append(jobs, &job{t: t, run: f, ord: len(jobs)})
	}
	// Requests arrive as a Poisson process over the duration.
	n := o.Requests
	mean := float64(o.Duration) / float64(max(n, 1))
	t := o.Start.Add(2 * time.Second)
	end := o.Start.Add(o.Duration)
	kinds := make([]string, n)
	for i := range kinds {
		switch x := r.Float64(); {
		case x < o.ErrorRate:
			kinds[i] = "backend_5xx"
		case x < o.ErrorRate+o.SlowRate:
			kinds[i] = "slow"
		case x < o.ErrorRate+o.SlowRate+o.Loss:
			kinds[i] = "loss"
		case x < o.ErrorRate+o.SlowRate+o.Loss+o.PortReuse:
			kinds[i] = "port_reuse"
		}
	}
	for i := 0; i < o.NetPolDrops && n > 0; i++ {
		kinds[r.IntN(n)] = "networkpolicy_drop"
	}
	for i := 0; i < n; i++ {
		gap := time.Duration(-math.Log(1-r.Float64()) * mean)
		t = t.Add(gap)
		if !t.Before(end.Add(-10 * time.Second)) {
			t = end.Add(-10*time.Second - time.Duration(n-i)*time.Millisecond)
		}
		i, at, kind := i, t, kinds[i]
		add(at, func(g *generator) { g.request(i, at, kind) })
	}
	span := func() time.Time {
		return o.Start.Add(time.Duration(r.Int64N(int64(o.Duration - 20*time.Second))))
	}
	for i := 0; i < o.Scanners; i++ {
		at := span()
		src := scannerAddr(r)
		add(at, func(g *generator) { g.scanner(at, src) })
	}
	for i := 0; i < o.SGBlock; i++ {
		at := span()
		add(at, func(g *generator) { g.sgBlock(at) })
	}
	for i := 0; i < o.NACLReturn; i++ {
		at := span()
		add(at, func(g *generator) { g.naclReturn(at) })
	}
	if o.NotListening {
		for at := o.Start.Add(5 * time.Second); at.Before(end.Add(-10 * time.Second)); at = at.Add(10 * time.Second) {
			for k := range g.w.elbENIs {
				at, k := at.Add(time.Duration(k)*1300*time.Millisecond), k
				add(at, func(g *generator) { g.notListening(at, k) })
			}
		}
	}
	for at := o.Start.Add(7 * time.Second); at.Before(end); at = at.Add(time.Duration(20+r.IntN(40)) * time.Second) {
		at := at
		add(at, func(g *generator) {
			g.opflex.chatter(at, "Processed policy update for EPG uni/tn-ocp4/ap-aci-containers-ocp4/epg-aci-containers-default")
		})
	}
	sort.SliceStable(jobs, func(i, j int) bool {
		if !jobs[i].t.Equal(jobs[j].t) {
			return jobs[i].t.Before(jobs[j].t)
		}
		return jobs[i].ord < jobs[j].ord
	})
	return jobs
}

var clientNets = []netip.Prefix{
	netip.MustParsePrefix("217.178.150.0/24"), netip.MustParsePrefix("126.33.0.0/16"),
	netip.MustParsePrefix("60.112.0.0/16"), netip.MustParsePrefix("114.160.0.0/16"),
	netip.MustParsePrefix("203.0.113.0/24"),
}

var scannerNets = []netip.Prefix{
	netip.MustParsePrefix("94.102.61.0/24"), netip.MustParsePrefix("45.155.205.0/24"),
	netip.MustParsePrefix("185.156.73.0/24"), netip.MustParsePrefix("162.142.125.0/24"),
}

// blockedNet is the range the public subnets' NACL refuses to answer.
var blockedNet = netip.MustParsePrefix("198.51.100.0/24")

func randIn(r interface{ IntN(int) int }, p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	host := 32 - p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(1 + r.IntN((1<<host)-2))
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func scannerAddr(r interface{ IntN(int) int }) netip.Addr {
	return randIn(r, scannerNets[r.IntN(len(scannerNets))])
}

func (g *generator) clientAddr() netip.AddrPort {
	r := g.w.rng
	return netip.AddrPortFrom(randIn(r, clientNets[r.IntN(len(clientNets))]), uint16(32768+r.IntN(28232)))
}

// elbSource picks the ELB node's next ephemeral port towards n; with reuse,
// a port an earlier, closed connection to the same node used.
func (g *generator) elbSource(k int, n *node, t time.Time, reuse bool) (netip.AddrPort, bool) {
	key := fmt.Sprintf("%d>%s", k, n.IP)
	if reuse {
		for i, c := range g.closed[key] {
			if t.Sub(c.at) > 2*time.Second {
				g.closed[key] = append(g.closed[key][:i], g.closed[key][i+1:]...)
				return netip.AddrPortFrom(g.w.elbENIs[k].IP, c.port), true
			}
		}
	}
	p := g.elbPort[k]
	g.elbPort[k] = p + 2
	if g.elbPort[k] > 60000 {
		g.elbPort[k] = 1024 + uint16(g.w.rng.IntN(1000))
	}
	return netip.AddrPortFrom(g.w.elbENIs[k].IP, p), false
}

func (g *generator) rememberClosed(k int, n *node, port uint16, t time.Time) {
	key := fmt.Sprintf("%d>%s", k, n.IP)
	if len(g.closed[key]) < 64 {
		g.closed[key] = append(g.closed[key], closedPort{port, t})
	}
}

func (g *generator) finishTruth(snaps []string) {
	w, tr := g.w, g.truth
	tr.Topology = TruthTopology{
		Account: account, Region: region, VPC: w.vpc, ELB: w.elbName,
		NodePorts: map[string]int{"http": httpNode, "https": httpsNode},
		Addresses: map[string]string{}, ENIs: map[string]string{},
		SecurityGroups: map[string]string{w.sgELB: "elb", w.sgWorker: "worker", w.sgMaster: "master"},
		NetworkACLs:    map[string]string{w.aclPub: "public subnets", w.aclPriv: "private subnets"},
	}
	for _, e := range w.elbENIs {
		tr.Topology.Addresses[e.IP.String()] = "elb " + e.ID
		tr.Topology.Addresses[e.PublicIP.String()] = "elb-public " + e.ID
		tr.Topology.ENIs[e.ID] = e.IP.String()
	}
	for _, n := range w.nodes {
		tr.Topology.Addresses[n.IP.String()] = "node " + n.Name
		tr.Topology.ENIs[n.ENI.ID] = n.IP.String()
	}
	for _, p := range w.pods {
		if p.HostNetwork {
			continue
		}
		kind := "pod "
		if p.Namespace == "openshift-ingress" {
			kind = "router "
		}
		tr.Topology.Addresses[p.IP.String()] = kind + p.Namespace + "/" + p.Name
	}
	var files []string
	for f := range g.fileStreams {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		n := g.fileNode[f]
		rel, _ := filepath.Rel(g.o.Out, f)
		lt := "LINUX_SLL"
		if n.Link == linkSLL2 {
			lt = "LINUX_SLL2"
		}
		proxies := g.fileProxy[f]
		if proxies == nil {
			proxies = []string{}
		}
		tr.Captures = append(tr.Captures, TruthCapture{File: filepath.ToSlash(rel), Node: n.Name, LinkType: lt,
			Packets: g.pcaps[n].packets[f], TCPConversations: len(g.fileStreams[f]), HTTPRequestsWithID: g.fileHTTP[f], ProxyV1Sources: proxies})
	}
	rels := func(paths []string) []string {
		out := []string{}
		for _, p := range paths {
			rel, _ := filepath.Rel(g.o.Out, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return out
	}
	fl := rels(g.fwV2.files)
	recs := g.fwV2.written
	if g.fwV5 != nil {
		fl = append(fl, rels(g.fwV5.files)...)
		recs += g.fwV5.written
	}
	tr.FlowLogs = TruthFiles{Files: fl, Records: recs}
	tr.ELBLogs = TruthFiles{Files: rels(g.elb.files), Records: g.elb.lines}
	tr.OpFlex = TruthFiles{Files: rels([]string{g.opflex.path}), Records: g.opflex.drops, Other: g.opflex.other}
	tr.Snapshots = rels(snaps)
	sort.SliceStable(tr.Faults, func(i, j int) bool { return tr.Faults[i].Kind < tr.Faults[j].Kind })
	if tr.Requests == nil {
		tr.Requests = []TruthRequest{}
	}
}
