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
const CurrentVersion = 1

// A migration brings a case from version-1 to version. Migration 1 creates
// the schema from nothing; later ones alter it. They never rewrite evidence
// tables in ways that lose rows.
type migration struct {
	version int
	sql     string
}

var migrations = []migration{
	{1, schemaSQL + "\n" + strings.Join(commentStatements(schemaSQL), ";\n") + ";"},
}

// Migrate brings db to CurrentVersion, one transaction per step. A database
// of a newer version is refused.
func Migrate(ctx context.Context, db *sql.DB) error {
	return migrate(ctx, db, migrations)
}

func migrate(ctx context.Context, db *sql.DB, steps []migration) error {
	have, err := SchemaVersion(ctx, db)
	if err != nil {
		return err
	}
	want := steps[len(steps)-1].version
	if have > want {
		return &VersionError{Have: have, Want: want}
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
