package elblog

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
)

const td = "../../testdata/elb/"

func TestClassicDocExamples(t *testing.T) {
	r := ingesttest.Import(t, Importer{}, td+"clb-access-log-examples.log", ingest.Options{})
	if r.Err != nil || r.Records != 4 || r.Rejected != 0 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	if r.Format != "ELB access log: classic 4" {
		t.Errorf("format %q", r.Format)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT lb_type, time, elb, client_ip, client_port, backend_ip, backend_port,
		request_processing_time, backend_processing_time, response_processing_time, processing_time_missing,
		elb_status_code, backend_status_code, received_bytes, sent_bytes, request, method, url, protocol, user_agent, ssl_cipher, ssl_protocol
		FROM elb_logs ORDER BY line`)
	want := [][]string{
		{"classic", "2015-05-13T23:39:43.945958Z", "my-loadbalancer", "192.168.131.39", "2817", "10.0.0.1", "80", "7.3e-05", "0.001048", "5.7e-05", "false",
			"200", "200", "0", "29", "GET http://www.example.com:80/ HTTP/1.1", "GET", "http://www.example.com:80/", "HTTP/1.1", "curl/7.38.0", "NULL", "NULL"},
		{"classic", "2015-05-13T23:39:43.945958Z", "my-loadbalancer", "192.168.131.39", "2817", "10.0.0.1", "80", "8.6e-05", "0.001048", "0.001337", "false",
			"200", "200", "0", "57", "GET https://www.example.com:443/ HTTP/1.1", "GET", "https://www.example.com:443/", "HTTP/1.1", "curl/7.38.0", "DHE-RSA-AES128-SHA", "TLSv1.2"},
		// TCP listener: "- - - " request, no status codes.
		{"classic", "2015-05-13T23:39:43.945958Z", "my-loadbalancer", "192.168.131.39", "2817", "10.0.0.1", "80", "0.001069", "2.8e-05", "4.1e-05", "false",
			"NULL", "NULL", "82", "305", "- - - ", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"classic", "2015-05-13T23:39:43.945958Z", "my-loadbalancer", "192.168.131.39", "2817", "10.0.0.1", "80", "0.001065", "1.5e-05", "2.3e-05", "false",
			"NULL", "NULL", "57", "502", "- - - ", "NULL", "NULL", "NULL", "NULL", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestALBAndNLBDocExamples(t *testing.T) {
	r := ingesttest.Import(t, Importer{}, td+"alb-access-log-examples.log", ingest.Options{})
	if r.Err != nil || r.Records != 7 || r.Rejected != 0 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT type, backend_ip, backend_port, elb_status_code, backend_status_code, trace_id, domain_name,
		matched_rule_priority, request_creation_time, actions_executed, redirect_url, error_reason, target_port_list, target_status_code_list
		FROM elb_logs ORDER BY line`)
	want := [][]string{
		{"http", "10.0.0.1", "80", "200", "200", "Root=1-58337262-36d228ad5d99923122bbe354", "NULL", "0", "2018-07-02T22:22:48.364Z", "forward", "NULL", "NULL", "10.0.0.1:80", "200"},
		{"https", "10.0.0.1", "80", "200", "200", "Root=1-58337281-1d84f3d73c47ec4e58577259", "www.example.com", "1", "2018-07-02T22:22:48.364Z", "authenticate,forward", "NULL", "NULL", "10.0.0.1:80", "200"},
		{"h2", "10.0.0.66", "9000", "200", "200", "Root=1-58337327-72bd00b0343d75b906739c42", "NULL", "1", "2018-07-02T22:22:48.364Z", "redirect", "https://example.com:80/", "NULL", "10.0.0.66:9000", "200"},
		{"ws", "10.0.1.192", "8010", "101", "101", "Root=1-58337364-23a8c76965a2ef7629b185e3", "NULL", "1", "2018-07-02T22:22:48.364Z", "forward", "NULL", "NULL", "10.0.1.192:8010", "101"},
		{"wss", "10.0.0.171", "8010", "101", "101", "Root=1-58337364-23a8c76965a2ef7629b185e3", "NULL", "1", "2018-07-02T22:22:48.364Z", "forward", "NULL", "NULL", "10.0.0.171:8010", "101"},
		// Lambda targets: no target address.
		{"http", "NULL", "NULL", "200", "200", "Root=1-58337364-23a8c76965a2ef7629b185e3", "NULL", "0", "2018-11-30T22:22:48.364Z", "forward", "NULL", "NULL", "NULL", "NULL"},
		{"http", "NULL", "NULL", "502", "NULL", "Root=1-58337364-23a8c76965a2ef7629b185e3", "NULL", "0", "2018-11-30T22:22:48.364Z", "forward", "NULL", "LambdaInvalidResponse", "NULL", "NULL"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}

	r = ingesttest.Import(t, Importer{}, td+"nlb-access-log-examples.log", ingest.Options{})
	if r.Err != nil || r.Records != 2 || r.Rejected != 0 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	got = ingesttest.Rows(t, r.DB, `SELECT lb_type, type, version, time, elb, listener, client_ip, client_port, backend_ip, backend_port,
		connection_time, tls_handshake_time, received_bytes, sent_bytes, incoming_tls_alert, chosen_cert_arn, ssl_cipher, ssl_protocol,
		domain_name, alpn_fe_protocol, alpn_be_protocol, alpn_client_preference_list, processing_time_missing FROM elb_logs ORDER BY line`)
	want = [][]string{
		{"nlb", "tls", "2.0", "2018-12-20T02:59:40Z", "net/my-network-loadbalancer/c6e77e28c25b2234", "g3d4b5e8bb8464cd", "72.21.218.154", "51341", "172.100.100.185", "443",
			"5", "2", "98", "246", "NULL", "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99", "ECDHE-RSA-AES128-SHA", "tlsv12",
			"my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com", "NULL", "NULL", "NULL", "NULL"},
		{"nlb", "tls", "2.0", "2020-04-01T08:51:42Z", "net/my-network-loadbalancer/c6e77e28c25b2234", "g3d4b5e8bb8464cd", "72.21.218.154", "51341", "172.100.100.185", "443",
			"5", "2", "98", "246", "NULL", "arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99", "ECDHE-RSA-AES128-SHA", "tlsv12",
			"my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com", "h2", "h2", `"h2","http/1.1"`, "NULL"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestVectorVRLCases compares with Vector's parse_aws_alb_log expected
// output, field by field.
func TestVectorVRLCases(t *testing.T) {
	var tc struct {
		Cases []struct {
			Name string
			Args struct {
				Value string
			}
			Expected map[string]any
		}
	}
	b, err := os.ReadFile("../../testdata/vrl/alb_test_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tc); err != nil {
		t.Fatal(err)
	}
	if len(tc.Cases) != 13 {
		t.Fatalf("%d cases", len(tc.Cases))
	}
	// VRL names -> an expression over elb_logs printing the same value.
	cols := map[string]string{
		"type": "type", "timestamp": "strftime(time, '%Y-%m-%dT%H:%M:%S.%fZ')", "elb": "elb",
		"client_host": "CASE WHEN client_ip IS NULL THEN NULL ELSE client_ip || ':' || client_port END",
		"target_host": "CASE WHEN backend_ip IS NULL THEN NULL ELSE backend_ip || ':' || backend_port END",
		// l4case keeps -1 as NULL with processing_time_missing set.
		"request_processing_time":  "coalesce(request_processing_time, CASE WHEN processing_time_missing THEN -1 END)",
		"target_processing_time":   "coalesce(backend_processing_time, CASE WHEN processing_time_missing THEN -1 END)",
		"response_processing_time": "coalesce(response_processing_time, CASE WHEN processing_time_missing THEN -1 END)", "elb_status_code": "elb_status_code::VARCHAR",
		"target_status_code": "backend_status_code::VARCHAR", "received_bytes": "received_bytes", "sent_bytes": "sent_bytes",
		"request_method": "method", "request_url": "url", "request_protocol": "protocol", "user_agent": "user_agent",
		"ssl_cipher": "ssl_cipher", "ssl_protocol": "ssl_protocol", "target_group_arn": "target_group_arn", "trace_id": "trace_id",
		"domain_name": "domain_name", "chosen_cert_arn": "chosen_cert_arn", "matched_rule_priority": "matched_rule_priority::VARCHAR",
		"request_creation_time": "strftime(request_creation_time, '%Y-%m-%dT%H:%M:%S.%fZ')", "actions_executed": "actions_executed",
		"redirect_url": "redirect_url", "error_reason": "error_reason",
		"target_port_list": "string_split(coalesce(target_port_list, ''), ' ')", "target_status_code_list": "string_split(coalesce(target_status_code_list, ''), ' ')",
		"classification": "classification", "classification_reason": "classification_reason", "traceability_id": "conn_trace_id",
	}
	for i, c := range tc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			f := ingesttest.File(t, fmt.Sprintf("alb-%d.log", i), c.Args.Value+"\n")
			r := ingesttest.Import(t, Importer{}, f, ingest.Options{})
			if r.Err != nil || r.Records != 1 {
				t.Fatalf("%v: %d records, %d rejected", r.Err, r.Records, r.Rejected)
			}
			for k, want := range c.Expected {
				expr, ok := cols[k]
				if !ok {
					t.Errorf("VRL field %s has no column", k)
					continue
				}
				got := ingesttest.Rows(t, r.DB, "SELECT "+expr+" FROM elb_logs")[0][0]
				if !sameValue(got, want) {
					t.Errorf("%s = %s, VRL says %v", k, got, want)
				}
			}
		})
	}
}

// sameValue compares a printed column with a VRL JSON value; VRL's
// timestamps keep microseconds, lists of "" mean empty.
func sameValue(got string, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == "NULL" || got == "[]"
	case string:
		return got == w || got == strings.Replace(w, ".000000Z", "Z", 1) || strings.TrimSuffix(got, "000Z")+"Z" == w ||
			strings.TrimRight(strings.TrimSuffix(got, "Z"), "0")+"Z" == strings.TrimRight(strings.TrimSuffix(w, "Z"), "0")+"Z"
	case float64:
		return got == fmt.Sprint(w) || got == fmt.Sprint(int64(w)) || fmt.Sprintf("%g", w) == got
	case []any:
		var parts []string
		for _, x := range w {
			parts = append(parts, fmt.Sprint(x))
		}
		return got == "["+strings.Join(parts, ", ")+"]" || (len(parts) == 0 && got == "[]")
	}
	return false
}

func TestBadLinesAreRejected(t *testing.T) {
	lines := []string{
		`2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -`,
		`2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1 "curl/7.38.0" - -`,
		`2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET / HTTP/1.1" "curl" - -`,
		`garbage`,
		`2015-05-13T23:39:44.000000Z my-loadbalancer [2001:db8::7]:2817 - -1 -1 -1 504 - 0 0 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.38.0" - -`,
	}
	f := ingesttest.File(t, "mixed.log", strings.Join(lines, "\n")+"\n")
	r := ingesttest.Import(t, Importer{}, f, ingest.Options{})
	if r.Err != nil || r.Records != 2 || r.Rejected != 3 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT line_or_offset, reason FROM ingest_errors ORDER BY 1`)
	want := [][]string{
		{"2", "Classic entry with 14 fields, 15 expected"},
		{"3", `field client_ip: "192.168.131.39" is not ip:port`},
		{"4", `"garbage" is neither a timestamp (Classic) nor an ALB/NLB entry type`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	ok := ingesttest.Rows(t, r.DB, `SELECT client_ip, client_port, backend_ip, processing_time_missing, request_processing_time, elb_status_code, backend_status_code FROM elb_logs WHERE line = 5`)
	if want := []string{"2001:db8::7", "2817", "NULL", "true", "NULL", "504", "NULL"}; !reflect.DeepEqual(ok[0], want) {
		t.Errorf("line 5 %v, want %v", ok[0], want)
	}
}

func TestDetect(t *testing.T) {
	b, _ := os.ReadFile(td + "alb-access-log-examples.log")
	if err := (Importer{}).Detect("x.log", b); err != nil {
		t.Errorf("ALB: %v", err)
	}
	err := (Importer{}).Detect("x.log", []byte("2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n"))
	if err == nil || err.Error() != `line 1 is not a Classic, ALB or NLB access log entry: "2" is neither a timestamp (Classic) nor an ALB/NLB entry type` {
		t.Errorf("flow log: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"clb", "alb", "nlb"} {
		b, _ := os.ReadFile(td + name + "-access-log-examples.log")
		for _, l := range strings.Split(string(b), "\n") {
			f.Add(l)
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		var p parser
		if p.parse([]byte(line)) != "" {
			return
		}
		// An accepted line has a kind and one value per field of its spec.
		if p.spec == nil || len(p.vals) != len(p.spec.fields) {
			t.Fatalf("accepted %q with %d values", line, len(p.vals))
		}
	})
}

// BenchmarkParse is the importer's Go work on a line without the database:
// tokenizing and converting (not the Arrow batches), the lower bound of
// what parsing costs next to DuckDB's insert (bench/run.sh import).
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ name, line string }{
		{"classic", `2021-04-05T06:00:01.123456Z a17a43204638c41818a7d130503ccfa1 203.0.113.9:51234 10.0.134.187:31790 0.000123 0.000009 0.000013 - - 321 4821 "- - - " "-" - -`},
		{"alb", `http 2021-04-05T06:00:01.123456Z app/my-alb/50dc6c495c0c9188 203.0.113.9:51234 10.0.0.7:80 0.000 0.123 0.000 200 200 34 2456 "GET http://www.example.com:80/item/12345 HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2021-04-05T06:00:01.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_dc57cebed65b444ebc8177bb698fe166`},
	} {
		b.Run(c.name, func(b *testing.B) {
			line := []byte(c.line)
			var p parser
			for i := 0; i < b.N; i++ {
				if r := p.parse(line); r != "" {
					b.Fatal(r)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
