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
	if !has["reject_reason"] {
		sel = append(sel, "CAST(NULL AS varchar) AS reject_reason")
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
	"flow_conversations": "both directions of each flow paired at import against the ENI snapshot, with the lines of the case's evidence behind them",
}

// athenaTables are what Athena holds of a case: the logs.
var athenaTables = map[string]bool{"flow_logs": true, "flows": true, "elb_logs": true}

var (
	fromRE      = regexp.MustCompile(`(?i)(?:^|[^$a-z0-9_])(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)`)
	cteRE       = regexp.MustCompile(`(?i)(?:\bWITH|,)\s*([a-z_][a-z0-9_]*)\s+AS\s*(?:NOT\s+)?(?:MATERIALIZED\s*)?\(`)
	duckOnlyRE  = regexp.MustCompile(`(?i)(::|\b(?:list|unnest|flatten|epoch|quantile_cont|arg_min|arg_max|record_refs|in_cidr|cidr_lo|cidr_hi|list_[a-z_]+|array_to_string|string_agg|http_header|http_headers|time_bucket)\s*\(|\bQUALIFY\b|\bMATERIALIZED\b|\bGROUP BY ALL\b)`)
	limitRE     = regexp.MustCompile(`(?i)\bLIMIT\s+coalesce\(\s*(CAST\(NULL AS integer\)|[0-9]+)\s*,\s*([0-9]+)\s*\)`)
	commentRE   = regexp.MustCompile(`(?m)^\s*--.*$`)
	endpointsRE = regexp.MustCompile(`(?i)\b(?:FROM|JOIN)\s+endpoints\b`)
	groupAllRE  = regexp.MustCompile(`(?i)\bGROUP BY ALL\b`)
	timeBucket  = regexp.MustCompile(`(?i)time_bucket\(\s*INTERVAL\s+1\s+(MINUTE|HOUR|DAY|SECOND)\s*,`)
	anyValueRE  = regexp.MustCompile(`(?i)\bany_value\(`)
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

// AthenaFormWith is AthenaForm for a view that labels addresses from the
// inventory (endpoints): the case's endpoints go into the SQL as a table
// of values, so that the view runs on Athena with the case's names.
func (v View) AthenaFormWith(args map[string]string, eps []Endpoint) (string, error) {
	if eps == nil {
		eps = []Endpoint{}
	}
	return v.athenaForm(args, eps)
}

func (v View) athenaForm(args map[string]string, eps []Endpoint) (string, error) {
	if _, err := v.Render(args); err != nil { // the same checks of names and values
		return "", err
	}
	ctes := map[string]bool{}
	if eps != nil {
		ctes["endpoints"] = true
	}
	for _, m := range cteRE.FindAllStringSubmatch(v.SQL, -1) {
		ctes[strings.ToLower(m[1])] = true
	}
	for _, m := range fromRE.FindAllStringSubmatch(v.SQL, -1) {
		t := strings.ToLower(m[1])
		if t == "endpoints" && !ctes[t] {
			return "", fmt.Errorf("view %s reads endpoints (what the case's inventory names each address): give the case (athena view --case, athena run) and they go into the SQL", v.Name)
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
	if sqlText, err = inlineMacro(sqlText, "quantile_cont", exactQuantile); err != nil {
		return "", err
	}
	if groupAllRE.MatchString(sqlText) {
		if sqlText, err = groupByOrdinals(sqlText); err != nil {
			return "", fmt.Errorf("view %s: %w", v.Name, err)
		}
	}
	if m := duckOnlyRE.FindString(sqlText); m != "" {
		return "", fmt.Errorf("view %s uses %s, which Athena has not: it runs in the case only", v.Name, strings.TrimSpace(strings.TrimSuffix(m, "(")))
	}
	sqlText = strings.TrimSpace(sqlText)
	if eps != nil && endpointsRE.MatchString(sqlText) {
		sqlText = withEndpoints(sqlText, eps)
	}
	return sqlText, nil
}

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
func (v View) AthenaFormWindow(args map[string]string, since, until time.Time, eps []Endpoint) (string, error) {
	if since.IsZero() && until.IsZero() {
		return v.athenaForm(args, eps)
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
	sqlText, err := v.athenaForm(a, eps)
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
