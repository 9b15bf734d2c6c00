package query

// The request-path trace: one request's path client → load balancer → node
// (NodePort) → router pod → backend pod, joined across every kind of
// evidence the case holds, the way an engineer does it by hand (seed 000):
// request-id in a capture → its TCP stream → the PROXY header in that
// stream → the ELB log line of that client ip:port → the flow-log records of
// the stream's 4-tuple on each ENI.
//
// Exact keys join where the evidence has them (request-id, the PROXY
// header's client ip:port, the initial sequence number across kube-proxy's
// DNAT); the rest is a tuple within a tolerant time window, the candidate
// nearest in time winning, because clocks differ between sources, flow-log
// records are aggregated over 1 or 10 minutes and trail the packets, and
// the load balancer reuses its ephemeral ports within minutes.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tolerances of the time-window joins.
const (
	// An ELB log line is written when the request (HTTP) or the connection
	// (TCP listener) ends, and its clock is not the capture's.
	elbWindow = 5 * time.Minute
	// A flow-log record covers a 1- or 10-minute window that may start
	// late and end well after the packets (seed 000: 48 s after).
	flowBefore = 2 * time.Minute
	flowAfter  = 12 * time.Minute
	// The router forwards a request within its connect and queue timeouts.
	backendWindow = 10 * time.Second
)

// TraceKey says which request to trace: exactly one of its selectors.
type TraceKey struct {
	RequestID    string
	Client       string    // ip:port as the load balancer saw it
	ELBLine      *Ref      // an access-log line
	Conversation *Ref      // a capture's TCP stream (N = tcp.stream)
	Flow         *Ref      // a flow-log record (N = line)
	At           time.Time // when several requests match: the nearest to this
}

// Ref points into an evidence file: a line, a frame or a stream.
type Ref struct {
	Evidence int   `json:"evidence_id"`
	N        int64 `json:"n"`
}

// ParseRef reads "EVIDENCE:N".
func ParseRef(s string) (*Ref, error) {
	e, n, ok := strings.Cut(s, ":")
	ev, err1 := strconv.Atoi(e)
	v, err2 := strconv.ParseInt(n, 10, 64)
	if !ok || err1 != nil || err2 != nil || ev <= 0 || v < 0 {
		return nil, fmt.Errorf("%q: want EVIDENCE:N, e.g. 3:120", s)
	}
	return &Ref{Evidence: ev, N: v}, nil
}

func (k TraceKey) String() string {
	switch {
	case k.RequestID != "":
		return "request-id " + k.RequestID
	case k.Client != "":
		return "client " + k.Client
	case k.ELBLine != nil:
		return fmt.Sprintf("ELB log line %d:%d", k.ELBLine.Evidence, k.ELBLine.N)
	case k.Conversation != nil:
		return fmt.Sprintf("capture stream %d:%d", k.Conversation.Evidence, k.Conversation.N)
	case k.Flow != nil:
		return fmt.Sprintf("flow-log record %d:%d", k.Flow.Evidence, k.Flow.N)
	}
	return "nothing"
}

// Trace is one request's path. It is what `l4case trace -o json` prints
// and what the GUI's timeline draws; its fields are documented in the
// README.
type Trace struct {
	Query     string       `json:"query"`
	Request   TraceRequest `json:"request"`
	Outcome   string       `json:"outcome"` // ok, http_error, dropped, rejected, reset, no_response, unknown
	Why       string       `json:"why"`     // the outcome in one sentence
	Complete  bool         `json:"complete"`
	Found     int          `json:"hops_found"`
	Expected  int          `json:"hops_expected"`
	Start     time.Time    `json:"start"` // the first hop's time: offsets count from it
	Lanes     []Lane       `json:"lanes"`
	Hops      []Hop        `json:"hops"`
	Skew      []Skew       `json:"skew"`
	Ambiguous []string     `json:"ambiguous"` // where another candidate was close
}

// TraceRequest is what is known of the request itself.
type TraceRequest struct {
	RequestID string `json:"request_id,omitempty"`
	TraceID   string `json:"trace_id,omitempty"` // X-Amzn-Trace-Id
	Method    string `json:"method,omitempty"`
	URI       string `json:"uri,omitempty"`
	Host      string `json:"host,omitempty"`
	Client    string `json:"client,omitempty"` // ip:port at the load balancer
	Status    int    `json:"status,omitempty"` // the response the client got, when known
}

// Lane is one party of the path: client, lb, node, router, backend.
type Lane struct {
	ID    string `json:"id"`
	Label string `json:"label"` // name from endpoints (ELB name, node, namespace/pod)
	Addr  string `json:"addr"`  // ip:port on this path
	ENI   string `json:"eni,omitempty"`
}

// Hop is one leg of the path as one source saw it, or a leg no source saw.
type Hop struct {
	Step       string     `json:"step"` // client_lb, lb_node, node_router, router_backend, drop
	From       string     `json:"from"` // lane id
	To         string     `json:"to"`   // lane id
	Source     string     `json:"source"`
	Status     string     `json:"status"` // ok, rejected, reset, dropped, error, no_response, missing
	Start      *time.Time `json:"start,omitempty"`
	End        *time.Time `json:"end,omitempty"`
	OffsetMS   float64    `json:"offset_ms"`   // Start after the trace's Start
	DurationMS float64    `json:"duration_ms"` // End - Start
	Summary    string     `json:"summary"`
	Match      string     `json:"match,omitempty"` // exact key, tuple + time window, heuristic
	Confidence float64    `json:"confidence"`
	ENI        string     `json:"eni,omitempty"`
	Evidence   []EvRef    `json:"evidence"`
	Packets    *Ref       `json:"conversation,omitempty"` // the capture stream, for its packet ladder
	Reason     string     `json:"reason,omitempty"`       // why a hop is missing
}

// EvRef names a record in an evidence file well enough to open it in
// Wireshark or an editor.
type EvRef struct {
	Evidence int    `json:"evidence_id"`
	File     string `json:"file"`
	Unit     string `json:"unit"` // line, frame
	N        int64  `json:"n"`
	Label    string `json:"label,omitempty"` // what is there: SYN, PROXY, request, ...
}

func (r EvRef) String() string {
	s := fmt.Sprintf("%s %s %d", r.File, r.Unit, r.N)
	if r.Label != "" {
		s += " (" + r.Label + ")"
	}
	return s
}

// Skew is how far a source's clock or windows sat from the reference (the
// capture of the node that received the request).
type Skew struct {
	Source   string  `json:"source"`
	OffsetMS float64 `json:"offset_ms"`
	Note     string  `json:"note"`
}

// ErrNotTraced is returned when nothing in the case matches the key.
var ErrNotTraced = errors.New("nothing in the case matches")

// tracer holds one trace's lookups.
type tracer struct {
	ctx context.Context
	db  *sql.DB
	*TraceCache
	t     *Trace
	conn  struct{ front, dnat, back *convRow }
	elb   *elbRow
	proxy *proxyRow
	// How the router's leg was matched when not by request-id: the rule
	// and how many candidates it had (0: by request-id).
	backMatch     string
	backHeuristic int
	frontReqAt    time.Time  // when the request reached the node
	elbByTrace    bool       // the ELB line was joined by X-Amzn-Trace-Id
	passThrough   bool       // the node saw the client's own connection (NLB)
	sameTuple     []*convRow // captured connections of the front's 4-tuple (port reuse)
	flowOnly      *flowConn  // a connection only flow logs saw (see trace_flow.go)

	// Rows already read, by stream: a trace looks at the same few streams
	// from several sides.
	convMemo  map[Ref]*convRow
	msgMemo   map[Ref][]*httpRow
	proxyMemo map[Ref]*proxyRow
	contMemo  map[Ref]*convRow
}

// TraceCache is what every trace of a case reads whole: the evidence files
// and the endpoints. It stays valid until the case changes (an import).
type TraceCache struct {
	files map[int]evInfo
	eps   map[string]endpoint
	mu    sync.Mutex
	enis  map[string]string // ip -> ENI, filled as traces ask
}

type evInfo struct {
	name, kind, node string
	first, last      sql.NullTime
}

type endpoint struct{ kind, name, eni string }

// TraceRequestPath traces one request. cache may be nil, or one
// LoadTraceCache made for the case as it is now.
func TraceRequestPath(ctx context.Context, db *sql.DB, cache *TraceCache, key TraceKey) (*Trace, error) {
	if cache == nil {
		var err error
		if cache, err = LoadTraceCache(ctx, db); err != nil {
			return nil, err
		}
	}
	tr := &tracer{ctx: ctx, db: db, TraceCache: cache,
		convMemo: map[Ref]*convRow{}, msgMemo: map[Ref][]*httpRow{}, proxyMemo: map[Ref]*proxyRow{}, contMemo: map[Ref]*convRow{},
		t: &Trace{Query: key.String(), Lanes: []Lane{}, Hops: []Hop{}, Skew: []Skew{}, Ambiguous: []string{}}}
	if err := tr.resolve(key); err != nil {
		return nil, err
	}
	if err := tr.expand(); err != nil {
		return nil, err
	}
	tr.finish()
	return tr.t, nil
}

// LoadTraceCache reads the evidence files and endpoints of a case.
func LoadTraceCache(ctx context.Context, db *sql.DB) (*TraceCache, error) {
	c := &TraceCache{files: map[int]evInfo{}, eps: map[string]endpoint{}, enis: map[string]string{}}
	rows, err := db.QueryContext(ctx, `SELECT evidence_id, name, kind, coalesce(node, ''), first_time, last_time FROM evidence`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int
		var e evInfo
		if err := rows.Scan(&id, &e.name, &e.kind, &e.node, &e.first, &e.last); err != nil {
			return nil, err
		}
		c.files[id] = e
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	er, err := db.QueryContext(ctx, `SELECT ip, kind, name, coalesce(eni, '') FROM endpoints`)
	if err != nil {
		return nil, err
	}
	defer er.Close()
	for er.Next() {
		var ip string
		var e endpoint
		if err := er.Scan(&ip, &e.kind, &e.name, &e.eni); err != nil {
			return nil, err
		}
		c.eps[ip] = e
	}
	return c, er.Err()
}

// convRow is a tcp_conversations row.
type convRow struct {
	ev                    int
	conv                  int64
	node                  string
	aAddr, bAddr          string
	aPort, bPort          int
	first, last           time.Time
	firstFrame, lastFrame int64
	syn, synack, ack      sql.NullTime
	rtt                   sql.NullFloat64
	isn                   sql.NullInt64
	pktAB, pktBA          int64
	bytesAB, bytesBA      int64
	retrans, resets       int64
	endReason             string
}

const convCols = `evidence_id, conv_id, coalesce(node, ''), coalesce(a_addr, ''), coalesce(a_port, 0), coalesce(b_addr, ''), coalesce(b_port, 0), first_time, last_time,
	coalesce(first_frame, 0), coalesce(last_frame, 0), syn_time, synack_time, ack_time, handshake_rtt_ms, isn_a,
	coalesce(packets_ab, 0), coalesce(bytes_ab, 0), coalesce(packets_ba, 0), coalesce(bytes_ba, 0), coalesce(retransmissions, 0), coalesce(resets, 0), coalesce(end_reason, '')`

func (tr *tracer) convs(where string, args ...any) ([]*convRow, error) {
	return scanRows(tr, `SELECT `+convCols+` FROM tcp_conversations WHERE `+where+` ORDER BY first_time, evidence_id, conv_id`, args,
		func(c *convRow) []any {
			return []any{&c.ev, &c.conv, &c.node, &c.aAddr, &c.aPort, &c.bAddr, &c.bPort, &c.first, &c.last,
				&c.firstFrame, &c.lastFrame, &c.syn, &c.synack, &c.ack, &c.rtt, &c.isn,
				&c.pktAB, &c.bytesAB, &c.pktBA, &c.bytesBA, &c.retrans, &c.resets, &c.endReason}
		})
}

// httpRow is an http_messages row.
type httpRow struct {
	ev                    int
	conv                  int64
	index                 int
	request               bool
	first, last           time.Time
	firstFrame, lastFrame int64
	src, dst              string
	srcPort, dstPort      int
	method, uri, host     string
	status                int
	requestID, xff, trace string
	latency               sql.NullFloat64
	incomplete            string
}

const httpCols = `evidence_id, conv_id, coalesce(msg_index, -1), is_request, first_time, last_time, coalesce(first_frame, 0), coalesce(last_frame, 0),
	coalesce(src_addr, ''), coalesce(src_port, 0), coalesce(dst_addr, ''), coalesce(dst_port, 0), coalesce(method, ''), coalesce(uri, ''), coalesce(host, ''), coalesce(status, 0),
	coalesce(request_id, ''), coalesce(x_forwarded_for, ''), coalesce(x_amzn_trace_id, ''), latency_ms, coalesce(incomplete, '')`

func (tr *tracer) https(where string, args ...any) ([]*httpRow, error) {
	return scanRows(tr, `SELECT `+httpCols+` FROM http_messages WHERE `+where+` ORDER BY first_time, evidence_id, conv_id, msg_index, NOT is_request`, args,
		func(h *httpRow) []any {
			return []any{&h.ev, &h.conv, &h.index, &h.request, &h.first, &h.last, &h.firstFrame, &h.lastFrame,
				&h.src, &h.srcPort, &h.dst, &h.dstPort, &h.method, &h.uri, &h.host, &h.status,
				&h.requestID, &h.xff, &h.trace, &h.latency, &h.incomplete}
		})
}

// proxyRow is a proxy_headers row.
type proxyRow struct {
	ev       int
	conv     int64
	frame    int64
	time     time.Time
	version  int
	src, dst string
	sp, dp   int
}

func (tr *tracer) proxies(where string, args ...any) ([]*proxyRow, error) {
	return scanRows(tr, `SELECT evidence_id, conv_id, frame, time, version, coalesce(src_addr, ''), coalesce(src_port, 0), coalesce(dst_addr, ''), coalesce(dst_port, 0)
		FROM proxy_headers WHERE `+where+` ORDER BY time, evidence_id, conv_id`, args,
		func(p *proxyRow) []any {
			return []any{&p.ev, &p.conv, &p.frame, &p.time, &p.version, &p.src, &p.sp, &p.dst, &p.dp}
		})
}

// elbRow is an elb_logs row.
type elbRow struct {
	ev                  int
	line                int64
	lbType              string
	time                time.Time
	elb                 string
	client              string
	clientPort          int
	backend             string
	backendPort         int
	rpt, bpt, rspt      sql.NullFloat64
	elbStatus, beStatus sql.NullInt64
	recv, sent          sql.NullInt64
	request             string
	traceID             string
}

func (tr *tracer) elbs(where string, args ...any) ([]*elbRow, error) {
	return scanRows(tr, `SELECT evidence_id, line, lb_type, time, coalesce(elb, ''), coalesce(client_ip, ''), coalesce(client_port, 0),
		coalesce(backend_ip, ''), coalesce(backend_port, 0), request_processing_time, backend_processing_time, response_processing_time,
		elb_status_code, backend_status_code, received_bytes, sent_bytes, coalesce(request, ''), coalesce(trace_id, '')
		FROM elb_logs WHERE `+where+` ORDER BY time, evidence_id, line`, args,
		func(e *elbRow) []any {
			return []any{&e.ev, &e.line, &e.lbType, &e.time, &e.elb, &e.client, &e.clientPort, &e.backend, &e.backendPort,
				&e.rpt, &e.bpt, &e.rspt, &e.elbStatus, &e.beStatus, &e.recv, &e.sent, &e.request, &e.traceID}
		})
}

// flowRow is a record of the flows view.
type flowRow struct {
	ev               int
	line             int64
	eni              string
	src, dst         string
	srcPort, dstPort int
	packets, bytes   int64
	start, end       time.Time
	action           string
	flags            sql.NullInt64
}

func (tr *tracer) flows(where string, args ...any) ([]*flowRow, error) {
	return scanRows(tr, `SELECT evidence_id, line, coalesce(interface_id, ''), srcaddr, dstaddr, coalesce(srcport, 0), coalesce(dstport, 0),
		coalesce(packets, 0), coalesce(bytes, 0), start_time, coalesce(end_time, start_time), coalesce(action, ''), tcp_flags
		FROM flows WHERE `+where+` ORDER BY interface_id, start_time, evidence_id, line`, args,
		func(f *flowRow) []any {
			return []any{&f.ev, &f.line, &f.eni, &f.src, &f.dst, &f.srcPort, &f.dstPort, &f.packets, &f.bytes, &f.start, &f.end, &f.action, &f.flags}
		})
}

// scanRows runs one of the trace's lookups and scans each row into a new
// T through the pointers fields gives.
func scanRows[T any](tr *tracer, q string, args []any, fields func(*T) []any) ([]*T, error) {
	rows, err := tr.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		x := new(T)
		if err := rows.Scan(fields(x)...); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// resolve turns the key into the request's anchor: the front conversation
// (load balancer → NodePort) of a capture, or the ELB line.
func (tr *tracer) resolve(k TraceKey) error {
	switch {
	case k.RequestID != "":
		tr.t.Request.RequestID = k.RequestID
		reqs, err := tr.https(`request_id = ? AND is_request`, k.RequestID)
		if err != nil {
			return err
		}
		if len(reqs) == 0 {
			return fmt.Errorf("request-id %q: %w (no captured HTTP request carries it)", k.RequestID, ErrNotTraced)
		}
		return tr.fromRequests(reqs, k.At)
	case k.Client != "":
		ap, err := netip.ParseAddrPort(k.Client)
		if err != nil {
			return fmt.Errorf("--client %q: want IP:PORT", k.Client)
		}
		ip, port := ap.Addr().Unmap().String(), int(ap.Port())
		ps, err := tr.proxies(`src_addr = ? AND src_port = ?`, ip, port)
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			return tr.fromProxy(ps, k.At)
		}
		// The client's own connection, passed through to a node (NLB).
		cs, err := tr.convs(`a_addr = ? AND a_port = ?`, ip, port)
		if err != nil {
			return err
		}
		var fronts []*convRow
		for _, c := range cs {
			if tr.role(c) == "front" {
				fronts = append(fronts, c)
			}
		}
		if len(fronts) > 0 {
			return tr.fromConv(nearestConv(fronts, k.At))
		}
		es, err := tr.elbs(`client_ip = ? AND client_port = ?`, ip, port)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return fmt.Errorf("client %s: %w (no PROXY header, captured connection nor ELB log line names it)", k.Client, ErrNotTraced)
		}
		tr.elb = nearestELB(es, k.At, tr)
		return tr.frontFromELB()
	case k.ELBLine != nil:
		es, err := tr.elbs(`evidence_id = ? AND line = ?`, k.ELBLine.Evidence, k.ELBLine.N)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return fmt.Errorf("ELB log line %d:%d: %w", k.ELBLine.Evidence, k.ELBLine.N, ErrNotTraced)
		}
		tr.elb = es[0]
		return tr.frontFromELB()
	case k.Conversation != nil:
		c, err := tr.conv(k.Conversation.Evidence, k.Conversation.N)
		if err != nil {
			return err
		}
		if c == nil {
			return fmt.Errorf("capture stream %d:%d: %w", k.Conversation.Evidence, k.Conversation.N, ErrNotTraced)
		}
		return tr.fromConv(c)
	case k.Flow != nil:
		fs, err := tr.query(`SELECT srcaddr, coalesce(srcport, 0), dstaddr, coalesce(dstport, 0), coalesce(protocol, 0), start_time, coalesce(end_time, start_time), coalesce(interface_id, '')
			FROM flow_logs WHERE evidence_id = ? AND line = ?`, k.Flow.Evidence, k.Flow.N)
		if err != nil {
			return err
		}
		defer fs.Close()
		if !fs.Next() {
			if err := fs.Err(); err != nil {
				return err
			}
			return fmt.Errorf("flow-log record %d:%d: %w", k.Flow.Evidence, k.Flow.N, ErrNotTraced)
		}
		var src, dst, eni string
		var sp, dp, proto int
		var start, end time.Time
		if err := fs.Scan(&src, &sp, &dst, &dp, &proto, &start, &end, &eni); err != nil {
			return err
		}
		fs.Close()
		if proto != 6 {
			return fmt.Errorf("flow-log record %d:%d is protocol %d: only TCP connections carry requests", k.Flow.Evidence, k.Flow.N, proto)
		}
		// Either direction of the record; the capture's stream nearest the window.
		cs, err := tr.convs(`((a_addr = ? AND a_port = ? AND b_addr = ? AND b_port = ?) OR (a_addr = ? AND a_port = ? AND b_addr = ? AND b_port = ?))
			AND first_time <= ? AND last_time >= ?`, src, sp, dst, dp, dst, dp, src, sp, end.Add(flowBefore), start.Add(-flowAfter))
		if err != nil {
			return err
		}
		if len(cs) > 0 {
			return tr.fromFlowRecord(*k.Flow, eni, cs, k.At)
		}
		// No capture: the ELB line whose backend is this tuple's server side.
		es, err := tr.elbs(`((backend_ip = ? AND backend_port = ?) OR (backend_ip = ? AND backend_port = ?)) AND time BETWEEN ? AND ?`,
			dst, dp, src, sp, start.Add(-flowAfter), end.Add(flowBefore))
		if err != nil {
			return err
		}
		if len(es) == 0 {
			// The client's own connection to the load balancer, which its
			// access log names.
			es, err = tr.elbs(`((client_ip = ? AND client_port = ?) OR (client_ip = ? AND client_port = ?)) AND time BETWEEN ? AND ?`,
				src, sp, dst, dp, start.Add(-flowAfter), end.Add(flowBefore))
			if err != nil {
				return err
			}
			if len(es) > 0 {
				tr.elb = nearestELB(es, start, tr)
				return tr.frontFromELB()
			}
		}
		if len(es) == 0 {
			// Only flow logs saw it: a health check, a probe, a refused SYN.
			tr.flowOnly = &flowConn{rec: *k.Flow, src: src, sp: sp, dst: dst, dp: dp, start: start, end: end}
			return nil
		}
		tr.elb = nearestELB(es, start, tr)
		tr.t.Ambiguous = append(tr.t.Ambiguous, fmt.Sprintf("the record's connection has no capture: ELB line %d:%d was picked by backend and time among %d", tr.elb.ev, tr.elb.line, len(es)))
		return nil
	}
	return errors.New("trace: give a request-id, a client, an ELB line, a capture stream or a flow-log record")
}

// fromFlowRecord picks the captured connection a flow-log record belongs
// to, as the trace of that connection would claim it (see claim): with a
// reused port, the record's window may hold another connection of the same
// tuple, or several at once.
func (tr *tracer) fromFlowRecord(rec Ref, eni string, cs []*convRow, at time.Time) error {
	first, last := cs[0].first, cs[0].last
	for _, c := range cs {
		first, last = minTime(first, c.first), maxTime(last, c.last)
	}
	c0 := cs[0]
	recs, err := tr.flows(`coalesce(interface_id, '') = ? AND protocol = 6 AND ((srcaddr = ? AND srcport = ? AND dstaddr = ? AND dstport = ?) OR (srcaddr = ? AND srcport = ? AND dstaddr = ? AND dstport = ?))
		AND start_time <= ? AND end_time >= ?`, eni, c0.aAddr, c0.aPort, c0.bAddr, c0.bPort, c0.bAddr, c0.bPort, c0.aAddr, c0.aPort,
		last.Add(flowAfter), first.Add(-flowBefore))
	if err != nil {
		return err
	}
	var owners []*convRow
	for _, c := range cs {
		for _, f := range claim(recs, c, cs) {
			if f.ev == rec.Evidence && f.line == rec.N {
				owners = append(owners, c)
				break
			}
		}
	}
	if len(owners) == 0 {
		owners = cs
	}
	pick := nearestConv(owners, at)
	if len(owners) > 1 {
		tr.t.Ambiguous = append(tr.t.Ambiguous, fmt.Sprintf("flow-log record %d:%d aggregates %d connections of the same tuple; this is the one nearest %s (use --at)",
			rec.Evidence, rec.N, len(owners), atText(at)))
	}
	return tr.fromConv(pick)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// fromRequests picks among the captured requests carrying one request-id.
func (tr *tracer) fromRequests(reqs []*httpRow, at time.Time) error {
	// Group the requests by the connection leg they were seen on; the leg
	// that opened with a PROXY header (or came from the load balancer) is
	// the front.
	var fronts []*convRow
	var backs []*convRow
	if err := tr.prefetch(reqs); err != nil {
		return err
	}
	for _, r := range reqs {
		c, err := tr.conv(r.ev, r.conv)
		if err != nil {
			return err
		}
		if c == nil {
			continue
		}
		switch tr.role(c) {
		case "front":
			fronts = append(fronts, c)
		case "back":
			backs = append(backs, c)
		}
	}
	if len(fronts) == 0 {
		if len(backs) == 0 {
			return fmt.Errorf("request-id %q: %w", tr.t.Request.RequestID, ErrNotTraced)
		}
		// Only the router's leg was captured: start there.
		b := nearestConv(backs, at)
		tr.conn.back = b
		return nil
	}
	f := nearestConv(fronts, at)
	if n := otherConnections(fronts, f); n > 0 {
		tr.t.Ambiguous = append(tr.t.Ambiguous, fmt.Sprintf("request-id %s was sent on %d other connection(s) too; this is the one nearest %s (use --at)",
			tr.t.Request.RequestID, n, atText(at)))
	}
	tr.conn.front = f
	return nil
}

// otherConnections counts the connections of cs that are not pick nor a
// copy of it (the same initiator's ISN).
func otherConnections(cs []*convRow, pick *convRow) int {
	n := 0
	for _, c := range cs {
		if c != pick && c.isn != pick.isn {
			n++
		}
	}
	return n
}

func atText(at time.Time) string {
	if at.IsZero() {
		return "the first"
	}
	return at.UTC().Format(time.RFC3339Nano)
}

// role says which leg a captured conversation is: front (load balancer →
// NodePort, or its DNAT'd copy to the router pod), back (router pod →
// backend pod), or "" when it is neither.
func (tr *tracer) role(c *convRow) string {
	a, b := tr.eps[c.aAddr], tr.eps[c.bAddr]
	switch {
	case a.kind == "router":
		return "back"
	case a.kind == "elb" || b.kind == "node" || b.kind == "router":
		return "front"
	}
	// Without an inventory: a PROXY header means the front.
	if p, _ := tr.proxyOf(c); p != nil {
		return "front"
	}
	return "back"
}

func (tr *tracer) fromProxy(ps []*proxyRow, at time.Time) error {
	var cs []*convRow
	for _, p := range ps {
		c, err := tr.conv(p.ev, p.conv)
		if err != nil {
			return err
		}
		if c != nil {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return fmt.Errorf("%w: PROXY header without its conversation", ErrNotTraced)
	}
	tr.conn.front = nearestConv(cs, at)
	return nil
}

func (tr *tracer) fromConv(c *convRow) error {
	if tr.role(c) == "back" {
		tr.conn.back = c
		return nil
	}
	tr.conn.front = c
	return nil
}

// frontFromELB finds the captured connection an ELB line was forwarded on:
// the PROXY header naming its client, on a connection to its backend.
func (tr *tracer) frontFromELB() error {
	e := tr.elb
	if e.traceID != "" {
		// An ALB line: the request that carried its X-Amzn-Trace-Id.
		reqs, err := tr.https(`x_amzn_trace_id = ? AND is_request`, e.traceID)
		if err != nil {
			return err
		}
		c, err := tr.firstLeg(reqs, "front")
		if c != nil {
			tr.conn.front, tr.elbByTrace = c, true
		}
		return err
	}
	ps, err := tr.proxies(`src_addr = ? AND src_port = ? AND time BETWEEN ? AND ?`, e.client, e.clientPort, e.time.Add(-elbWindow), e.time.Add(elbWindow))
	if err != nil || len(ps) == 0 {
		return err
	}
	return tr.fromProxy(ps, e.time)
}

func nearestConv(cs []*convRow, at time.Time) *convRow {
	if at.IsZero() {
		return cs[0]
	}
	best := cs[0]
	for _, c := range cs[1:] {
		if absDur(c.first.Sub(at)) < absDur(best.first.Sub(at)) {
			best = c
		}
	}
	return best
}

func nearestELB(es []*elbRow, at time.Time, tr *tracer) *elbRow {
	best := es[0]
	for _, e := range es[1:] {
		if !at.IsZero() && absDur(e.time.Sub(at)) < absDur(best.time.Sub(at)) {
			best = e
		}
	}
	if len(es) > 1 {
		tr.t.Ambiguous = append(tr.t.Ambiguous, fmt.Sprintf("%d ELB log lines name client %s:%d; this is the one nearest %s", len(es), best.client, best.clientPort, atText(at)))
	}
	return best
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// expand follows the anchor to every other leg.
func (tr *tracer) expand() error {
	if tr.flowOnly != nil {
		return tr.buildFlowOnly()
	}
	c := &tr.conn
	// The router's leg alone: its front is the connection the same request
	// arrived on at that node.
	if c.front == nil && c.back != nil {
		if err := tr.frontFromBack(); err != nil {
			return err
		}
	}
	if c.front != nil {
		if err := tr.frontDetails(); err != nil {
			return err
		}
	}
	// An ALB stamps every request with X-Amzn-Trace-Id and logs it: the
	// exact key.
	if tr.elb == nil && tr.t.Request.TraceID != "" {
		es, err := tr.elbs(`trace_id = ?`, tr.t.Request.TraceID)
		if err != nil {
			return err
		}
		if len(es) > 0 {
			tr.elb, tr.elbByTrace = es[0], true
		}
	}
	// A load balancer that keeps the client's address (an NLB's TCP
	// listener) hands the node the client's own connection.
	if tr.elb == nil && tr.proxy == nil && c.front != nil && tr.t.Request.Client == "" && tr.eps[c.front.aAddr].kind != "elb" {
		tr.t.Request.Client, tr.passThrough = hostPort(c.front.aAddr, c.front.aPort), true
	}
	if tr.elb == nil && tr.t.Request.Client != "" && c.front != nil {
		ap, _ := netip.ParseAddrPort(tr.t.Request.Client)
		es, err := tr.elbs(`client_ip = ? AND client_port = ? AND time BETWEEN ? AND ?`,
			ap.Addr().String(), int(ap.Port()), c.front.first.Add(-elbWindow), c.front.last.Add(elbWindow))
		if err != nil {
			return err
		}
		if len(es) > 0 {
			tr.elb = nearestELB(es, c.front.first, tr)
		}
	}
	if tr.elb != nil && tr.t.Request.Client == "" {
		tr.t.Request.Client = hostPort(tr.elb.client, tr.elb.clientPort)
	}
	if c.front != nil && c.back == nil {
		if err := tr.backFromFront(); err != nil {
			return err
		}
	}
	return tr.build()
}

// frontDetails reads the front connection's PROXY header, its request and
// its DNAT'd copy.
func (tr *tracer) frontDetails() error {
	f := tr.conn.front
	// Every connection from the same source address and port near this
	// one: a DNAT'd copy (same ISN, to the pod), and the connections that
	// reused the port (same 4-tuple), whose flow-log records compete.
	same, err := tr.convs(`a_addr = ? AND a_port = ? AND first_time BETWEEN ? AND ?`,
		f.aAddr, f.aPort, f.first.Add(-flowAfter-flowBefore), f.last.Add(flowAfter+flowBefore))
	if err != nil {
		return err
	}
	for _, c := range same {
		if c.ev == f.ev && c.conv == f.conv || !f.isn.Valid || c.isn != f.isn || absDur(c.first.Sub(f.first)) > time.Second ||
			tr.files[c.ev].node != tr.files[f.ev].node || c.bAddr == f.bAddr && c.bPort == f.bPort {
			continue
		}
		// The original goes to the node (NodePort); the copy to the pod.
		if tr.eps[f.bAddr].kind == "router" || (tr.eps[c.bAddr].kind != "router" && c.first.Before(f.first)) {
			tr.conn.front, tr.conn.dnat = c, f
		} else {
			tr.conn.dnat = c
		}
		break
	}
	f = tr.conn.front
	for _, c := range same {
		if c.bAddr == f.bAddr && c.bPort == f.bPort {
			tr.sameTuple = append(tr.sameTuple, c)
		}
	}
	p, err := tr.proxyOf(f)
	if err != nil {
		return err
	}
	if p != nil {
		tr.proxy = p
		tr.t.Request.Client = hostPort(p.src, p.sp)
	}
	msgs, err := tr.msgsOf(f)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.request && tr.t.Request.Method == "" {
			tr.frontReqAt = m.first
			tr.t.Request.Method, tr.t.Request.URI, tr.t.Request.Host = m.method, m.uri, m.host
			if tr.t.Request.RequestID == "" {
				tr.t.Request.RequestID = m.requestID
			}
			tr.t.Request.TraceID = m.trace
		}
		if !m.request && tr.t.Request.Status == 0 {
			tr.t.Request.Status = m.status
		}
	}
	return nil
}

// frontFromBack finds the front connection from the router's leg: the same
// request-id on a front connection of the same node.
func (tr *tracer) frontFromBack() error {
	b := tr.conn.back
	all, err := tr.msgsOf(b)
	if err != nil {
		return err
	}
	var msgs []*httpRow
	for _, m := range all {
		if m.request {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		// Never answered, so it carried no request: the request that
		// reached the router just before it opened (the reverse of
		// backFromFront's last rule).
		reqs, err := tr.https(`is_request AND dst_addr = ? AND first_time BETWEEN ? AND ?`, b.aAddr, b.first.Add(-time.Second), b.first)
		if err != nil || len(reqs) == 0 {
			return err
		}
		r := reqs[len(reqs)-1]
		c, err := tr.conv(r.ev, r.conv)
		if err != nil || c == nil {
			return err
		}
		tr.conn.front = c
		tr.backMatch, tr.backHeuristic = "heuristic: the router's unanswered connection opened within 1s of the request", len(reqs)
		return nil
	}
	if msgs[0].requestID == "" {
		return nil
	}
	tr.t.Request.RequestID = msgs[0].requestID
	reqs, err := tr.https(`request_id = ? AND is_request AND first_time BETWEEN ? AND ?`, msgs[0].requestID, b.first.Add(-backendWindow), b.first.Add(backendWindow))
	if err != nil {
		return err
	}
	c, err := tr.firstLeg(reqs, "front")
	if c != nil {
		tr.conn.front = c
	}
	return err
}

// firstLeg is the first connection that carried one of reqs and plays role.
func (tr *tracer) firstLeg(reqs []*httpRow, role string) (*convRow, error) {
	if err := tr.prefetch(reqs); err != nil {
		return nil, err
	}
	for _, r := range reqs {
		c, err := tr.conv(r.ev, r.conv)
		if err != nil {
			return nil, err
		}
		if c != nil && tr.role(c) == role {
			return c, nil
		}
	}
	return nil, nil
}

// backFromFront finds the router's connection to the backend that carried
// the request: the same request-id from the router pod (exact), or, without
// one, the request from the router pod with the same URI and X-Forwarded-For
// just after the request reached the node (heuristic).
func (tr *tracer) backFromFront() error {
	f := tr.conn.front
	router := f.bAddr
	if tr.conn.dnat != nil {
		router = tr.conn.dnat.bAddr
	}
	lo, hi := f.first.Add(-time.Second), f.last.Add(backendWindow)
	if id := tr.t.Request.RequestID; id != "" {
		reqs, err := tr.https(`request_id = ? AND is_request AND first_time BETWEEN ? AND ?`, id, lo, hi)
		if err != nil {
			return err
		}
		c, err := tr.firstLeg(reqs, "back")
		if err != nil || c != nil {
			tr.conn.back = c
			return err
		}
	}
	if tr.t.Request.URI != "" && tr.t.Request.Client != "" {
		client := hostOf(tr.t.Request.Client)
		reqs, err := tr.https(`is_request AND src_addr = ? AND uri = ? AND first_time BETWEEN ? AND ?`, router, tr.t.Request.URI, lo, hi)
		if err != nil {
			return err
		}
		var cands []*httpRow
		for _, r := range reqs {
			if r.xff == "" || strings.Contains(r.xff, client) {
				cands = append(cands, r)
			}
		}
		if len(cands) > 0 {
			c, err := tr.conv(cands[0].ev, cands[0].conv)
			if err != nil || c == nil {
				return err
			}
			tr.conn.back = c
			tr.backMatch, tr.backHeuristic = "heuristic: router pod, URI and X-Forwarded-For within "+backendWindow.String(), len(cands)
			return nil
		}
	}
	// The request never reached a backend: the connection the router opened
	// right after it arrived and that was never answered (a NetworkPolicy
	// drop, a dead pod) carried it.
	if tr.frontReqAt.IsZero() {
		return nil
	}
	cs, err := tr.convs(`a_addr = ? AND synack_time IS NULL AND first_time BETWEEN ? AND ?`, router, tr.frontReqAt, tr.frontReqAt.Add(time.Second))
	if err != nil || len(cs) == 0 {
		return err
	}
	tr.conn.back = cs[0]
	tr.backMatch, tr.backHeuristic = "heuristic: the router's unanswered connection opened within 1s of the request", len(cs)
	return nil
}

func hostPort(ip string, port int) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + strconv.Itoa(port)
	}
	return ip + ":" + strconv.Itoa(port)
}

func msBetween(a, b time.Time) float64 { return float64(b.Sub(a)) / float64(time.Millisecond) }

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// sortHops orders hops by time; a missing hop keeps its place in the path.
func sortHops(hs []Hop) {
	sort.SliceStable(hs, func(i, j int) bool { return stepOrder(hs[i].Step) < stepOrder(hs[j].Step) })
}

// stepOrder places a step (FROM_TO lanes, or drop) along the path.
func stepOrder(step string) int {
	from, to, ok := strings.Cut(step, "_")
	if !ok {
		return 100 // drop: after the leg it happened on
	}
	return laneOrder[from]*10 + laneOrder[to]
}

func refOf(ev int, conv int64) Ref { return Ref{Evidence: ev, N: conv} }

// conv is one stream, or nil.
func (tr *tracer) conv(ev int, conv int64) (*convRow, error) {
	if c, ok := tr.convMemo[refOf(ev, conv)]; ok {
		return c, nil
	}
	cs, err := tr.convs(`evidence_id = ? AND conv_id = ?`, ev, conv)
	if err != nil {
		return nil, err
	}
	var c *convRow
	if len(cs) > 0 {
		c = cs[0]
	}
	tr.convMemo[refOf(ev, conv)] = c
	return c, nil
}

// prefetch reads, in one query each, the streams that messages were seen
// on, their HTTP messages and their PROXY headers.
func (tr *tracer) prefetch(ms []*httpRow) error {
	var conds []string
	var args []any
	seen := map[Ref]bool{}
	for _, m := range ms {
		r := refOf(m.ev, m.conv)
		if _, ok := tr.convMemo[r]; ok || seen[r] {
			continue
		}
		seen[r] = true
		conds = append(conds, "(evidence_id = ? AND conv_id = ?)")
		args = append(args, m.ev, m.conv)
	}
	if len(conds) == 0 {
		return nil
	}
	where := strings.Join(conds, " OR ")
	cs, err := tr.convs(where, args...)
	if err != nil {
		return err
	}
	for r := range seen {
		tr.convMemo[r] = nil
		tr.msgMemo[r] = nil
		tr.proxyMemo[r] = nil
	}
	for _, c := range cs {
		tr.convMemo[refOf(c.ev, c.conv)] = c
	}
	hs, err := tr.https(where, args...)
	if err != nil {
		return err
	}
	for _, h := range hs {
		r := refOf(h.ev, h.conv)
		tr.msgMemo[r] = append(tr.msgMemo[r], h)
	}
	ps, err := tr.proxies(where, args...)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if r := refOf(p.ev, p.conv); tr.proxyMemo[r] == nil {
			tr.proxyMemo[r] = p
		}
	}
	return nil
}

// msgsOf is a stream's HTTP messages in order, with those of its
// continuation in the next file of a rotated capture.
func (tr *tracer) msgsOf(c *convRow) ([]*httpRow, error) {
	r := refOf(c.ev, c.conv)
	ms, ok := tr.msgMemo[r]
	if !ok {
		var err error
		if ms, err = tr.https(`evidence_id = ? AND conv_id = ?`, c.ev, c.conv); err != nil {
			return nil, err
		}
		tr.msgMemo[r] = ms
	}
	next, err := tr.continuation(c)
	if err != nil || next == nil {
		return ms, err
	}
	more, err := tr.msgsOf(next)
	return append(append([]*httpRow(nil), ms...), more...), err
}

// continuation is the same connection in the next file of a capture
// rotated with tcpdump -G: still open when c's file ended, it goes on in a
// file of the same node that starts without its SYN (and, when its first
// packet is a reply, names its ends the other way round).
func (tr *tracer) continuation(c *convRow) (*convRow, error) {
	if c.endReason != "none" {
		return nil, nil
	}
	r := refOf(c.ev, c.conv)
	if next, ok := tr.contMemo[r]; ok {
		return next, nil
	}
	cs, err := tr.convs(`evidence_id <> ? AND NOT coalesce(saw_start, false) AND first_time BETWEEN ? AND ?
		AND ((a_addr = ? AND a_port = ? AND b_addr = ? AND b_port = ?) OR (a_addr = ? AND a_port = ? AND b_addr = ? AND b_port = ?))`,
		c.ev, c.last, c.last.Add(time.Minute), c.aAddr, c.aPort, c.bAddr, c.bPort, c.bAddr, c.bPort, c.aAddr, c.aPort)
	if err != nil {
		return nil, err
	}
	var next *convRow
	for _, x := range cs {
		if tr.files[x.ev].node == tr.files[c.ev].node {
			next = x
			break
		}
	}
	tr.contMemo[r] = next
	return next, nil
}

// proxyOf is the PROXY header opening a stream, or nil.
func (tr *tracer) proxyOf(c *convRow) (*proxyRow, error) {
	r := refOf(c.ev, c.conv)
	if p, ok := tr.proxyMemo[r]; ok {
		return p, nil
	}
	ps, err := tr.proxies(`evidence_id = ? AND conv_id = ?`, c.ev, c.conv)
	var p *proxyRow
	if len(ps) > 0 {
		p = ps[0]
	}
	tr.proxyMemo[r] = p
	return p, err
}

// query and queryRow run the trace's lookups.
func (tr *tracer) query(q string, args ...any) (*sql.Rows, error) {
	return tr.db.QueryContext(tr.ctx, q, args...)
}

func (tr *tracer) queryRow(q string, args ...any) *sql.Row {
	return tr.db.QueryRowContext(tr.ctx, q, args...)
}

// Packet is one frame of a captured conversation, for a ladder diagram.
type Packet struct {
	Frame      int64     `json:"frame"`
	Time       time.Time `json:"time"`
	FromA      bool      `json:"from_initiator"` // sent by the conversation's initiator (a)
	Flags      string    `json:"flags"`          // SYN, SYN-ACK, ACK, PSH-ACK, FIN-ACK, RST...
	Seq        int64     `json:"seq"`
	Ack        int64     `json:"ack"`
	PayloadLen int64     `json:"payload_len"`
	Src, Dst   string    `json:"-"`
}

// TCPFlagNames spells TCP flags as Wireshark's summary does.
func TCPFlagNames(f int) string {
	var names []string
	for _, x := range []struct {
		bit  int
		name string
	}{{2, "SYN"}, {1, "FIN"}, {4, "RST"}, {8, "PSH"}, {16, "ACK"}, {32, "URG"}} {
		if f&x.bit != 0 {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, "-")
}
