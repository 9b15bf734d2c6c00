package query

import (
	"database/sql"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The access-log patterns of the Athena tables read the real sample lines
// of their type, one capture group per column, and no line of another type.
func TestAthenaPatterns(t *testing.T) {
	lines := func(f string) []string {
		b, err := os.ReadFile("../testdata/elb/" + f)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	}
	types := []struct {
		kind, cols, regex, file string
		first                   map[string]string
	}{
		{"classic", classicCols, classicRegex, "clb-access-log-examples.log",
			map[string]string{"client_ip": "192.168.131.39", "client_port": "2817", "backend_ip": "10.0.0.1", "elb_status_code": "200", "request": "GET http://www.example.com:80/ HTTP/1.1", "ssl_cipher": "-"}},
		{"alb", albCols, albRegex, "alb-access-log-examples.log",
			map[string]string{"type": "http", "client_port": "2817", "backend_port": "80", "trace_id": "Root=1-58337262-36d228ad5d99923122bbe354", "actions_executed": "forward", "target_port_list": "10.0.0.1:80"}},
		{"nlb", nlbCols, nlbRegex, "nlb-access-log-examples.log",
			map[string]string{"type": "tls", "listener": "g3d4b5e8bb8464cd", "client_ip": "72.21.218.154", "backend_port": "443", "tls_protocol_version": "tlsv12"}},
	}
	for _, ty := range types {
		re := regexp.MustCompile("^" + ty.regex)
		var cols []string
		for _, c := range strings.Split(ty.cols, ", ") {
			cols = append(cols, strings.Trim(strings.Fields(c)[0], "`"))
		}
		if re.NumSubexp() != len(cols) {
			t.Errorf("%s: %d groups for %d columns", ty.kind, re.NumSubexp(), len(cols))
		}
		for i, l := range lines(ty.file) {
			m := re.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("%s line %d does not match: %s", ty.kind, i+1, l)
				continue
			}
			if i == 0 {
				for col, want := range ty.first {
					for j, c := range cols {
						if c == col && m[j+1] != want {
							t.Errorf("%s line 1: %s = %q, want %q", ty.kind, col, m[j+1], want)
						}
					}
				}
			}
		}
		for _, other := range types {
			if other.kind == ty.kind {
				continue
			}
			for _, l := range lines(other.file) {
				if re.MatchString(l) && !(ty.kind == "nlb") {
					t.Errorf("the %s pattern matches a %s line: %s", ty.kind, other.kind, l)
				}
			}
		}
	}
	// A Classic line whose request reached no backend.
	if m := regexp.MustCompile("^" + classicRegex).FindStringSubmatch(`2021-04-05T06:31:00.000000Z a17a 60.1.2.3:5000 - -1 -1 -1 504 0 0 0 "- - - " "-" - -`); m == nil || m[5] != "" || m[10] != "504" {
		t.Errorf("no backend: %q", m)
	}
}

func TestAthenaDDL(t *testing.T) {
	stmts, err := AthenaDDL(AthenaSources{FlowLogs: []string{"s3://logs/prod"}, ELBLogs: []string{"s3://elb-logs/AWSLogs/"},
		Accounts: []string{"123456789012"}, Regions: []string{"ap-northeast-1"}, Since: time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC),
		FlowFormat: "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${pkt-srcaddr}"})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(stmts, ";\n")
	for _, want := range []string{
		"CREATE DATABASE IF NOT EXISTS l4case",
		"CREATE EXTERNAL TABLE IF NOT EXISTS l4case.vpc_flow_logs_raw_1 (\n  `version` int,",
		"`tcp_flags` int,\n  `pkt_srcaddr` string\n)",
		`LOCATION 's3://logs/prod/AWSLogs/'`,
		`"storage.location.template"="s3://logs/prod/AWSLogs/${account}/vpcflowlogs/${region}/${day}/"`,
		`"projection.day.range"="2021/04/01,NOW"`, `"skip.header.line.count"="1"`,
		`from_unixtime("start") AS start_time`, `nullif("pkt_srcaddr", '-') AS pkt_srcaddr`, `from_iso8601_timestamp("time") AS time`,
		// Columns the pairing reads that this format has not.
		"CAST(NULL AS varchar) AS pkt_dstaddr", "CAST(NULL AS integer) AS evidence_id", "CAST(NULL AS bigint) AS line",
		"CREATE OR REPLACE VIEW l4case.flows AS SELECT * FROM l4case.flow_logs",
		"l4case.elb_classic_raw_1", "l4case.elb_alb_raw_1", "l4case.elb_nlb_raw_1",
		`"storage.location.template"="s3://elb-logs/AWSLogs/${account}/elasticloadbalancing/${region}/${day}/"`,
		"CREATE OR REPLACE VIEW l4case.elb_logs AS",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("DDL lacks %q", want)
		}
	}
	if _, err := AthenaDDL(AthenaSources{FlowLogs: []string{"s3://logs"}}); err == nil {
		t.Error("no account or region: no error")
	}
	// The destination options a flow log can be created with: the folders
	// AWS writes (collect/layout.go reads the same) and the file format.
	for _, tc := range []struct {
		parquet, hive, hourly bool
		want                  []string
		not                   []string
	}{
		{false, false, true, []string{`"storage.location.template"="s3://logs/AWSLogs/${account}/vpcflowlogs/${region}/${day}/${hour}/"`,
			"PARTITIONED BY (`account` string, `region` string, `day` string, `hour` string)", `"projection.hour.range"="0,23"`, `"projection.hour.digits"="2"`,
			`"skip.header.line.count"="1"`, "FIELDS TERMINATED BY ' '"}, []string{"PARQUET"}},
		{false, true, false, []string{`"storage.location.template"="s3://logs/AWSLogs/aws-account-id=${account}/aws-service=vpcflowlogs/aws-region=${region}/${day}/"`,
			`"projection.day.format"="'year='yyyy'/month='MM'/day='dd"`, `"projection.day.range"="year=2021/month=04/day=01,NOW"`, `"skip.header.line.count"="1"`}, []string{"hour"}},
		{true, true, true, []string{"STORED AS PARQUET", `aws-region=${region}/${day}/hour=${hour}/"`, `"projection.day.range"="year=2021/month=04/day=01,NOW"`},
			[]string{"skip.header", "FIELDS TERMINATED"}},
		{true, false, false, []string{"STORED AS PARQUET", `"storage.location.template"="s3://logs/AWSLogs/${account}/vpcflowlogs/${region}/${day}/"`,
			`"projection.day.format"="yyyy/MM/dd"`}, []string{"hour", "skip.header"}},
	} {
		p, err := AthenaDDL(AthenaSources{FlowLogs: []string{"s3://logs"}, Parquet: tc.parquet, Hive: tc.hive, Hourly: tc.hourly,
			Accounts: []string{"1"}, Regions: []string{"r"}, Since: time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(p[1], w) {
				t.Errorf("parquet %v, hive %v, hourly %v: lacks %s\n%s", tc.parquet, tc.hive, tc.hourly, w, p[1])
			}
		}
		for _, w := range tc.not {
			if strings.Contains(p[1], w) {
				t.Errorf("parquet %v, hive %v, hourly %v: has %s\n%s", tc.parquet, tc.hive, tc.hourly, w, p[1])
			}
		}
	}
}

// A window sets a view's from and to, and reads only its day partitions.
func TestAthenaFormWindow(t *testing.T) {
	v, err := LookupView("top_talkers")
	if err != nil {
		t.Fatal(err)
	}
	since, until := time.Date(2021, 4, 5, 6, 30, 0, 0, time.UTC), time.Date(2021, 4, 5, 23, 30, 0, 0, time.UTC)
	got, err := v.AthenaFormWindow(map[string]string{"to": "2021-04-05 07:00"}, since, until, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"FROM (SELECT * FROM flows WHERE day >= '2021/04/05' AND day <= '2021/04/06')",
		"(end_time >= CAST('2021-04-05 06:30:00 UTC' AS timestamp with time zone))",
		"(start_time < CAST('2021-04-05 07:00:00 UTC' AS timestamp with time zone))", // the given to wins
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	e, _ := LookupView("elb_clients") // no from or to: the partitions only
	got, err = e.AthenaFormWindow(nil, since, time.Time{}, nil)
	if err != nil || !strings.Contains(got, "FROM (SELECT * FROM elb_logs WHERE day >= '2021/04/05')") || strings.Contains(got, "06:30:00") {
		t.Errorf("%v\n%s", err, got)
	}
}

func TestWithEndpoints(t *testing.T) {
	got := withEndpoints("WITH a AS (SELECT 1) SELECT * FROM a JOIN endpoints e ON true", []Endpoint{{IP: "10.0.0.1", Kind: "elb", Name: "it's"}, {IP: "10.0.0.2", Kind: "node", NoName: true}})
	want := "WITH endpoints(ip, kind, name) AS (VALUES ('10.0.0.1', 'elb', 'it''s'),\n    ('10.0.0.2', 'node', CAST(NULL AS varchar))),\na AS (SELECT 1) SELECT * FROM a JOIN endpoints e ON true"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := withEndpoints("SELECT * FROM flows LEFT JOIN endpoints e ON true", nil); !strings.HasPrefix(got, "WITH endpoints AS (SELECT CAST(NULL AS varchar) AS ip") || !strings.Contains(got, "WHERE false)\nSELECT") {
		t.Errorf("no endpoints: %s", got)
	}
}

// The Athena form of quantile_cont is exact and interpolates as DuckDB
// does: on DuckDB it gives quantile_cont's value to the last bit, for
// empty, single and spread groups, with NULLs among the values.
func TestExactQuantile(t *testing.T) {
	db, _ := newDB(t)
	groups := `(VALUES (1, 3.0), (1, NULL), (1, 1.0), (1, 10.0), (1, 2.5), (1, 7.25), (1, 100.0), (1, 0.001),
		(2, 42.0), (3, NULL), (4, 1.0), (4, 2.0)) AS v(g, y), LATERAL (SELECT CAST(y AS double) AS x) AS t`
	for _, p := range []string{"0", "0.25", "0.5", "0.9", "0.95", "0.99", "1"} {
		q := "SELECT g, quantile_cont(x, " + p + ") AS want, " + exactQuantile("x, "+p) + " AS got FROM " + groups + " GROUP BY g ORDER BY g"
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		n := 0
		for rows.Next() {
			var g int
			var want, got sql.NullFloat64
			if err := rows.Scan(&g, &want, &got); err != nil {
				t.Fatal(err)
			}
			if want != got {
				t.Errorf("p=%s group %d: quantile_cont %v, the Athena form %v", p, g, want, got)
			}
			n++
		}
		rows.Close()
		if n != 4 {
			t.Errorf("p=%s: %d groups", p, n)
		}
	}
	if got := exactQuantile("x"); !strings.HasPrefix(got, "quantile_cont (") {
		t.Errorf("one argument: %s", got)
	}
}

// The Athena form of a CIDR block's range is the case's for IPv4 blocks,
// without the case's IPv4-mapped prefix (::ffff:0:0/96, 0xffff << 32), and
// matches nothing for IPv6 ones (Athena has no 128-bit integers).
func TestCIDRRangeIPv4(t *testing.T) {
	db, _ := newDB(t)
	for _, c := range []string{"0.0.0.0/0", "10.0.0.0/8", "10.0.134.187/32", "172.31.16.0/20", "192.168.1.77/24", "203.0.113.12", "255.255.255.255/32"} {
		var want, got, wantHi, gotHi sql.NullString
		q := "SELECT CAST(cidr_lo(c) AS VARCHAR), CAST(" + cidrLo4("c") + " + 281470681743360 AS VARCHAR), CAST(cidr_hi(c) AS VARCHAR), CAST((" + cidrLo4("c") + " + CAST(power(2, 32 - " + cidrLen4("c") + ") AS bigint) - 1) + 281470681743360 AS VARCHAR) FROM (SELECT '" + c + "' AS c)"
		if err := db.QueryRow(q).Scan(&want, &got, &wantHi, &gotHi); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if want != got || wantHi != gotHi || !got.Valid {
			t.Errorf("%s: lo %v/%v, hi %v/%v (case/Athena)", c, want, got, wantHi, gotHi)
		}
	}
	var v6 sql.NullInt64
	if err := db.QueryRow("SELECT " + cidrLo4("'2001:db8::/32'")).Scan(&v6); err != nil || v6.Valid {
		t.Errorf("IPv6 block: %v %v", v6, err)
	}
	var ip sql.NullInt64
	if err := db.QueryRow("SELECT " + ip4("'10.0.134.187'")).Scan(&ip); err != nil || ip.Int64 != 10<<24|134<<8|187 {
		t.Errorf("ip4: %v %v", ip, err)
	}
}
