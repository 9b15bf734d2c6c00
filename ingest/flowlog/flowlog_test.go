package flowlog

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
)

const td = "../../testdata/flowlogs/"

func TestDefaultV2WithHeader(t *testing.T) {
	for _, file := range []string{"aws-docs-v2-header.log", "aws-docs-v2-header.log.gz", "aws-docs-v2.log"} {
		t.Run(file, func(t *testing.T) {
			r := ingesttest.Import(t, Importer{}, td+file, ingest.Options{})
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if r.Records != 7 || r.Rejected != 0 {
				t.Fatalf("records %d rejected %d, want 7 and 0", r.Records, r.Rejected)
			}
			got := ingesttest.Rows(t, r.DB, `SELECT version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol,
				packets, bytes, start_time, end_time, action, log_status FROM flow_logs ORDER BY line`)
			want := [][]string{
				{"2", "123456789010", "eni-1235b8ca123456789", "172.31.16.139", "172.31.16.21", "20641", "22", "6", "20", "4249", "2014-12-14T04:06:50Z", "2014-12-14T04:07:50Z", "ACCEPT", "OK"},
				{"2", "123456789010", "eni-1235b8ca123456789", "172.31.9.69", "172.31.9.12", "49761", "3389", "6", "20", "4249", "2014-12-14T04:06:50Z", "2014-12-14T04:07:50Z", "REJECT", "OK"},
				{"2", "123456789010", "eni-1235b8ca123456789", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "2015-05-10T18:01:16Z", "2015-05-10T18:02:14Z", "NULL", "NODATA"},
				{"2", "123456789010", "eni-11111111aaaaaaaaa", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "2015-05-10T18:01:16Z", "2015-05-10T18:02:14Z", "NULL", "SKIPDATA"},
				{"2", "123456789010", "eni-1235b8ca123456789", "203.0.113.12", "172.31.16.139", "0", "0", "1", "4", "336", "2015-05-29T16:30:27Z", "2015-05-29T16:32:22Z", "ACCEPT", "OK"},
				{"2", "123456789010", "eni-1235b8ca123456789", "172.31.16.139", "203.0.113.12", "0", "0", "1", "4", "336", "2015-05-29T16:31:34Z", "2015-05-29T16:32:22Z", "REJECT", "OK"},
				{"2", "123456789010", "eni-1235b8ca123456789", "2001:db8:1234:a100:8d6e:3477:df66:f105", "2001:db8:1234:a102:3304:8879:34cf:4071", "34892", "22", "6", "54", "8855", "2016-10-31T11:35:08Z", "2016-10-31T11:37:00Z", "ACCEPT", "OK"},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("rows:\n%v\nwant\n%v", got, want)
			}
			// The parsed address form supports CIDR tests.
			n := ingesttest.Rows(t, r.DB, `SELECT count(*) FROM flow_logs WHERE src_ip BETWEEN cidr_lo('172.31.0.0/16') AND cidr_hi('172.31.0.0/16')`)
			if n[0][0] != "3" {
				t.Errorf("records from 172.31.0.0/16 = %s, want 3", n[0][0])
			}
		})
	}
}

func TestBrokenLineIsRejectedWithItsLineNumber(t *testing.T) {
	r := ingesttest.Import(t, Importer{}, td+"aws-docs-v2-broken.log", ingest.Options{})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.Records != 7 || r.Rejected != 1 {
		t.Fatalf("records %d rejected %d, want 7 and 1", r.Records, r.Rejected)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT evidence_id, file, line_or_offset, unit, reason, raw FROM ingest_errors`)
	want := [][]string{{"1", td + "aws-docs-v2-broken.log", "4", "line",
		`field dstport: "twenty-two" is not a 32-bit integer`,
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 twenty-two 6 20 4249 1418530010 1418530070 ACCEPT OK"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ingest_errors:\n%q\nwant\n%q", got, want)
	}
	// The lines around it are in.
	lines := ingesttest.Rows(t, r.DB, `SELECT list(line ORDER BY line)::VARCHAR FROM flow_logs`)
	if lines[0][0] != "[2, 3, 5, 6, 7, 8, 9]" {
		t.Errorf("imported lines %s", lines[0][0])
	}
}

// Every record line is either imported or rejected: none is lost.
func TestRecordsAreImportedOrRejected(t *testing.T) {
	files, _ := filepath.Glob(td + "*.log")
	for _, f := range files {
		r := ingesttest.Import(t, Importer{}, f, ingest.Options{})
		if r.Err != nil {
			t.Errorf("%s: %v", f, r.Err)
			continue
		}
		records := 0
		fh, _ := os.Open(f)
		sc := bufio.NewScanner(fh)
		first := true
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			if first {
				first = false
				if _, ok := parseHeader([]byte(line)); ok {
					continue
				}
			}
			records++
		}
		fh.Close()
		if int(r.Records+r.Rejected) != records {
			t.Errorf("%s: %d imported + %d rejected != %d records", f, r.Records, r.Rejected, records)
		}
		n := ingesttest.Rows(t, r.DB, `SELECT (SELECT count(*) FROM flow_logs) || '+' || (SELECT count(*) FROM ingest_errors)`)
		if want := fmt.Sprintf("%d+%d", r.Records, r.Rejected); n[0][0] != want {
			t.Errorf("%s: tables hold %s, writer counted %s", f, n[0][0], want)
		}
	}
}

func TestCustomFormatsFromHeaders(t *testing.T) {
	cases := []struct {
		file, q  string
		want     [][]string
		rejected int64
	}{
		{"aws-docs-v3-tcp-flags.log", `SELECT vpc_id, subnet_id, instance_id, type, pkt_srcaddr, tcp_flags, bytes, packets FROM flow_logs ORDER BY line LIMIT 2`,
			[][]string{{"vpc-abcdefab012345678", "subnet-aaaaaaaa012345678", "i-01234567890123456", "IPv4", "52.213.180.42", "2", "568", "8"},
				{"vpc-abcdefab012345678", "subnet-aaaaaaaa012345678", "i-01234567890123456", "IPv4", "10.0.0.62", "18", "376", "7"}}, 0},
		{"aws-docs-v5.log", `SELECT version, region, az_id, sublocation_type, pkt_src_aws_service, pkt_dst_aws_service, traffic_path, flow_direction, tcp_flags FROM flow_logs ORDER BY line`,
			[][]string{{"5", "ap-southeast-2", "apse2-az3", "NULL", "S3", "NULL", "NULL", "ingress", "19"},
				{"5", "ap-southeast-2", "apse2-az3", "NULL", "NULL", "S3", "8", "egress", "3"}}, 0},
		// The doc's NAT example has two lines with trailing "#..." comments: not records of that format.
		{"aws-docs-nat.log", `SELECT instance_id, interface_id, srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr, version, start_time FROM flow_logs ORDER BY line LIMIT 1`,
			[][]string{{"NULL", "eni-1235b8ca123456789", "10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5", "NULL", "NULL"}}, 2},
		// The transit gateway example has a literal "..." line.
		{"aws-docs-v3-transit-gateway.log", `SELECT interface_id, instance_id, srcaddr, pkt_srcaddr, tcp_flags FROM flow_logs ORDER BY line`,
			[][]string{{"eni-33333333333333333", "i-01234567890123456", "10.20.33.164", "10.20.33.164", "3"},
				{"eni-33333333333333333", "i-01234567890123456", "10.40.2.236", "10.40.2.236", "19"},
				{"eni-11111111111111111", "NULL", "10.40.1.175", "10.20.33.164", "3"},
				{"eni-22222222222222222", "NULL", "10.40.2.236", "10.40.2.236", "19"}}, 1},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r := ingesttest.Import(t, Importer{}, td+c.file, ingest.Options{})
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if r.Rejected != c.rejected {
				t.Errorf("rejected %d, want %d", r.Rejected, c.rejected)
			}
			if got := ingesttest.Rows(t, r.DB, c.q); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got\n%v\nwant\n%v", got, c.want)
			}
		})
	}
}

// vrlCase is a test case of Vector's parse_aws_vpc_flow_log, with VRL's
// expected output: field name -> value (numbers as JSON numbers).
type vrlCase struct {
	Name string
	Args struct {
		Value  string
		Format string
	}
	Expected map[string]any
}

// TestVectorVRLCases imports every VRL example with an expected value and
// compares field by field; every must_parse line must import unrejected.
func TestVectorVRLCases(t *testing.T) {
	var cases []vrlCase
	var tc struct {
		Cases     []vrlCase
		MustParse []struct {
			Format *string
			Lines  []string
		} `json:"must_parse"`
	}
	b, err := os.ReadFile("../../testdata/vrl/vpc_flow_test_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tc); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, tc.Cases...)
	var docs struct {
		Examples []struct {
			Title  string
			Source string
			Return map[string]any
		}
	}
	b, _ = os.ReadFile("../../testdata/vrl/docs_generated_parse_aws_vpc_flow_log.json")
	if err := json.Unmarshal(b, &docs); err != nil {
		t.Fatal(err)
	}
	for _, ex := range docs.Examples {
		// source: parse_aws_vpc_flow_log!("LINE") or (\n "LINE",\n format: "FMT"\n) / "FMT"
		quoted := quotedStrings(ex.Source)
		c := vrlCase{Name: ex.Title, Expected: ex.Return}
		c.Args.Value = quoted[0]
		if len(quoted) > 1 {
			c.Args.Format = quoted[1]
		}
		cases = append(cases, c)
	}
	if len(cases) != 6 {
		t.Fatalf("%d VRL cases with expected values, want 6", len(cases))
	}
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			f := ingesttest.File(t, fmt.Sprintf("vrl-%d.log", i), c.Args.Value+"\n")
			opts := ingest.Options{FlowLogFormat: c.Args.Format}
			r := ingesttest.Import(t, Importer{}, f, opts)
			if r.Err != nil || r.Records != 1 {
				t.Fatalf("import: %v, %d records", r.Err, r.Records)
			}
			for field, want := range c.Expected {
				col, expr := vrlColumn(field)
				got := ingesttest.Rows(t, r.DB, "SELECT "+expr+" FROM flow_logs")[0][0]
				w := "NULL"
				switch v := want.(type) {
				case float64:
					w = fmt.Sprint(int64(v))
				case string:
					w = v
				}
				if got != w {
					t.Errorf("%s (%s) = %s, VRL says %s", field, col, got, w)
				}
			}
		})
	}
	for _, g := range tc.MustParse {
		format := ""
		if g.Format != nil {
			format = *g.Format
		}
		f := ingesttest.File(t, "must.log", strings.Join(g.Lines, "\n")+"\n")
		r := ingesttest.Import(t, Importer{}, f, ingest.Options{FlowLogFormat: format})
		if r.Err != nil || r.Rejected != 0 || int(r.Records) != len(g.Lines) {
			t.Errorf("format %q: %v; %d records, %d rejected of %d lines", format, r.Err, r.Records, r.Rejected, len(g.Lines))
		}
		if len(strings.Fields(format)) > 20 && strings.Contains(format, "interface_type") {
			notes := strings.Join(r.Notes, "\n")
			if !strings.Contains(notes, "field interface-type is not one l4case knows") {
				t.Errorf("v11 fields not noted: %q", notes)
			}
			v := ingesttest.Rows(t, r.DB, `SELECT extra['interface-type'], extra['next-hop-interface-id'], reject_reason, encryption_status FROM flow_logs LIMIT 1`)
			if want := []string{"nat_gateway", "eni-1111aaaa2222bbbb3", "BPA", "1"}; !reflect.DeepEqual(v[0], want) {
				t.Errorf("v11 record: %v, want %v", v[0], want)
			}
		}
	}
}

// vrlColumn maps a VRL field to the flow_logs column and an expression
// printing it as VRL does (start/end as Unix seconds).
func vrlColumn(field string) (string, string) {
	switch field {
	case "start":
		return "start_time", "epoch(start_time)::BIGINT"
	case "end":
		return "end_time", "epoch(end_time)::BIGINT"
	}
	if _, ok := byName[normName(field)]; ok {
		return field, field
	}
	return field, fmt.Sprintf("extra['%s']", normName(field))
}

func quotedStrings(s string) []string {
	var out []string
	for {
		i := strings.Index(s, `"`)
		if i < 0 {
			return out
		}
		j := strings.Index(s[i+1:], `"`)
		if j < 0 {
			return out
		}
		out = append(out, s[i+1:i+1+j])
		s = s[i+j+2:]
	}
}

func TestUnknownFieldsAreKeptAndNoted(t *testing.T) {
	f := ingesttest.File(t, "future.log", "version srcaddr dstaddr action log-status quantum-state\n"+
		"12 10.0.0.1 10.0.0.2 ACCEPT OK entangled\n12 10.0.0.2 10.0.0.1 ACCEPT OK -\n")
	r := ingesttest.Import(t, Importer{}, f, ingest.Options{})
	if r.Err != nil || r.Records != 2 {
		t.Fatalf("%v, %d records", r.Err, r.Records)
	}
	if want := []string{"field quantum-state is not one l4case knows: kept in flow_logs.extra (1)"}; !reflect.DeepEqual(r.Notes, want) {
		t.Errorf("notes %q, want %q", r.Notes, want)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT version, extra['quantum-state'] FROM flow_logs ORDER BY line`)
	if want := [][]string{{"12", "entangled"}, {"12", "-"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	notes := ingesttest.Rows(t, r.DB, `SELECT message, count FROM ingest_notes`)
	if len(notes) != 1 || notes[0][1] != "1" {
		t.Errorf("ingest_notes %v", notes)
	}
}

func TestCloudWatchExports(t *testing.T) {
	js := ingesttest.File(t, "filter-log-events.json", `{
    "events": [
        {"logStreamName": "eni-1235b8ca123456789-all", "timestamp": 1418530070000,
         "message": "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
         "ingestionTime": 1418530075000, "eventId": "1"},
        {"logStreamName": "eni-1235b8ca123456789-all", "timestamp": 1418530070000,
         "message": "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
         "ingestionTime": 1418530075000, "eventId": "2"},
        {"logStreamName": "eni-1235b8ca123456789-all", "timestamp": 1418530070000, "message": "garbage", "eventId": "3"}
    ],
    "searchedLogStreams": []
}`)
	if err := ingesttest.Detect(t, Importer{}, js); err != nil {
		t.Fatalf("Detect: %v", err)
	}
	r := ingesttest.Import(t, Importer{}, js, ingest.Options{})
	if r.Err != nil || r.Records != 2 || r.Rejected != 1 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT line, srcaddr, action FROM flow_logs ORDER BY line`)
	if want := [][]string{{"1", "172.31.16.139", "ACCEPT"}, {"2", "172.31.9.69", "REJECT"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	e := ingesttest.Rows(t, r.DB, `SELECT unit, line_or_offset, raw FROM ingest_errors`)
	if want := [][]string{{"event", "3", "garbage"}}; !reflect.DeepEqual(e, want) {
		t.Errorf("ingest_errors %v", e)
	}

	// A CloudWatch export to S3: each line is "<timestamp> <message>".
	txt := ingesttest.File(t, "000000.log", "2014-12-14T04:07:50.000Z 2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n")
	if err := ingesttest.Detect(t, Importer{}, txt); err != nil {
		t.Fatalf("Detect: %v", err)
	}
	r = ingesttest.Import(t, Importer{}, txt, ingest.Options{})
	if r.Err != nil || r.Records != 1 || !strings.Contains(r.Format, "CloudWatch export timestamps") {
		t.Fatalf("%v: %d records, format %q", r.Err, r.Records, r.Format)
	}
}

func TestHeaderlessCustomFormat(t *testing.T) {
	line := "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK"
	f := ingesttest.File(t, "AWSLogs/123456789010/vpcflowlogs/us-east-1/2019/08/26/123456789010_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20190826T1950Z_a1b2c3d4.log", line+"\n")
	if err := ingesttest.Detect(t, Importer{}, f); err != nil {
		t.Fatalf("Detect: %v", err)
	}
	// Without its format it is refused, never guessed from the field count.
	r := ingesttest.Import(t, Importer{}, f, ingest.Options{})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "header-less flow log whose records do not fit the default version-2 format (21 fields, version 2 has 14); give its format with --flow-log-format") {
		t.Fatalf("err = %v", r.Err)
	}
	// describe-flow-logs gives it by FlowLogId.
	format := "${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}"
	r = ingesttest.Import(t, Importer{}, f, ingest.Options{FlowLogFormats: map[string]string{"fl-0123456789abcdef0": format}})
	if r.Err != nil || r.Records != 1 {
		t.Fatalf("%v, %d records", r.Err, r.Records)
	}
	if !strings.Contains(r.Format, "describe-flow-logs fl-0123456789abcdef0") {
		t.Errorf("format %q", r.Format)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT vpc_id, bytes, packets, tcp_flags FROM flow_logs`)
	if want := [][]string{{"vpc-abcdefab012345678", "568", "8", "2"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
}

func TestParquet(t *testing.T) {
	db := ingesttest.DB(t)
	dir := t.TempDir()
	pq := filepath.Join(dir, "123456789010_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20190826T1950Z_hash.log.parquet")
	_, err := db.Exec(fmt.Sprintf(`COPY (SELECT * FROM (VALUES
		(2, '123456789010', 'eni-1235b8ca123456789', '172.31.16.139', '172.31.16.21', 20641, 22, 6, 20::BIGINT, 4249::BIGINT, 1418530010::BIGINT, 1418530070::BIGINT, 'ACCEPT', 'OK', 'x'),
		(2, '123456789010', 'eni-1235b8ca123456789', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1431280876, 1431280934, NULL, 'NODATA', NULL))
		t(version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, "start", "end", action, log_status, future_field))
		TO '%s' (FORMAT parquet)`, pq))
	if err != nil {
		t.Fatal(err)
	}
	if err := ingesttest.Detect(t, Importer{}, pq); err != nil {
		t.Fatalf("Detect: %v", err)
	}
	r := ingesttest.ImportInto(t, db, 1, Importer{}, pq, ingest.Options{})
	if r.Err != nil || r.Records != 2 {
		t.Fatalf("%v, %d records", r.Err, r.Records)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT line, srcaddr, dstport, start_time, action, log_status, extra['future-field'] FROM flow_logs ORDER BY line`)
	want := [][]string{{"1", "172.31.16.139", "22", "2014-12-14T04:06:50Z", "ACCEPT", "OK", "x"}, {"2", "NULL", "NULL", "2015-05-10T18:01:16Z", "NULL", "NODATA", "NULL"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestDetect(t *testing.T) {
	cases := []struct {
		name, head string
		want       string // "" accepts; otherwise the reason
	}{
		{"x.log", "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n", ""},
		{"x.log", "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n", ""},
		{"x.log", "hello world\n", "line 1 is neither a flow log header nor a version-2 record: 2 fields, version 2 has 14"},
		{"x.log", "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 DROP OK\n",
			`line 1 is neither a flow log header nor a version-2 record: action "DROP" is not ACCEPT or REJECT`},
		{"x.json", `{"SecurityGroups": []}`, `JSON but not CloudWatch Logs events: no "events" array`},
		{"x.log", "", "empty"},
	}
	for _, c := range cases {
		err := (Importer{}).Detect(c.name, []byte(c.head))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("Detect(%q) = %q, want %q", c.head, got, c.want)
		}
	}
}

func TestCancel(t *testing.T) {
	var b strings.Builder
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := 0; i < 100000; i++ {
		b.WriteString("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n")
	}
	f := ingesttest.File(t, "big.log", b.String())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := ingesttest.ImportContext(ctx, t, ingesttest.DB(t), 1, Importer{}, f, ingest.Options{})
	if err := r.Err; err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestFormatParsing(t *testing.T) {
	f, err := ParseFormat("${version} ${vpc-id} ${pkt_srcaddr} ${new-thing}", "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != "version vpc-id pkt-srcaddr new-thing" {
		t.Errorf("String = %q", got)
	}
	if got := f.Unknown(); !reflect.DeepEqual(got, []string{"new-thing"}) {
		t.Errorf("Unknown = %v", got)
	}
	for _, bad := range []string{"", "${version} ${version}", "${9lives}"} {
		if _, err := ParseFormat(bad, "test"); err == nil {
			t.Errorf("ParseFormat(%q) accepted", bad)
		}
	}
	// Every field AWS documents maps to a flow_logs column of the same name.
	var cols []string
	for _, f := range fields {
		if strings.ReplaceAll(f.name, "-", "_") != f.column && f.name != "start" && f.name != "end" {
			t.Errorf("field %s -> column %s", f.name, f.column)
		}
		cols = append(cols, f.column)
	}
	sort.Strings(cols)
	db := ingesttest.DB(t)
	for _, c := range cols {
		if _, err := db.Exec("SELECT " + c + " FROM flow_logs"); err != nil {
			t.Errorf("column %s: %v", c, err)
		}
	}
}

// FuzzRecord feeds a header (or nothing, for the default format) and a
// record to the parser: it must not panic, and a record it accepts has one
// token per field with every integer field in range.
func FuzzRecord(f *testing.F) {
	for _, name := range []string{"aws-docs-v2-header.log", "aws-docs-v2-broken.log", "aws-docs-v3-tcp-flags.log", "aws-docs-v5.log", "aws-docs-nat.log"} {
		b, err := os.ReadFile(td + name)
		if err != nil {
			f.Fatal(err)
		}
		ls := strings.Split(strings.TrimSpace(string(b)), "\n")
		for _, l := range ls[1:] {
			f.Add(ls[0], l)
		}
	}
	f.Add("", "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK")
	f.Fuzz(func(t *testing.T, header, line string) {
		p := &parser{}
		fm, ok := parseHeader([]byte(header))
		if !ok {
			fm = defaultFormat
		}
		if err := p.setFormat(fm); err != nil {
			return
		}
		if reason := p.parse([]byte(line)); reason != "" {
			return
		}
		if len(p.toks) != len(fm.Names) {
			t.Fatalf("accepted %d tokens for %d fields", len(p.toks), len(fm.Names))
		}
		for j, k := range fm.known {
			if k < 0 || p.null[j] {
				continue
			}
			if fields[k].typ == tTime && (p.ints[j] < 0 || p.ints[j] > 1<<36) {
				t.Fatalf("accepted time %d", p.ints[j])
			}
		}
	})
}
