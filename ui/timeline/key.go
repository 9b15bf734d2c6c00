package timeline

import (
	"net/netip"
	"strconv"
	"strings"

	"dev.l4case/l4case/app"
)

// KeyOf reads what a user typed to trace: a client ip:port, or else a
// request-id.
func KeyOf(s string) (app.TraceKey, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return app.TraceKey{}, false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return app.TraceKey{Client: ap.String()}, true
	}
	return app.TraceKey{RequestID: s}, true
}

// KeyOfRow finds in a result row something to trace from: a request-id, a
// client (ip:port), a flow-log record, a client (ip and port), an ELB line
// or a capture stream, in that order (request_paths, http_requests, elb_errors, conversations all
// have one). ok is false when the row has none.
func KeyOfRow(columns, values []string) (app.TraceKey, bool) {
	col := map[string]string{}
	for i, c := range columns {
		if i < len(values) && values[i] != "" && values[i] != "NULL" {
			col[strings.ToLower(c)] = values[i]
		}
	}
	ref := func(s string) *app.Ref {
		r, err := app.ParseRef(s)
		if err != nil {
			return nil
		}
		return r
	}
	switch {
	case col["request_id"] != "":
		return app.TraceKey{RequestID: col["request_id"]}, true
	case col["client"] != "":
		if ap, err := netip.ParseAddrPort(col["client"]); err == nil {
			return app.TraceKey{Client: ap.String()}, true
		}
	}
	// The diagnosis: its connection's flow-log records ("16:62 20:38"),
	// whose client is the connection's initiator, not the load balancer's.
	if recs := strings.Fields(col["records"]); len(recs) > 0 {
		if r := ref(recs[0]); r != nil {
			return app.TraceKey{Flow: r}, true
		}
	}
	// client_ip and client_port (elb_errors), or client and client_port.
	ip := col["client_ip"]
	if ip == "" {
		ip = col["client"]
	}
	if port := col["client_port"]; ip != "" && port != "" {
		if a, err := netip.ParseAddr(ip); err == nil {
			if p, err := strconv.ParseUint(port, 10, 16); err == nil {
				return app.TraceKey{Client: netip.AddrPortFrom(a, uint16(p)).String()}, true
			}
		}
	}
	if r := ref(col["elb_line"]); r != nil {
		return app.TraceKey{ELBLine: r}, true
	}
	if r := ref(col["conversation"]); r != nil {
		return app.TraceKey{Conversation: r}, true
	}
	if ev, st := col["evidence_id"], col["stream"]; ev != "" && st != "" {
		if r := ref(ev + ":" + st); r != nil {
			return app.TraceKey{Conversation: r}, true
		}
	}
	return app.TraceKey{}, false
}

// KeyOfRef reads back a trace key as TraceKey.String spells it (the ref a
// finding keeps), or says it is not one.
func KeyOfRef(ref string) (app.TraceKey, bool) {
	for _, p := range []struct {
		prefix string
		set    func(string) (app.TraceKey, bool)
	}{
		{"request-id ", func(s string) (app.TraceKey, bool) { return app.TraceKey{RequestID: s}, s != "" }},
		{"client ", func(s string) (app.TraceKey, bool) { return app.TraceKey{Client: s}, s != "" }},
		{"ELB log line ", func(s string) (app.TraceKey, bool) {
			r, err := app.ParseRef(s)
			return app.TraceKey{ELBLine: r}, err == nil
		}},
		{"capture stream ", func(s string) (app.TraceKey, bool) {
			r, err := app.ParseRef(s)
			return app.TraceKey{Conversation: r}, err == nil
		}},
		{"flow-log record ", func(s string) (app.TraceKey, bool) {
			r, err := app.ParseRef(s)
			return app.TraceKey{Flow: r}, err == nil
		}},
	} {
		if rest, ok := strings.CutPrefix(ref, p.prefix); ok {
			return p.set(rest)
		}
	}
	return app.TraceKey{}, false
}
