package query

import (
	"bufio"
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

//go:embed schema.sql
var schemaSQL string

// CurrentVersion is the schema version this build writes.
const CurrentVersion = 7

// A migration brings a case from version-1 to version. A new case gets
// schema.sql whole, at the newest version; the steps bring older cases
// there. They never rewrite evidence tables in ways that lose rows.
type migration struct {
	version int
	sql     string
}

var (
	fresh      = schemaSQL + "\n" + strings.Join(commentStatements(schemaSQL), ";\n") + ";"
	migrations = []migration{
		{2, version2()},
		{3, version3()},
		{4, version4()},
		{5, version5()},
		{6, version6()},
		{7, version7()},
	}
)

// Migrate brings db to CurrentVersion, one transaction per step. A database
// of a newer version is refused.
func Migrate(ctx context.Context, db *sql.DB) error {
	return migrate(ctx, db, fresh, migrations)
}

func migrate(ctx context.Context, db *sql.DB, fresh string, steps []migration) error {
	have, err := SchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	want := steps[len(steps)-1].version
	if have > want {
		return &VersionError{Have: have, Want: want}
	}
	if have == 0 {
		return apply(ctx, db, migration{want, fresh})
	}
	for _, m := range steps {
		if m.version <= have {
			continue
		}
		if err := apply(ctx, db, m); err != nil {
			return fmt.Errorf("migrate case schema to version %d: %w", m.version, err)
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m migration) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, m.sql); err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return err
	}
	_, err = conn.ExecContext(ctx, `INSERT OR REPLACE INTO case_meta VALUES ('schema_version', ?)`, strconv.Itoa(m.version))
	if err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

var (
	createTableRE = regexp.MustCompile(`^CREATE TABLE (\w+) \(`)
	columnRE      = regexp.MustCompile(`^\s+(\w+)\s+[A-Z].*?--\s*(.+?)\s*$`)
)

// commentStatements turns the "-- description" at the end of each column
// line of ddl, and the "-- table: ..." line before each table, into COMMENT
// ON statements, so the DDL file is the one place a column is documented.
func commentStatements(ddl string) []string {
	var out []string
	var table, tableDoc string
	sc := bufio.NewScanner(strings.NewReader(ddl))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "-- table: "):
			tableDoc = strings.TrimPrefix(line, "-- table: ")
		case createTableRE.MatchString(line):
			table = createTableRE.FindStringSubmatch(line)[1]
			if tableDoc != "" {
				out = append(out, fmt.Sprintf("COMMENT ON TABLE %s IS %s", table, quoteSQL(tableDoc)))
			}
			tableDoc = ""
		case strings.HasPrefix(line, ")"):
			table = ""
		case table != "":
			if m := columnRE.FindStringSubmatch(line); m != nil {
				out = append(out, fmt.Sprintf("COMMENT ON COLUMN %s.%s IS %s", table, m[1], quoteSQL(m[2])))
			}
		}
	}
	return out
}

// version2 is migration 2. Version 1 kept every access log entry in one
// 54-column table, elb_logs, and HTTP headers as a map; version 2 keeps one
// table per load balancer type with a view of that name over them (see
// schema.sql), and the headers as the captured text.
func version2() string {
	var b strings.Builder
	b.WriteString("ALTER TABLE elb_logs RENAME TO elb_logs_v1;\n")
	tables := map[string]string{"elb_classic_logs": "classic", "alb_logs": "alb", "nlb_logs": "nlb"}
	for _, t := range []string{"elb_classic_logs", "alb_logs", "nlb_logs"} {
		ddl := schemaBlock("-- table: ", "CREATE TABLE "+t+" (", ");")
		b.WriteString(ddl + "\n")
		for _, c := range commentStatements(ddl) {
			b.WriteString(c + ";\n")
		}
		cols := strings.Join(tableColumns(ddl), ", ")
		fmt.Fprintf(&b, "INSERT INTO %s (%s) SELECT %s FROM elb_logs_v1 WHERE lb_type = '%s';\n", t, cols, cols, tables[t])
	}
	b.WriteString("DROP TABLE elb_logs_v1;\n")
	b.WriteString(schemaBlock("", "CREATE VIEW elb_logs AS", ";") + "\n")
	// HTTP headers became the captured text (a MAP cost a third of the
	// table's insert; http_headers() gives the map back); names were
	// lower-cased before, so they stay so.
	b.WriteString(`ALTER TABLE http_messages ALTER headers TYPE VARCHAR USING
		nullif(array_to_string(list_transform(map_entries(headers), lambda e: e['key'] || ': ' || e['value']), chr(13) || chr(10)), '');
`)
	for _, m := range []string{"http_header(h, name)", "http_header_lines(h)", "http_headers(h)"} {
		b.WriteString(schemaBlock("", "CREATE MACRO "+m+" AS", ";") + "\n")
	}
	b.WriteString(`COMMENT ON COLUMN http_messages.headers IS ` + quoteSQL(columnComment("http_messages", "headers")) + ";\n")
	return b.String()
}

// version3 is migration 3: the findings table.
func version3() string {
	ddl := schemaBlock("-- table: ", "CREATE TABLE findings (", ");")
	return ddl + "\n" + strings.Join(commentStatements(ddl), ";\n") + ";\n"
}

// version4 is migration 4: flow_conversations.pkt_local_addr, which the
// pairing fills at the next import (NULL until then: the diagnosis joins
// ENIs by their own addresses meanwhile).
func version4() string {
	return "ALTER TABLE flow_conversations ADD COLUMN pkt_local_addr VARCHAR;\n" +
		"COMMENT ON COLUMN flow_conversations.pkt_local_addr IS " + quoteSQL(columnComment("flow_conversations", "pkt_local_addr")) + ";\n" +
		"INSERT OR REPLACE INTO case_meta VALUES ('derive_pending', 'true');\n"
}

// version5 adds to tcp_conversations where its packets are in the capture
// (read on demand) and a Zeek-style history; packet_data's description
// says it is filled only on request now. Older cases leave them NULL:
// their packets are read from the start of the capture.
func version5() string {
	var b strings.Builder
	for _, c := range []struct{ name, typ string }{{"first_offset", "UBIGINT"}, {"last_offset", "UBIGINT"}, {"history", "VARCHAR"}} {
		b.WriteString("ALTER TABLE tcp_conversations ADD COLUMN " + c.name + " " + c.typ + ";\n")
		b.WriteString("COMMENT ON COLUMN tcp_conversations." + c.name + " IS " + quoteSQL(columnComment("tcp_conversations", c.name)) + ";\n")
	}
	for _, st := range commentStatements(schemaSQL) {
		if strings.HasPrefix(st, "COMMENT ON TABLE packet_data ") {
			b.WriteString(st + ";\n")
		}
	}
	return b.String()
}

// version6 is migration 6: request_path_rows, which request_paths reads,
// filled here from what the case holds (the view was this join before).
func version6() string {
	ddl := schemaBlock("-- table: ", "CREATE TABLE request_path_rows (", ");")
	return ddl + "\n" + strings.Join(commentStatements(ddl), ";\n") + ";\n" + deriveRequestsSQL
}

// version7 is migration 7: the array_join macro (Trino's name), which the
// views' Athena forms use and run in the case too.
func version7() string {
	return schemaBlock("", "CREATE MACRO array_join(a, sep) AS array_to_string(a, sep);", ";") + "\n"
}

// schemaBlock is the statement of schema.sql that starts with the line
// start and ends with the first line ending in end, with the comment line
// before it when that begins with doc.
func schemaBlock(doc, start, end string) string {
	lines := strings.Split(schemaSQL, "\n")
	for i, l := range lines {
		if l != start {
			continue
		}
		from := i
		if doc != "" && i > 0 && strings.HasPrefix(lines[i-1], doc) {
			from = i - 1
		}
		for j := i; j < len(lines); j++ {
			if strings.HasSuffix(strings.TrimSpace(strings.SplitN(lines[j], "--", 2)[0]), end) {
				return strings.Join(lines[from:j+1], "\n")
			}
		}
	}
	panic("query: schema.sql has no " + start)
}

// tableColumns lists the columns a CREATE TABLE statement declares.
func tableColumns(ddl string) []string {
	var cols []string
	for _, l := range strings.Split(ddl, "\n") {
		if m := columnRE.FindStringSubmatch(l); m != nil {
			cols = append(cols, m[1])
		}
	}
	return cols
}

// columnComment is the "-- description" of a column in schema.sql.
func columnComment(table, column string) string {
	ddl := schemaBlock("", "CREATE TABLE "+table+" (", ");")
	for _, l := range strings.Split(ddl, "\n") {
		if m := columnRE.FindStringSubmatch(l); m != nil && m[1] == column {
			return m[2]
		}
	}
	panic("query: schema.sql has no column " + table + "." + column)
}
