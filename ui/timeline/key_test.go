package timeline

import (
	"testing"

	"dev.l4case/l4case/app"
)

func TestKeyOf(t *testing.T) {
	for _, c := range []struct {
		in   string
		want app.TraceKey
		ok   bool
	}{
		{" abcdefghijk ", app.TraceKey{RequestID: "abcdefghijk"}, true},
		{"217.178.150.208:35088", app.TraceKey{Client: "217.178.150.208:35088"}, true},
		{"[2001:db8::7]:2817", app.TraceKey{Client: "[2001:db8::7]:2817"}, true},
		{"", app.TraceKey{}, false},
	} {
		got, ok := KeyOf(c.in)
		if ok != c.ok || got.String() != c.want.String() {
			t.Errorf("KeyOf(%q) = %s %v, want %s %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestKeyOfRow(t *testing.T) {
	for _, c := range []struct {
		cols, vals []string
		want       string
	}{
		// request_paths: the request-id first
		{[]string{"time", "request_id", "client", "elb_line", "conversation"}, []string{"t", "q1t0", "1.2.3.4:5", "10:17", "105:66"}, "request-id q1t0"},
		// an ELB line without a request: its client
		{[]string{"request_id", "client", "elb_line"}, []string{"", "203.0.113.158:53715", "11:42"}, "client 203.0.113.158:53715"},
		// elb_errors: client_ip and client_port
		{[]string{"time", "client_ip", "client_port"}, []string{"t", "10.0.0.1", "2817"}, "client 10.0.0.1:2817"},
		// the diagnosis: its first flow-log record, not its initiator as a
		// load balancer's client
		{[]string{"verdict", "client", "client_port", "server", "records"}, []string{"not_listening", "10.0.14.231", "31991", "10.0.150.33", "16:62 20:38"}, "flow-log record 16:62"},
		// client and client_port without records
		{[]string{"verdict", "client", "client_port", "server"}, []string{"nacl_outbound", "198.51.100.44", "49218", "10.0.14.231"}, "client 198.51.100.44:49218"},
		// a row with an ELB line only
		{[]string{"elb_line"}, []string{"8:4"}, "ELB log line 8:4"},
		// http_requests, conversations: evidence_id and stream
		{[]string{"evidence_id", "stream", "request_id"}, []string{"25", "6", "NULL"}, "capture stream 25:6"},
		{[]string{"verdict", "interface_id"}, []string{"sg_inbound", "eni-1"}, "nothing"},
	} {
		got, ok := KeyOfRow(c.cols, c.vals)
		if got.String() != c.want || ok != (c.want != "nothing") {
			t.Errorf("KeyOfRow(%v, %v) = %s %v, want %s", c.cols, c.vals, got, ok, c.want)
		}
	}
}

// A key survives being written as a finding's ref and read back.
func TestKeyOfRefRoundTrip(t *testing.T) {
	for _, k := range []app.TraceKey{
		{RequestID: "abcdefghijk"}, {Client: "217.178.150.208:35088"}, {ELBLine: &app.Ref{Evidence: 8, N: 4}},
		{Conversation: &app.Ref{Evidence: 25, N: 6}}, {Flow: &app.Ref{Evidence: 16, N: 54}},
	} {
		got, ok := KeyOfRef(k.String())
		if !ok || got.String() != k.String() {
			t.Errorf("%s read back as %s (%v)", k, got, ok)
		}
	}
	for _, ref := range []string{"", "view rejects", "capture stream x"} {
		if _, ok := KeyOfRef(ref); ok {
			t.Errorf("%q read as a key", ref)
		}
	}
}
