package query

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Athena: the case's flow-log and ELB tables, and the saved views that read
// only them, over the S3 data an account keeps for months. The tables are
// external tables on the logs as AWS delivers them plus views giving them
// the case's column names; a view's Athena form is its SQL with the few
// DuckDB-only forms it uses rewritten into what Trino also accepts, so
// that the same text runs on both engines (and is tested on DuckDB).

// AthenaSources say where the logs are and how the flow logs are written.
type AthenaSources struct {
	Database   string
	FlowLogs   []string // s3://BUCKET/PREFIX/ above AWSLogs/
	ELBLogs    []string
	FlowFormat string // the flow log's ${field} format (default: the default format)
	// How the flow logs are delivered to S3, as the flow log's destination
	// options say: FileFormat (plain-text or Parquet), HiveCompatiblePartitions
	// (aws-region=R/year=YYYY/month=MM/day=DD/ instead of R/YYYY/MM/DD/)
	// and PerHourPartition (an hour folder below the day's).
	Parquet, Hive, Hourly bool
	Accounts              []string
	Regions               []string
	Since                 time.Time // first day the partition projection covers
}

// defaultFlowFormat is the fields of a flow log created without a format.
const defaultFlowFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

// flowFieldTypes are the Athena types of the flow-log fields, as AWS's
// documentation declares them; fields not listed are strings.
var flowFieldTypes = map[string]string{
	"version": "int", "srcport": "int", "dstport": "int", "protocol": "bigint", "packets": "bigint", "bytes": "bigint",
	"start": "bigint", "end": "bigint", "tcp-flags": "int", "traffic-path": "int",
}

var flowFieldRE = regexp.MustCompile(`\$\{([a-z0-9-]+)\}`)

// AthenaDDL is the statements that make the logs queryable as the case's
// flow_logs, flows and elb_logs: external tables with partition projection
// (no crawler, no ALTER TABLE ADD PARTITION) and views over them.
func AthenaDDL(s AthenaSources) ([]string, error) {
	if len(s.FlowLogs)+len(s.ELBLogs) == 0 {
		return nil, fmt.Errorf("give --flow-logs or --elb-logs: the S3 locations above AWSLogs/")
	}
	if len(s.Accounts) == 0 || len(s.Regions) == 0 {
		return nil, fmt.Errorf("give --account and --region: partition projection enumerates them")
	}
	db := s.Database
	if db == "" {
		db = "l4case"
	}
	since := s.Since
	if since.IsZero() {
		since = time.Now().UTC().AddDate(0, -3, 0)
	}
	out := []string{"CREATE DATABASE IF NOT EXISTS " + db}
	var flowTables, elbTables []string
	for i, u := range s.FlowLogs {
		loc, err := athenaLocation(u)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("%s.vpc_flow_logs_raw_%d", db, i+1)
		ddl, cols, err := flowDDL(name, loc, s, since)
		if err != nil {
			return nil, err
		}
		out = append(out, ddl)
		flowTables = append(flowTables, flowSelect(name, cols))
	}
	for i, u := range s.ELBLogs {
		loc, err := athenaLocation(u)
		if err != nil {
			return nil, err
		}
		for _, t := range []struct{ kind, cols, regex string }{
			{"classic", classicCols, classicRegex}, {"alb", albCols, albRegex}, {"nlb", nlbCols, nlbRegex},
		} {
			name := fmt.Sprintf("%s.elb_%s_raw_%d", db, t.kind, i+1)
			out = append(out, elbDDL(name, t.cols, t.regex, loc, s, since))
			elbTables = append(elbTables, elbSelect(t.kind, name))
		}
	}
	if len(flowTables) > 0 {
		out = append(out, "CREATE OR REPLACE VIEW "+db+".flow_logs AS\n"+strings.Join(flowTables, "\nUNION ALL\n"),
			"CREATE OR REPLACE VIEW "+db+".flows AS SELECT * FROM "+db+".flow_logs")
	}
	if len(elbTables) > 0 {
		out = append(out, "CREATE OR REPLACE VIEW "+db+".elb_logs AS\n"+strings.Join(elbTables, "\nUNION ALL\n"))
	}
	return out, nil
}

// athenaLocation is an S3 location ending in AWSLogs/.
func athenaLocation(u string) (string, error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok || rest == "" || strings.HasPrefix(rest, "/") {
		return "", fmt.Errorf("%q: want s3://BUCKET[/PREFIX]", u)
	}
	loc := "s3://" + strings.TrimSuffix(rest, "/") + "/"
	if !strings.HasSuffix(loc, "/AWSLogs/") {
		loc += "AWSLogs/"
	}
	return loc, nil
}

// projection is the partition projection of the account and region
// every table of the logs has.
func projection(s AthenaSources) []string {
	return []string{
		`"projection.enabled"="true"`,
		`"projection.account.type"="enum"`, `"projection.account.values"="` + strings.Join(s.Accounts, ",") + `"`,
		`"projection.region.type"="enum"`, `"projection.region.values"="` + strings.Join(s.Regions, ",") + `"`,
	}
}

// flowDDL is the external table of one flow-log location: text with its
// header line skipped, or Parquet in the Hive-compatible hourly layout.
func flowDDL(name, loc string, s AthenaSources, since time.Time) (string, []string, error) {
	format := s.FlowFormat
	if format == "" {
		format = defaultFlowFormat
	}
	var cols, decls []string
	for _, m := range flowFieldRE.FindAllStringSubmatch(format, -1) {
		typ := flowFieldTypes[m[1]]
		if typ == "" {
			typ = "string"
		}
		col := strings.ReplaceAll(m[1], "-", "_")
		cols = append(cols, col)
		decls = append(decls, fmt.Sprintf("  `%s` %s", col, typ))
	}
	if len(cols) == 0 {
		return "", nil, fmt.Errorf("flow log format %q names no ${field}", format)
	}
	props := projection(s)
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n%s\n)\n", name, strings.Join(decls, ",\n"))
	parts := "`account` string, `region` string, `day` string"
	if s.Hourly {
		parts += ", `hour` string"
	}
	fmt.Fprintf(&b, "PARTITIONED BY (%s)\n", parts)
	if s.Parquet {
		b.WriteString("STORED AS PARQUET\n")
	} else {
		b.WriteString("ROW FORMAT DELIMITED FIELDS TERMINATED BY ' '\n")
		props = append([]string{`"skip.header.line.count"="1"`}, props...)
	}
	// The folders AWS writes, by the destination options.
	dayFormat, dayStart := "yyyy/MM/dd", since.Format("2006/01/02")
	template := loc + "${account}/vpcflowlogs/${region}/${day}/"
	hour := "${hour}/"
	if s.Hive {
		dayFormat, dayStart = "'year='yyyy'/month='MM'/day='dd", since.Format("year=2006/month=01/day=02")
		template = loc + "aws-account-id=${account}/aws-service=vpcflowlogs/aws-region=${region}/${day}/"
		hour = "hour=${hour}/"
	}
	props = append(props,
		`"projection.day.type"="date"`, `"projection.day.format"="`+dayFormat+`"`, `"projection.day.range"="`+dayStart+`,NOW"`,
		`"projection.day.interval"="1"`, `"projection.day.interval.unit"="DAYS"`)
	if s.Hourly {
		template += hour
		props = append(props, `"projection.hour.type"="integer"`, `"projection.hour.range"="0,23"`, `"projection.hour.digits"="2"`)
	}
	props = append(props, `"storage.location.template"="`+template+`"`)
	fmt.Fprintf(&b, "LOCATION '%s'\nTBLPROPERTIES (\n  %s\n)", loc, strings.Join(props, ",\n  "))
	return b.String(), cols, nil
}

// flowSelect gives a raw flow-log table the case's column names (views
// are Trino SQL: identifiers in double quotes, not the DDL's backticks): start and
// end as times; "-" (no data) as NULL is the text SerDe's own doing only
// for numbers, so strings keep it.
func flowSelect(table string, cols []string) string {
	var sel []string
	for _, c := range cols {
		switch c {
		case "start":
			sel = append(sel, `from_unixtime("start") AS start_time`)
		case "end":
			sel = append(sel, `from_unixtime("end") AS end_time`)
		default:
			sel = append(sel, fmt.Sprintf(`nullif("%s", '-') AS %s`, c, c))
			if flowFieldTypes[strings.ReplaceAll(c, "_", "-")] != "" {
				sel[len(sel)-1] = fmt.Sprintf(`"%s" AS %s`, c, c)
			}
		}
	}
	// Columns the case always has, NULL where the flow log's format has
	// not the field.
	has := map[string]bool{}
	for _, c := range cols {
		has[c] = true
	}
	for _, c := range []struct{ name, typ string }{
		{"reject_reason", "varchar"}, {"pkt_srcaddr", "varchar"}, {"pkt_dstaddr", "varchar"},
		// The case's reference of a record; Athena's lines have none.
		{"evidence_id", "integer"}, {"line", "bigint"},
	} {
		if !has[c.name] {
			sel = append(sel, "CAST(NULL AS "+c.typ+") AS "+c.name)
		}
	}
	return "SELECT " + strings.Join(sel, ", ") + ", day\nFROM " + table
}

// The access logs' RegexSerDe patterns, one capture group per column in
// order; a backend of "-" (none reached) leaves backend_ip and _port NULL.
const (
	classicCols = "`time` string, elb string, client_ip string, client_port int, backend_ip string, backend_port int, " +
		"request_processing_time double, backend_processing_time double, response_processing_time double, " +
		"elb_status_code string, backend_status_code string, received_bytes bigint, sent_bytes bigint, " +
		"request string, user_agent string, ssl_cipher string, ssl_protocol string"
	classicRegex = `([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) (?:([^ ]*):([0-9]*)|-) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (-|[0-9]*) (-|[0-9]*) ([-0-9]*) ([-0-9]*) "([^"]*)" "([^"]*)" ([^ ]*) ([^ ]*)$`

	albCols = "type string, `time` string, elb string, client_ip string, client_port int, backend_ip string, backend_port int, " +
		"request_processing_time double, backend_processing_time double, response_processing_time double, " +
		"elb_status_code string, backend_status_code string, received_bytes bigint, sent_bytes bigint, " +
		"request string, user_agent string, ssl_cipher string, ssl_protocol string, target_group_arn string, trace_id string, " +
		"domain_name string, chosen_cert_arn string, matched_rule_priority string, request_creation_time string, " +
		"actions_executed string, redirect_url string, error_reason string, target_port_list string, target_status_code_list string, " +
		"classification string, classification_reason string, conn_trace_id string, extra string"
	albRegex = `([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) (?:([^ ]*):([0-9]*)|-) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (-|[0-9]*) (-|[0-9]*) ([-0-9]*) ([-0-9]*) "([^"]*)" "([^"]*)" ([^ ]*) ([^ ]*) ([^ ]*) "([^"]*)" "([^"]*)" "([^"]*)" ([-.0-9]*) ([^ ]*) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"(?: "([^"]*)" "([^"]*)")?(?: ([^ ]*))?(.*)$`

	nlbCols = "type string, version string, `time` string, elb string, listener string, client_ip string, client_port int, " +
		"backend_ip string, backend_port int, connection_time double, tls_handshake_time double, received_bytes bigint, sent_bytes bigint, " +
		"incoming_tls_alert string, chosen_cert_arn string, chosen_cert_serial string, tls_cipher string, tls_protocol_version string, " +
		"tls_named_group string, domain_name string, alpn_fe_protocol string, alpn_be_protocol string, alpn_client_preference_list string, " +
		"tls_connection_creation_time string, extra string"
	nlbRegex = `([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*):([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-0-9]*) ([-0-9]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|[^ ]*)(?: ([^ ]*))?(.*)$`
)

// elbDDL is one load balancer type's table on an ELB location: every
// type's files share the folders, and a line of another type does not
// match the pattern (its columns are NULL; the view drops those rows).
func elbDDL(name, cols, regex, loc string, s AthenaSources, since time.Time) string {
	props := append(projection(s),
		`"projection.day.type"="date"`, `"projection.day.format"="yyyy/MM/dd"`, `"projection.day.range"="`+since.Format("2006/01/02")+`,NOW"`,
		`"projection.day.interval"="1"`, `"projection.day.interval.unit"="DAYS"`,
		`"storage.location.template"="`+loc+`${account}/elasticloadbalancing/${region}/${day}/"`,
	)
	return fmt.Sprintf("CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n  %s\n)\nPARTITIONED BY (`account` string, `region` string, `day` string)\n"+
		"ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'\nWITH SERDEPROPERTIES ('serialization.format' = '1', 'input.regex' = '%s')\n"+
		"LOCATION '%s'\nTBLPROPERTIES (\n  %s\n)", name, cols, strings.ReplaceAll(regex, `'`, `\'`), loc, strings.Join(props, ",\n  "))
}

// elbSelect maps one type's raw table onto the case's elb_logs columns:
// -1 processing times as NULL with processing_time_missing, "-" status
// codes as NULL.
func elbSelect(kind, table string) string {
	common := `from_iso8601_timestamp("time") AS time, '` + kind + "' AS lb_type, elb, client_ip, client_port, backend_ip, backend_port, "
	switch kind {
	case "nlb":
		return "SELECT " + common + "CAST(NULL AS double) AS request_processing_time, CAST(NULL AS double) AS backend_processing_time, " +
			"CAST(NULL AS double) AS response_processing_time, false AS processing_time_missing, CAST(NULL AS integer) AS elb_status_code, " +
			"CAST(NULL AS integer) AS backend_status_code, received_bytes, sent_bytes, CAST(NULL AS varchar) AS request, " +
			"CAST(NULL AS varchar) AS user_agent, CAST(NULL AS varchar) AS error_reason, CAST(NULL AS varchar) AS trace_id, day\nFROM " + table +
			"\nWHERE type IN ('tls', 'tcp', 'udp')"
	}
	errorReason, traceID, where := "CAST(NULL AS varchar)", "CAST(NULL AS varchar)", "\nWHERE elb IS NOT NULL AND \"time\" LIKE '____-__-__T%'"
	if kind == "alb" {
		errorReason, traceID = "nullif(error_reason, '-')", "nullif(trace_id, '-')"
		where = "\nWHERE type IN ('http', 'https', 'h2', 'grpcs', 'ws', 'wss')"
	}
	return "SELECT " + common +
		"nullif(request_processing_time, -1) AS request_processing_time, nullif(backend_processing_time, -1) AS backend_processing_time, " +
		"nullif(response_processing_time, -1) AS response_processing_time, " +
		"(request_processing_time = -1 OR backend_processing_time = -1 OR response_processing_time = -1) AS processing_time_missing, " +
		"TRY_CAST(elb_status_code AS integer) AS elb_status_code, TRY_CAST(backend_status_code AS integer) AS backend_status_code, " +
		"received_bytes, sent_bytes, request, nullif(user_agent, '-') AS user_agent, " + errorReason + " AS error_reason, " + traceID + " AS trace_id, day\nFROM " + table + where
}

// caseOnly says what the tables the Athena views cannot read hold.
var caseOnly = map[string]string{
	"tcp_conversations":  "the captures' TCP conversations: packet captures are not in S3",
	"http_messages":      "the HTTP messages of the captures",
	"proxy_headers":      "the PROXY headers of the captures",
	"drops":              "the OpFlex drop logs",
	"request_path_rows":  "every request joined at import across the captures, ELB logs and flow logs",
	"flow_conversations": "both directions of each flow paired at import against the ENI snapshot",
	"enis":               "the EC2 snapshot's network interfaces",
	"network_acls":       "the EC2 snapshot's network ACLs",
	"nacl_entries":       "the EC2 snapshot's network ACL rules",
	"sg_rules":           "the EC2 snapshot's security group rules",
	"evidence":           "the case's evidence files",
}

// athenaTables are what Athena holds of a case: the logs.
var athenaTables = map[string]bool{"flow_logs": true, "flows": true, "elb_logs": true}

var (
	fromRE      = regexp.MustCompile(`(?i)(?:^|[^$a-z0-9_])(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)`)
	cteRE       = regexp.MustCompile(`(?i)(?:\bWITH|,)\s*([a-z_][a-z0-9_]*)\s+AS\s*(?:NOT\s+)?(?:MATERIALIZED\s*)?\(`)
	duckOnlyRE  = regexp.MustCompile(`(?i)(::|\b(?:list|epoch|quantile_cont|arg_min|arg_max|record_refs|in_cidr|cidr_lo|cidr_hi|list_[a-z_]+|array_to_string|string_agg|http_header|http_headers|time_bucket)\s*\(|\bQUALIFY\b|\bMATERIALIZED\b|\bGROUP BY ALL\b)`)
	limitRE     = regexp.MustCompile(`(?i)\bLIMIT\s+coalesce\(\s*(CAST\(NULL AS integer\)|[0-9]+)\s*,\s*([0-9]+)\s*\)`)
	commentRE   = regexp.MustCompile(`(?m)^\s*--.*$`)
	endpointsRE = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+endpoints\b`)
	groupAllRE  = regexp.MustCompile(`(?i)\bGROUP BY ALL\b`)
	timeBucket  = regexp.MustCompile(`(?i)time_bucket\(\s*INTERVAL\s+1\s+(MINUTE|HOUR|DAY|SECOND)\s*,`)
	anyValueRE  = regexp.MustCompile(`(?i)\bany_value\(`)
	// unnest( in a select list is DuckDB's; FROM/JOIN UNNEST(…) AS t(x) both run.
	unnestRE    = regexp.MustCompile(`(?i)(\b(?:FROM|JOIN)\s+)?\bunnest\s*\(`)
	aggregateRE = regexp.MustCompile(`(?i)\b(count|sum|min|max|avg|arbitrary|any_value|bool_or|bool_and)\s*\(`)
)

// AthenaForm is the view's SQL for Athena with its parameters given: a
// filter on a parameter not given is dropped, the others take Trino
// literals, and GROUP BY ALL, any_value, time_bucket by a unit, LIMIT
// coalesce(…) and the ip_proto_name macro are rewritten into SQL both
// engines run alike. A view that reads what only the case has (the
// inventory, the captures, the derived conversations) or that needs
// another DuckDB-only form is refused, naming it.
func (v View) AthenaForm(args map[string]string) (string, error) {
	return v.athenaForm(args, nil)
}

// Endpoint is what the views read of an address from the case's
// inventory: Athena has no inventory, so a case's is written into the SQL.
type Endpoint struct {
	IP, Kind, Name string
	NoName         bool // name is NULL
}

// ENIAddr is one private address of an ENI in the case's EC2 snapshot.
type ENIAddr struct{ InterfaceID, IP string }

// AthenaCase is what a case writes into a view's Athena form, as tables of
// values: what Athena has not of the case. The inventory's names of
// addresses (endpoints), and the ENI snapshot's addresses, which tell the
// pairing of flow records into conversations which side is the ENI's.
type AthenaCase struct {
	Endpoints []Endpoint
	ENIAddrs  []ENIAddr
	// The EC2 snapshot's tables the diagnosis reads, as tables of values
	// in the columns it reads (see snapshotTables).
	Snapshot map[string][][]string
}

// AthenaFormWith is AthenaForm with the case's facts in the SQL: the views
// that label addresses (endpoints), and those that read the conversations
// the case pairs at import (flow_conversations), which on Athena pair the
// flow records themselves (see athenaPairing).
func (v View) AthenaFormWith(args map[string]string, ac *AthenaCase) (string, error) {
	if ac == nil {
		ac = &AthenaCase{}
	}
	return v.athenaForm(args, ac)
}

func (v View) athenaForm(args map[string]string, ac *AthenaCase) (string, error) {
	if _, err := v.Render(args); err != nil { // the same checks of names and values
		return "", err
	}
	ctes := map[string]bool{}
	if ac != nil {
		ctes["endpoints"] = true
		ctes["flow_conversations"] = true
		for _, t := range snapshotTables {
			ctes[t.name] = true
		}
	}
	bare := commentRE.ReplaceAllString(v.SQL, "")
	for _, m := range cteRE.FindAllStringSubmatch(bare, -1) {
		ctes[strings.ToLower(m[1])] = true
	}
	for _, m := range fromRE.FindAllStringSubmatch(bare, -1) {
		t := strings.ToLower(m[1])
		if t == "unnest" {
			continue // FROM/JOIN UNNEST(list): see unnestRE
		}
		if t == "endpoints" && !ctes[t] {
			return "", fmt.Errorf("view %s reads endpoints (what the case's inventory names each address): give the case (athena view --case, athena run) and they go into the SQL", v.Name)
		}
		if t == "flow_conversations" && !ctes[t] {
			return "", fmt.Errorf("view %s reads flow_conversations (%s): give the case (athena view --case, athena run) and its ENI addresses go into the SQL, which pairs the records on Athena", v.Name, caseOnly[t])
		}
		if !athenaTables[t] && !ctes[t] {
			what := caseOnly[t]
			if what == "" {
				what = "a table of the case"
			}
			return "", fmt.Errorf("view %s reads %s (%s), which only the case has: Athena holds the flow and ELB logs", v.Name, t, what)
		}
	}
	sqlText := commentRE.ReplaceAllString(v.SQL, "") // comment lines, which may hold commas
	lits := map[string]string{}
	for _, p := range v.Params {
		val := args[p.Name]
		if val == "" {
			sqlText = dropUnsetFilter(sqlText, p.Name)
			lits[p.Name] = "CAST(NULL AS " + trinoType(p.Type) + ")"
			continue
		}
		lit, err := trinoLiteral(p.Type, val)
		if err != nil {
			return "", fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		sqlText = strings.ReplaceAll(sqlText, "($"+p.Name+" IS NULL OR ", "(")
		lits[p.Name] = lit
	}
	// The placeholders as Render finds them.
	sqlText = placeRE.ReplaceAllStringFunc(sqlText, func(m string) string { return lits[m[1:]] })
	sqlText = limitRE.ReplaceAllStringFunc(sqlText, func(s string) string {
		m := limitRE.FindStringSubmatch(s)
		if !strings.HasPrefix(m[1], "CAST") {
			return "LIMIT " + m[1]
		}
		return "LIMIT " + m[2]
	})
	sqlText = anyValueRE.ReplaceAllString(sqlText, "arbitrary(")
	sqlText = timeBucket.ReplaceAllStringFunc(sqlText, func(s string) string {
		return "date_trunc('" + strings.ToLower(timeBucket.FindStringSubmatch(s)[1]) + "',"
	})
	var err error
	if sqlText, err = inlineMacro(sqlText, "ip_proto_name", func(arg string) string {
		return "CASE " + arg + " WHEN 1 THEN 'ICMP' WHEN 6 THEN 'TCP' WHEN 17 THEN 'UDP' WHEN 58 THEN 'ICMPv6' WHEN 47 THEN 'GRE' WHEN 50 THEN 'ESP' WHEN 132 THEN 'SCTP' ELSE CAST(" + arg + " AS VARCHAR) END"
	}); err != nil {
		return "", err
	}
	pairs := ac != nil && flowConvRE.MatchString(sqlText)
	if ac != nil {
		if sqlText, err = inlineMacro(sqlText, "record_refs", recordRefs); err != nil {
			return "", err
		}
		// CIDR blocks as number ranges: IPv4 only on Athena (no 128-bit
		// integers there), an IPv6 block matching nothing.
		if sqlText, err = inlineMacro(sqlText, "cidr_lo", func(c string) string { return cidrLo4(c) }); err != nil {
			return "", err
		}
		if sqlText, err = inlineMacro(sqlText, "cidr_hi", func(c string) string {
			return "(" + cidrLo4(c) + " + CAST(power(2, 32 - " + cidrLen4(c) + ") AS bigint) - 1)"
		}); err != nil {
			return "", err
		}
	}
	if sqlText, err = inlineMacro(sqlText, "quantile_cont", exactQuantile); err != nil {
		return "", err
	}
	if groupAllRE.MatchString(sqlText) {
		if sqlText, err = groupByOrdinals(sqlText); err != nil {
			return "", fmt.Errorf("view %s: %w", v.Name, err)
		}
	}
	for _, m := range unnestRE.FindAllStringSubmatch(sqlText, -1) {
		if m[1] == "" {
			return "", fmt.Errorf("view %s uses unnest in a select list, which Athena has not: it runs in the case only", v.Name)
		}
	}
	if m := duckOnlyRE.FindString(sqlText); m != "" {
		return "", fmt.Errorf("view %s uses %s, which Athena has not: it runs in the case only", v.Name, strings.TrimSpace(strings.TrimSuffix(m, "(")))
	}
	sqlText = strings.TrimSpace(sqlText)
	if pairs {
		sqlText = withCTE(sqlText, athenaPairing(ac.ENIAddrs))
	}
	if ac != nil {
		reads := map[string]bool{}
		for _, m := range fromRE.FindAllStringSubmatch(sqlText, -1) {
			reads[strings.ToLower(m[1])] = true
		}
		for i := len(snapshotTables) - 1; i >= 0; i-- {
			if t := snapshotTables[i]; reads[t.name] {
				sqlText = withCTE(sqlText, valuesCTE(t.name, t.cols, ac.Snapshot[t.name]))
			}
		}
	}
	if ac != nil && endpointsRE.MatchString(sqlText) {
		sqlText = withEndpoints(sqlText, ac.Endpoints)
	}
	return sqlText, nil
}

// withCTE puts cte first among the query's common table expressions.
func withCTE(sqlText, cte string) string {
	if rest, ok := strings.CutPrefix(sqlText, "WITH "); ok {
		return "WITH " + cte + ",\n" + rest
	}
	return "WITH " + cte + "\n" + sqlText
}

// AthenaPairing is the common table expressions of athenaPairing, for a
// test that holds it to the import's pairing (app TestAthenaPairingIsTheImports):
// the two are written twice, DuckDB's for speed at import, this one for Trino.
func AthenaPairing(ac *AthenaCase) string { return athenaPairing(ac.ENIAddrs) }

// athenaPairing is query/derive.sql's pairing of flow records into
// conversations (flow_conversations, with peer and peer_eni) as common
// table expressions in SQL that Trino and DuckDB both run, over the flows
// Athena holds and the case's ENI addresses. The records are "evidence:line"
// references (evidence_id * 2^40 + line) as in the case: on Athena, where
// the logs' lines have no evidence id nor number, they are NULL and
// conversations are numbered instead. remote_ip is IPv4 only there. Trino computes a CTE at each reference, so Athena
// pairs the records twice (the peers join the conversations to themselves).
func athenaPairing(addrs []ENIAddr) string {
	var rows []string
	for _, a := range addrs {
		rows = append(rows, "("+quoteSQL(a.InterfaceID)+", "+quoteSQL(a.IP)+")")
	}
	snapshot := "fc_snapshot(interface_id, ip) AS (VALUES " + strings.Join(rows, ", ") + ")"
	if len(rows) == 0 {
		snapshot = "fc_snapshot AS (SELECT CAST(NULL AS varchar) AS interface_id, CAST(NULL AS varchar) AS ip WHERE false)"
	}
	return snapshot + ",\n" + strings.Replace(pairingSQL, "%REMOTE_IP%", ip4("remote_addr"), 1)
}

// recordRefs is record_refs(list) in SQL both engines run: the
// references, evidence_id * 2^40 + line, as "evidence:line" in order.
func recordRefs(list string) string {
	return "(SELECT array_join(array_agg(CAST(CAST(floor(r / 1099511627776) AS bigint) AS varchar) || ':' || CAST(r % 1099511627776 AS varchar) ORDER BY r), ' ') FROM UNNEST(" + list + ") AS u(r))"
}

// ip4 is an IPv4 address (text) as a number, NULL for anything else.
func ip4(a string) string {
	var parts []string
	for i, m := range []string{"16777216", "65536", "256", "1"} {
		parts = append(parts, fmt.Sprintf("TRY_CAST(split_part(%s, '.', %d) AS bigint) * %s", a, i+1, m))
	}
	return "(" + strings.Join(parts, " + ") + ")"
}

func cidrLen4(c string) string {
	return "coalesce(TRY_CAST(nullif(split_part(" + c + ", '/', 2), '') AS bigint), 32)"
}

// cidrLo4 is the first address of an IPv4 CIDR block as a number.
func cidrLo4(c string) string {
	size := "power(2, 32 - " + cidrLen4(c) + ")"
	return "(CAST(floor(" + ip4("split_part("+c+", '/', 1)") + " / " + size + ") AS bigint) * CAST(" + size + " AS bigint))"
}

// snapshotTables are the EC2 snapshot's tables a view may read, with the
// columns (and their Trino types) a case writes into its Athena form.
var snapshotTables = []struct {
	name string
	cols []string // "name type"
}{
	{"enis", []string{"network_interface_id varchar", "subnet_id varchar", "security_group_ids array(varchar)", "private_ips array(varchar)"}},
	{"network_acls", []string{"network_acl_id varchar", "subnet_ids array(varchar)"}},
	{"nacl_entries", []string{"network_acl_id varchar", "rule_number integer", "egress boolean", "protocol varchar", "protocol_num integer",
		"rule_action varchar", "cidr varchar", "port_from integer", "port_to integer"}},
	{"sg_rules", []string{"group_id varchar", "direction varchar", "protocol integer", "from_port integer", "to_port integer", "cidr varchar", "referenced_group_id varchar"}},
	{"evidence", []string{"kind varchar", "source_mtime timestamp with time zone"}},
}

// valuesCTE is a table of values with typed columns; rows hold SQL
// literals as both engines read them ("NULL" is cast to the column's type).
func valuesCTE(name string, cols []string, rows [][]string) string {
	var names, empty []string
	for _, c := range cols {
		n, typ, _ := strings.Cut(c, " ")
		names = append(names, n)
		if strings.HasPrefix(typ, "array(") {
			empty = append(empty, "ARRAY[] AS "+n)
		} else {
			empty = append(empty, "CAST(NULL AS "+typ+") AS "+n)
		}
	}
	if len(rows) == 0 {
		return name + " AS (SELECT " + strings.Join(empty, ", ") + " WHERE false)"
	}
	var vals []string
	for _, r := range rows {
		lits := make([]string, len(r))
		for i, v := range r {
			if _, typ, _ := strings.Cut(cols[i], " "); v == "NULL" && !strings.HasPrefix(typ, "array(") {
				v = "CAST(NULL AS " + typ + ")"
			}
			lits[i] = v
		}
		vals = append(vals, "("+strings.Join(lits, ", ")+")")
	}
	return name + "(" + strings.Join(names, ", ") + ") AS (VALUES " + strings.Join(vals, ",\n    ") + ")"
}

// flowConvRE finds a read of flow_conversations.
var flowConvRE = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+flow_conversations\b`)

const pairingSQL = `fc_guessed AS (
    -- An ENI the snapshot does not describe: its address is on most of its records.
    SELECT interface_id, ip FROM (
        SELECT interface_id, ip, row_number() OVER (PARTITION BY interface_id ORDER BY n DESC, ip) AS rn
        FROM (SELECT interface_id, ip, count(*) AS n FROM (
                SELECT interface_id, srcaddr AS ip FROM flows WHERE srcaddr IS NOT NULL
                UNION ALL
                SELECT interface_id, dstaddr AS ip FROM flows WHERE dstaddr IS NOT NULL) AS a
              WHERE interface_id NOT IN (SELECT interface_id FROM fc_snapshot)
              GROUP BY interface_id, ip) AS b) AS c
    WHERE rn = 1
),
fc_eni_ips AS (
    SELECT interface_id, ip, 'snapshot' AS eni_from FROM fc_snapshot
    UNION ALL
    SELECT interface_id, ip, 'records' AS eni_from FROM fc_guessed
),
fc_records AS (
    SELECT f.evidence_id, f.line, f.interface_id, f.protocol, f.action, f.reject_reason, f.packets, f.bytes,
           f.start_time, coalesce(f.end_time, f.start_time) AS end_time,
           i.ip IS NOT NULL AS inbound,
           coalesce(i.eni_from, o.eni_from) AS eni_from,
           CASE WHEN i.ip IS NOT NULL THEN f.dstaddr ELSE f.srcaddr END AS local_addr,
           CASE WHEN i.ip IS NOT NULL THEN f.dstport ELSE f.srcport END AS local_port,
           CASE WHEN i.ip IS NOT NULL THEN f.srcaddr ELSE f.dstaddr END AS remote_addr,
           CASE WHEN i.ip IS NOT NULL THEN f.srcport ELSE f.dstport END AS remote_port,
           CASE WHEN i.ip IS NOT NULL THEN nullif(f.pkt_dstaddr, f.dstaddr) ELSE nullif(f.pkt_srcaddr, f.srcaddr) END AS pkt_local,
           f.evidence_id * 1099511627776 + f.line AS ref
    FROM flows f
    LEFT JOIN fc_eni_ips i ON i.interface_id = f.interface_id AND i.ip = f.dstaddr
    LEFT JOIN fc_eni_ips o ON o.interface_id = f.interface_id AND o.ip = f.srcaddr
    WHERE f.srcaddr IS NOT NULL AND f.dstaddr IS NOT NULL AND f.interface_id IS NOT NULL
),
fc_gaps AS (
    SELECT r.*, CASE WHEN r.start_time > lag(r.end_time) OVER (PARTITION BY r.interface_id, r.protocol, r.local_addr, r.local_port, r.remote_addr, r.remote_port
                      ORDER BY r.start_time, r.evidence_id, r.line) + INTERVAL '120' SECOND THEN 1 ELSE 0 END AS gap
    FROM fc_records r
),
fc_sessions AS (
    SELECT g.*, sum(g.gap) OVER (PARTITION BY g.interface_id, g.protocol, g.local_addr, g.local_port, g.remote_addr, g.remote_port
                                 ORDER BY g.start_time, g.evidence_id, g.line ROWS UNBOUNDED PRECEDING) AS session
    FROM fc_gaps g
),
fc_conv AS (
    SELECT interface_id, protocol, local_addr, local_port, remote_addr, remote_port,
           min(%REMOTE_IP%) AS remote_ip,
           min(start_time) AS first_time, max(end_time) AS last_time,
           CASE WHEN bool_or(inbound AND action = 'REJECT') THEN 'REJECT' WHEN bool_or(inbound AND action = 'ACCEPT') THEN 'ACCEPT' END AS in_action,
           CASE WHEN bool_or(NOT inbound AND action = 'REJECT') THEN 'REJECT' WHEN bool_or(NOT inbound AND action = 'ACCEPT') THEN 'ACCEPT' END AS out_action,
           sum(packets) FILTER (WHERE inbound) AS in_packets, sum(bytes) FILTER (WHERE inbound) AS in_bytes,
           sum(packets) FILTER (WHERE NOT inbound) AS out_packets, sum(bytes) FILTER (WHERE NOT inbound) AS out_bytes,
           min(start_time) FILTER (WHERE inbound) AS in_first, min(start_time) FILTER (WHERE NOT inbound) AS out_first,
           max(reject_reason) AS reject_reason, max(eni_from) AS eni_from,
           array_agg(ref) AS records, min(ref) AS conv_ref,
           max(pkt_local) AS pkt_local_addr
    FROM fc_sessions
    GROUP BY interface_id, protocol, local_addr, local_port, remote_addr, remote_port, session
),
fc_oriented AS (
    -- On Athena the records have no reference: a conversation is numbered.
    SELECT c.*, coalesce(conv_ref, -row_number() OVER (ORDER BY interface_id, protocol, local_addr, local_port, remote_addr, remote_port, first_time)) AS conv_id,
           CASE WHEN out_first IS NULL THEN 'inbound'
                WHEN in_first IS NULL THEN 'outbound'
                WHEN in_first < out_first THEN 'inbound'
                WHEN in_first > out_first THEN 'outbound'
                WHEN coalesce(local_port, 0) <= coalesce(remote_port, 0) THEN 'inbound'
                ELSE 'outbound' END AS initiated
    FROM fc_conv c
),
fc_patterned AS (
    SELECT o.*,
           CASE initiated WHEN 'inbound' THEN remote_addr ELSE local_addr END AS client_addr,
           CASE initiated WHEN 'inbound' THEN remote_port ELSE local_port END AS client_port,
           CASE initiated WHEN 'inbound' THEN local_addr ELSE remote_addr END AS server_addr,
           CASE initiated WHEN 'inbound' THEN local_port ELSE remote_port END AS server_port,
           CASE
               WHEN reject_reason = 'BPA' THEN 'bpa'
               WHEN initiated = 'inbound' AND in_action = 'REJECT' THEN 'inbound_blocked'
               WHEN initiated = 'inbound' AND in_action = 'ACCEPT' AND out_action = 'REJECT' THEN 'reply_blocked_out'
               WHEN initiated = 'outbound' AND out_action = 'REJECT' THEN 'outbound_blocked'
               WHEN initiated = 'outbound' AND out_action = 'ACCEPT' AND in_action = 'REJECT' THEN 'reply_blocked_in'
               WHEN protocol = 6 AND initiated = 'inbound' AND in_action = 'ACCEPT' AND out_action IS NULL THEN 'no_reply'
               WHEN protocol = 6 AND initiated = 'outbound' AND out_action = 'ACCEPT' AND in_action IS NULL THEN 'no_reply'
           END AS pattern
    FROM fc_oriented o
),
fc_peers AS (
    -- What the other end's ENIs saw of each conversation with a pattern:
    -- the same 5-tuple, oriented the same way, overlapping in time.
    SELECT c.interface_id, c.protocol, c.local_addr, c.local_port, c.remote_addr, c.remote_port, c.first_time,
           array_join(array_agg(o.interface_id || ' ' || CASE
               WHEN o.in_action = 'REJECT' THEN 'rejected it inbound'
               WHEN o.out_action = 'REJECT' THEN 'rejected it outbound'
               WHEN o.pattern = 'no_reply' THEN 'saw no reply either'
               ELSE 'saw it answered' END ORDER BY o.interface_id), '; ') AS peer,
           min(o.interface_id) FILTER (WHERE c.pattern = 'no_reply'
               AND CASE c.initiated WHEN 'outbound' THEN o.in_action ELSE o.out_action END = 'REJECT') AS peer_eni
    FROM fc_patterned c
    JOIN fc_patterned o
      ON o.protocol = c.protocol AND o.client_addr = c.client_addr AND o.client_port = c.client_port
     AND o.server_addr = c.server_addr AND o.server_port = c.server_port AND o.interface_id <> c.interface_id
     AND o.first_time <= c.last_time + INTERVAL '120' SECOND AND o.last_time >= c.first_time - INTERVAL '120' SECOND
    WHERE c.pattern IS NOT NULL
    GROUP BY c.interface_id, c.protocol, c.local_addr, c.local_port, c.remote_addr, c.remote_port, c.first_time
),
flow_conversations AS (
    SELECT c.*, p.peer, p.peer_eni
    FROM fc_patterned c
    LEFT JOIN fc_peers p
      ON p.interface_id = c.interface_id AND p.protocol = c.protocol AND p.local_addr = c.local_addr AND p.local_port = c.local_port
     AND p.remote_addr = c.remote_addr AND p.remote_port = c.remote_port AND p.first_time = c.first_time
)`

// withEndpoints puts the endpoints before the view's query as a table of
// values (a view that starts with WITH gets it as its first CTE).
func withEndpoints(sqlText string, eps []Endpoint) string {
	var rows []string
	for _, e := range eps {
		name := quoteSQL(e.Name)
		if e.NoName {
			name = "CAST(NULL AS varchar)"
		}
		rows = append(rows, "("+quoteSQL(e.IP)+", "+quoteSQL(e.Kind)+", "+name+")")
	}
	cte := "endpoints(ip, kind, name) AS (VALUES " + strings.Join(rows, ",\n    ") + ")"
	if len(rows) == 0 {
		cte = "endpoints AS (SELECT CAST(NULL AS varchar) AS ip, CAST(NULL AS varchar) AS kind, CAST(NULL AS varchar) AS name WHERE false)"
	}
	if rest, ok := strings.CutPrefix(sqlText, "WITH "); ok {
		return "WITH " + cte + ",\n" + rest
	}
	return "WITH " + cte + "\n" + sqlText
}

func trinoType(t string) string {
	switch t {
	case "TIMESTAMPTZ":
		return "timestamp with time zone"
	case "INTEGER":
		return "integer"
	case "DOUBLE":
		return "double"
	case "BOOLEAN":
		return "boolean"
	}
	return "varchar"
}

// trinoLiteral is a value as both engines read it.
func trinoLiteral(typ, val string) (string, error) {
	lit, err := literal(typ, val)
	if err != nil {
		return "", err
	}
	switch typ {
	case "DOUBLE":
		return strings.TrimSuffix(lit, "::DOUBLE"), nil
	case "TIMESTAMPTZ":
		// TIMESTAMPTZ '2021-04-05 06:30:00+00' → a cast both engines parse.
		t := strings.TrimSuffix(strings.TrimPrefix(lit, "TIMESTAMPTZ '"), "+00'")
		return "CAST('" + t + " UTC' AS timestamp with time zone)", nil
	}
	return lit, nil
}

// dropUnsetFilter turns "($p IS NULL OR …)" into TRUE: the filter of a
// parameter not given.
func dropUnsetFilter(s, param string) string {
	head := "($" + param + " IS NULL OR "
	for {
		i := strings.Index(s, head)
		if i < 0 {
			return s
		}
		end := matchParen(s, i)
		if end < 0 {
			return s
		}
		s = s[:i] + "TRUE" + s[end+1:]
	}
}

// walkTop calls visit with the index of each byte of s from on that is
// outside string literals, and the parenthesis depth there (after an
// opening or closing one), until visit returns false.
func walkTop(s string, from int, visit func(j, depth int) bool) {
	depth, inStr := 0, false
	for j := from; j < len(s); j++ {
		switch c := s[j]; {
		case c == '\'':
			inStr = !inStr
			continue
		case inStr:
			continue
		case c == '(':
			depth++
		case c == ')':
			depth--
		}
		if !visit(j, depth) {
			return
		}
	}
}

// matchParen is the index of the parenthesis closing the one at i, or -1.
func matchParen(s string, i int) int {
	end := -1
	walkTop(s, i, func(j, depth int) bool {
		if s[j] == ')' && depth == 0 {
			end = j
			return false
		}
		return true
	})
	return end
}

// exactQuantile is DuckDB's quantile_cont(x, p) in SQL both engines run:
// the sorted non-NULL values, interpolated between the two around
// position (n-1)·p as DuckDB does (lo + (hi-lo)·fraction). Trino's own
// approx_percentile is an estimate, and its rows would not be the case's.
func exactQuantile(args string) string {
	a := splitTopLevel(args)
	if len(a) != 2 {
		return "quantile_cont (" + args + ")" // not rewritten again; duckOnlyRE refuses it
	}
	x, p := strings.TrimSpace(a[0]), strings.TrimSpace(a[1])
	xs := "array_sort(array_agg(" + x + ") FILTER (WHERE " + x + " IS NOT NULL))"
	h := "((count(" + x + ") - 1) * CAST(" + p + " AS double))"
	lo := xs + "[CAST(floor(" + h + ") AS bigint) + 1]"
	hi := xs + "[CAST(ceil(" + h + ") AS bigint) + 1]"
	return "(CASE WHEN count(" + x + ") = 0 THEN NULL ELSE " + lo + " + (" + h + " - floor(" + h + ")) * (" + hi + " - " + lo + ") END)"
}

// inlineMacro replaces name(arg) by body(arg).
func inlineMacro(s, name string, body func(string) string) (string, error) {
	for {
		i := strings.Index(s, name+"(")
		if i < 0 {
			return s, nil
		}
		open := i + len(name)
		end := matchParen(s, open)
		if end < 0 {
			return "", fmt.Errorf("%s( not closed", name)
		}
		s = s[:i] + body(strings.TrimSpace(s[open+1:end])) + s[end+1:]
	}
}

// groupByOrdinals replaces GROUP BY ALL in a single SELECT by the
// positions of its select items that hold no aggregate.
func groupByOrdinals(s string) (string, error) {
	sel := strings.Index(strings.ToUpper(s), "SELECT ")
	from := topLevelIndex(s, sel, "FROM ")
	if sel < 0 || from < 0 || strings.Count(strings.ToUpper(s), "GROUP BY ALL") != 1 {
		return "", fmt.Errorf("GROUP BY ALL outside one plain SELECT")
	}
	var keys []string
	for i, item := range splitTopLevel(s[sel+len("SELECT ") : from]) {
		if !aggregateRE.MatchString(item) {
			keys = append(keys, strconv.Itoa(i+1))
		}
	}
	if len(keys) == 0 {
		return groupAllRE.ReplaceAllString(s, ""), nil
	}
	return groupAllRE.ReplaceAllString(s, "GROUP BY "+strings.Join(keys, ", ")), nil
}

// topLevelIndex is where word first appears after start outside
// parentheses and strings, or -1.
func topLevelIndex(s string, start int, word string) int {
	up, at := strings.ToUpper(s), -1
	walkTop(s, start, func(j, depth int) bool {
		if depth == 0 && strings.HasPrefix(up[j:], word) && (j == 0 || up[j-1] == ' ' || up[j-1] == '\n') {
			at = j
			return false
		}
		return true
	})
	return at
}

// splitTopLevel splits a select list at its top-level commas.
func splitTopLevel(s string) []string {
	var out []string
	last := 0
	walkTop(s, 0, func(j, depth int) bool {
		if s[j] == ',' && depth == 0 {
			out = append(out, s[last:j])
			last = j + 1
		}
		return true
	})
	return append(out, s[last:])
}

var athenaFromRE = regexp.MustCompile(`(?i)\bFROM\s+(flows|flow_logs|elb_logs)\b`)

// AthenaFormWindow is AthenaForm for the time from since to until: the
// view's from and to parameters, when it has them and they are not
// given, and on Athena only the day partitions that can hold the window
// (the logs' folders are by delivery day: until's next hour's day is the
// last), which is what an account's months of logs cost to scan.
func (v View) AthenaFormWindow(args map[string]string, since, until time.Time, ac *AthenaCase) (string, error) {
	if since.IsZero() && until.IsZero() {
		return v.athenaForm(args, ac)
	}
	a := map[string]string{}
	for k, x := range args {
		a[k] = x
	}
	for _, p := range v.Params {
		switch {
		case p.Name == "from" && a["from"] == "" && !since.IsZero():
			a["from"] = since.UTC().Format(time.RFC3339)
		case p.Name == "to" && a["to"] == "" && !until.IsZero():
			a["to"] = until.UTC().Format(time.RFC3339)
		}
	}
	sqlText, err := v.athenaForm(a, ac)
	if err != nil {
		return "", err
	}
	var conds []string
	if !since.IsZero() {
		conds = append(conds, "day >= '"+since.UTC().Format("2006/01/02")+"'")
	}
	if !until.IsZero() {
		conds = append(conds, "day <= '"+until.UTC().Add(time.Hour).Format("2006/01/02")+"'")
	}
	return athenaFromRE.ReplaceAllString(sqlText, "FROM (SELECT * FROM $1 WHERE "+strings.Join(conds, " AND ")+")"), nil
}

// Endpoints are the case's endpoints as the views read them.
func Endpoints(ctx context.Context, db *sql.DB) ([]Endpoint, error) {
	rows, err := db.QueryContext(ctx, `SELECT ip, kind, name FROM endpoints WHERE ip IS NOT NULL ORDER BY ip, kind, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	eps := []Endpoint{}
	for rows.Next() {
		var e Endpoint
		var name sql.NullString
		if err := rows.Scan(&e.IP, &e.Kind, &name); err != nil {
			return nil, err
		}
		e.Name, e.NoName = name.String, !name.Valid
		eps = append(eps, e)
	}
	return eps, rows.Err()
}

// CaseFacts reads what a case writes into the Athena forms of its views.
func CaseFacts(ctx context.Context, db *sql.DB) (*AthenaCase, error) {
	eps, err := Endpoints(ctx, db)
	if err != nil {
		return nil, err
	}
	ac := &AthenaCase{Endpoints: eps}
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT network_interface_id, ip
		FROM (SELECT network_interface_id, unnest(private_ips) AS ip FROM enis) ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a ENIAddr
		if err := rows.Scan(&a.InterfaceID, &a.IP); err != nil {
			return nil, err
		}
		ac.ENIAddrs = append(ac.ENIAddrs, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ac.Snapshot = map[string][][]string{}
	for _, t := range snapshotTables {
		var names []string
		for _, c := range t.cols {
			n, _, _ := strings.Cut(c, " ")
			names = append(names, n)
		}
		q := "SELECT DISTINCT " + strings.Join(names, ", ") + " FROM " + t.name
		if t.name == "evidence" {
			q = "SELECT kind, max(source_mtime) FROM evidence WHERE kind = 'ec2' GROUP BY kind"
		}
		if ac.Snapshot[t.name], err = literalRows(ctx, db, q+" ORDER BY ALL"); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	return ac, nil
}

// literalRows is a query's rows as SQL literals both engines read.
func literalRows(ctx context.Context, db *sql.DB, q string) ([][]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = sqlLiteral(v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func sqlLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return quoteSQL(x)
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	case time.Time:
		if lit, err := trinoLiteral("TIMESTAMPTZ", x.UTC().Format(time.RFC3339Nano)); err == nil {
			return lit
		}
	case []any:
		var items []string
		for _, e := range x {
			if e != nil { // a NULL element would make the array's type unknown
				items = append(items, sqlLiteral(e))
			}
		}
		return "ARRAY[" + strings.Join(items, ", ") + "]"
	}
	return quoteSQL(fmt.Sprint(v))
}
