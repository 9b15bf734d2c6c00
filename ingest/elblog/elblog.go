// Package elblog imports Elastic Load Balancing access logs: Classic
// (HTTP/HTTPS and TCP/SSL listeners), Application and Network Load Balancer
// entries, recognised line by line, files plain or gzip, into
// elb_classic_logs, alb_logs and nlb_logs, which the view elb_logs unions.
//
// An entry is space-separated; a field in double quotes may hold spaces and
// \" escapes, and a quoted field ends at a quote followed by a space or the
// end of the line (so NLB's "h2","http/1.1" is one field). Processing times
// of -1 (the backend was never reached) become NULL with
// processing_time_missing set. Fields AWS appends in the future land in
// extra, in order.
package elblog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"dev.l4case/l4case/ingest"
)

// Importer reads ELB access logs.
type Importer struct{}

// Kind is "elblog".
func (Importer) Kind() string { return "elblog" }

// Detect accepts a file whose first non-empty line is a Classic, ALB or NLB entry.
func (Importer) Detect(name string, head []byte) error {
	var p parser
	for _, line := range strings.Split(string(head), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if reason := p.parse([]byte(line)); reason != "" {
			return fmt.Errorf("line 1 is not a Classic, ALB or NLB access log entry: %s", reason)
		}
		return nil
	}
	return errors.New("empty")
}

// Import reads one access log file.
func (Importer) Import(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	rc, err := src.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var sinks [3]*sink
	p := &parser{}
	id := int64(src.ID)
	lr := ingest.NewLineReader(rc)
	err = lr.Each(ctx, src.Name, func(line []byte, n int64) error {
		if len(line) == 0 || isBlank(line) {
			return nil
		}
		if lr.Long {
			w.Reject(n, "line", string(line), fmt.Sprintf("line longer than %d bytes", ingest.MaxLine))
			return nil
		}
		if reason := p.parse(line); reason != "" {
			w.Reject(n, "line", string(line), reason)
			return nil
		}
		k := p.spec.kind
		if sinks[k] == nil {
			s, err := open(w, p.spec)
			if err != nil {
				return err
			}
			sinks[k] = s
		}
		p.emit(sinks[k], id, n)
		if p.timeNS != 0 {
			w.SeeTimeNS(p.timeNS)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	var parts []string
	for _, spec := range []*lbSpec{classic, alb, nlb} {
		if s := sinks[spec.kind]; s != nil {
			parts = append(parts, fmt.Sprintf("%s %d", spec.name, s.t.Rows()))
		}
	}
	if len(parts) == 0 {
		return "ELB access log (empty)", nil
	}
	return "ELB access log: " + strings.Join(parts, ", "), nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// A sink is the table one load balancer type's entries go to.
type sink struct {
	t   *ingest.Table
	pos [cExtra + 1]int // the position in t of each columns entry
}

// open opens the table of spec's entries with the columns spec fills.
func open(w *ingest.Writer, spec *lbSpec) (*sink, error) {
	ids := []int{cEvidence, cLine}
	for _, f := range spec.fields {
		switch f.kind {
		case kAddr:
			ids = append(ids, f.col, f.col+1)
		case kRequest:
			ids = append(ids, cRequest, cMethod, cURL, cProtocol)
		default:
			ids = append(ids, f.col)
		}
	}
	if spec.kind != nlbKind {
		ids = append(ids, cMissing)
	}
	ids = append(ids, cExtra)
	s := &sink{}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = columns[id]
		s.pos[id] = i
	}
	var err error
	s.t, err = w.Records(spec.table, names...)
	return s, err
}

// Logical columns of an entry, in elb_logs' order; the c* constants are
// their positions. Each type's table has the subset its fields fill.
var columns = []string{
	"evidence_id", "line", "lb_type", "type", "version", "time", "elb", "listener",
	"client_ip", "client_port", "backend_ip", "backend_port",
	"request_processing_time", "backend_processing_time", "response_processing_time", "processing_time_missing",
	"elb_status_code", "backend_status_code", "received_bytes", "sent_bytes",
	"request", "method", "url", "protocol", "user_agent", "ssl_cipher", "ssl_protocol",
	"target_group_arn", "trace_id", "domain_name", "chosen_cert_arn", "matched_rule_priority", "request_creation_time",
	"actions_executed", "redirect_url", "error_reason", "target_port_list", "target_status_code_list",
	"classification", "classification_reason", "conn_trace_id", "transformed_host", "transformed_uri", "request_transform_status",
	"connection_time", "tls_handshake_time", "incoming_tls_alert", "chosen_cert_serial", "tls_named_group",
	"alpn_fe_protocol", "alpn_be_protocol", "alpn_client_preference_list", "tls_connection_creation_time", "extra",
}

const (
	cEvidence = iota
	cLine
	cLBType
	cType
	cVersion
	cTime
	cELB
	cListener
	cClientIP
	cClientPort
	cBackendIP
	cBackendPort
	cRPT
	cBPT
	cRSPT
	cMissing
	cELBStatus
	cBackendStatus
	cRecv
	cSent
	cRequest
	cMethod
	cURL
	cProtocol
	cUA
	cSSLCipher
	cSSLProtocol
	cTargetGroup
	cTraceID
	cDomain
	cCertARN
	cRulePriority
	cReqCreation
	cActions
	cRedirect
	cErrorReason
	cTargetList
	cTargetStatusList
	cClassification
	cClassReason
	cConnTrace
	cTransHost
	cTransURI
	cTransStatus
	cConnTime
	cTLSHandshake
	cTLSAlert
	cCertSerial
	cNamedGroup
	cALPNFE
	cALPNBE
	cALPNList
	cTLSCreation
	cExtra
)

// How a field is read.
type kind uint8

const (
	kStr     kind = iota // text, "-" is NULL
	kTime                // ISO 8601 UTC
	kAddr                // ip:port (IPv6 with or without brackets) into two columns; "-" is NULL
	kSecs                // seconds, -1 is NULL and sets processing_time_missing
	kMillis              // milliseconds, "-" is NULL
	kStatus              // HTTP status, "-" is NULL
	kInt                 // integer, "-" is NULL
	kRequest             // "METHOD URL PROTOCOL"
)

type field struct {
	col  int
	kind kind
}

// An lbSpec is one load balancer type's entry layout and table.
type lbSpec struct {
	kind   int // classicKind, albKind, nlbKind
	name   string
	table  string
	fields []field
}

const (
	classicKind = iota
	albKind
	nlbKind
)

var (
	classic = &lbSpec{classicKind, "classic", "elb_classic_logs", classicFields}
	alb     = &lbSpec{albKind, "alb", "alb_logs", albFields}
	nlb     = &lbSpec{nlbKind, "nlb", "nlb_logs", nlbFields}
)

var (
	classicFields = []field{{cTime, kTime}, {cELB, kStr}, {cClientIP, kAddr}, {cBackendIP, kAddr},
		{cRPT, kSecs}, {cBPT, kSecs}, {cRSPT, kSecs}, {cELBStatus, kStatus}, {cBackendStatus, kStatus},
		{cRecv, kInt}, {cSent, kInt}, {cRequest, kRequest}, {cUA, kStr}, {cSSLCipher, kStr}, {cSSLProtocol, kStr}}
	albFields = []field{{cType, kStr}, {cTime, kTime}, {cELB, kStr}, {cClientIP, kAddr}, {cBackendIP, kAddr},
		{cRPT, kSecs}, {cBPT, kSecs}, {cRSPT, kSecs}, {cELBStatus, kStatus}, {cBackendStatus, kStatus},
		{cRecv, kInt}, {cSent, kInt}, {cRequest, kRequest}, {cUA, kStr}, {cSSLCipher, kStr}, {cSSLProtocol, kStr},
		{cTargetGroup, kStr}, {cTraceID, kStr}, {cDomain, kStr}, {cCertARN, kStr}, {cRulePriority, kInt},
		{cReqCreation, kTime}, {cActions, kStr}, {cRedirect, kStr}, {cErrorReason, kStr}, {cTargetList, kStr},
		{cTargetStatusList, kStr}, {cClassification, kStr}, {cClassReason, kStr}, {cConnTrace, kStr},
		{cTransHost, kStr}, {cTransURI, kStr}, {cTransStatus, kStr}}
	nlbFields = []field{{cType, kStr}, {cVersion, kStr}, {cTime, kTime}, {cELB, kStr}, {cListener, kStr},
		{cClientIP, kAddr}, {cBackendIP, kAddr}, {cConnTime, kMillis}, {cTLSHandshake, kMillis},
		{cRecv, kInt}, {cSent, kInt}, {cTLSAlert, kStr}, {cCertARN, kStr}, {cCertSerial, kStr},
		{cSSLCipher, kStr}, {cSSLProtocol, kStr}, {cNamedGroup, kStr}, {cDomain, kStr},
		{cALPNFE, kStr}, {cALPNBE, kStr}, {cALPNList, kStr}, {cTLSCreation, kTime}}
)

// Fewest fields an entry of each kind has had since AWS introduced it.
const (
	minClassic = 15
	minALB     = 16
	minNLB     = 18
)

var albTypes = map[string]bool{"http": true, "https": true, "h2": true, "grpcs": true, "ws": true, "wss": true}

// value is one parsed field, ready to append.
type value struct {
	null bool
	str  string
	i    int64
	f    float64
	ip   string
	port int64
	m    []string // method, url, protocol
}

type parser struct {
	toks    [][]byte
	spec    *lbSpec
	vals    []value
	extra   []string
	missing bool
	timeNS  int64
}

// parse tokenizes and converts a line into the parser's staging values, or
// says why it cannot; nothing is appended until the whole line is good.
func (p *parser) parse(line []byte) string {
	toks, err := tokenize(p.toks[:0], line)
	p.toks = toks
	if err != "" {
		return err
	}
	if len(toks) == 0 {
		return "empty line"
	}
	first := unsafeString(toks[0])
	switch {
	case first == "tls" && len(toks) > 1 && unsafeString(toks[1]) == "2.0":
		p.spec = nlb
		if len(toks) < minNLB {
			return fmt.Sprintf("NLB entry with %d fields, at least %d expected", len(toks), minNLB)
		}
	case albTypes[first]:
		p.spec = alb
		if len(toks) < minALB {
			return fmt.Sprintf("ALB entry with %d fields, at least %d expected", len(toks), minALB)
		}
	default:
		if _, ok := ingest.ParseISOTime(toks[0]); !ok {
			return fmt.Sprintf("%q is neither a timestamp (Classic) nor an ALB/NLB entry type", truncate(first, 40))
		}
		p.spec = classic
		if len(toks) < minClassic {
			return fmt.Sprintf("Classic entry with %d fields, %d expected", len(toks), minClassic)
		}
	}
	n := len(p.spec.fields)
	if cap(p.vals) < n {
		p.vals = make([]value, n)
	}
	p.vals = p.vals[:n]
	p.missing, p.timeNS = false, 0
	p.extra = p.extra[:0]
	for i, tok := range toks {
		if i >= n {
			p.extra = append(p.extra, string(tok))
			continue
		}
		if reason := p.convert(i, tok); reason != "" {
			return reason
		}
	}
	for i := len(toks); i < n; i++ {
		p.vals[i] = value{null: true}
	}
	return ""
}

func (p *parser) convert(i int, tok []byte) string {
	f := p.spec.fields[i]
	v := &p.vals[i]
	*v = value{}
	s := unsafeString(tok)
	dash := s == "-" || s == ""
	switch f.kind {
	case kStr:
		v.null, v.str = dash, s
	case kTime:
		if dash {
			v.null = true
			return ""
		}
		ns, ok := ingest.ParseISOTime(tok)
		if !ok {
			return fmt.Sprintf("field %s: %q is not a time", columns[f.col], truncate(s, 40))
		}
		v.i = ns
		if f.col == cTime {
			p.timeNS = ns
		}
	case kAddr:
		if dash {
			v.null = true
			return ""
		}
		ip, port, ok := splitAddr(s)
		if !ok {
			return fmt.Sprintf("field %s: %q is not ip:port", columns[f.col], truncate(s, 60))
		}
		v.ip, v.port = ip, port
	case kSecs, kMillis:
		if dash {
			v.null = true
			return ""
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Sprintf("field %s: %q is not a number", columns[f.col], truncate(s, 40))
		}
		if f.kind == kSecs && x == -1 {
			v.null, p.missing = true, true
		}
		v.f = x
	case kStatus, kInt:
		if dash {
			v.null = true
			return ""
		}
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Sprintf("field %s: %q is not an integer", columns[f.col], truncate(s, 40))
		}
		if f.kind == kStatus && (x < 100 || x > 999) {
			return fmt.Sprintf("field %s: %d is not an HTTP status", columns[f.col], x)
		}
		v.i = x
	case kRequest:
		v.str = s
		// "GET http://host:80/path HTTP/1.1"; TCP listeners log "- - - ";
		// a malformed request may be "- http://host:80- -".
		parts := strings.SplitN(s, " ", 3)
		if len(parts) == 3 {
			v.m = parts
		}
	}
	return ""
}

// emit appends the staged line to s, its type's table.
func (p *parser) emit(s *sink, id, n int64) {
	t, pos := s.t, &s.pos
	t.Int(pos[cEvidence], id)
	t.Int(pos[cLine], n)
	for i, f := range p.spec.fields {
		v := &p.vals[i]
		if v.null {
			continue
		}
		c := pos[f.col]
		switch f.kind {
		case kStr:
			t.Str(c, v.str)
		case kTime:
			t.Nanos(c, v.i)
		case kAddr:
			t.Str(c, v.ip)
			t.Int(pos[f.col+1], v.port)
		case kSecs, kMillis:
			t.Float(c, v.f)
		case kStatus, kInt:
			t.Int(c, v.i)
		case kRequest:
			t.Str(pos[cRequest], v.str)
			if v.m != nil {
				for j, c := range []int{cMethod, cURL, cProtocol} {
					if s := strings.TrimSpace(v.m[j]); s != "" && s != "-" {
						t.Str(pos[c], s)
					}
				}
			}
		}
	}
	if p.spec.kind != nlbKind {
		t.Bool(pos[cMissing], p.missing)
	}
	if len(p.extra) > 0 {
		t.List(pos[cExtra], p.extra)
	}
	t.Row()
}

// splitAddr splits "1.2.3.4:80", "[2001:db8::1]:443" or, as ALB writes
// IPv6 without brackets, "2001:db8::1:443" (the port follows the last colon).
func splitAddr(s string) (string, int64, bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return "", 0, false
	}
	host, ps := s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || host == "" {
		return "", 0, false
	}
	for _, c := range host {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':') {
			return "", 0, false
		}
	}
	return host, int64(port), true
}

// tokenize splits an entry into fields, removing the quotes of quoted
// fields and resolving their \" and \\ escapes.
func tokenize(dst [][]byte, b []byte) ([][]byte, string) {
	i := 0
	for i < len(b) {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		if i == len(b) {
			break
		}
		if b[i] != '"' {
			j := i
			for j < len(b) && b[j] != ' ' {
				j++
			}
			dst = append(dst, b[i:j])
			i = j
			continue
		}
		// A quoted field ends at a quote followed by a space or the end.
		j := i + 1
		esc := false
		for {
			if j >= len(b) {
				return dst, fmt.Sprintf("unterminated quoted field at byte %d", i+1)
			}
			if b[j] == '\\' && j+1 < len(b) {
				esc = true
				j += 2
				continue
			}
			if b[j] == '"' && (j+1 == len(b) || b[j+1] == ' ') {
				break
			}
			j++
		}
		f := b[i+1 : j]
		if esc {
			f = unescape(f)
		} else if strings.Contains(unsafeString(f), `","`) {
			f = b[i : j+1] // a list of quoted values, kept as logged: "h2","http/1.1"
		}
		dst = append(dst, f)
		i = j + 1
	}
	return dst, ""
}

func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			i++
		}
		out = append(out, b[i])
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
