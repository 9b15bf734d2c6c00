// Package query owns the case database: its schema and migrations, the saved
// views, the diagnosis, the sandboxed SQL console and CSV/JSON export.
//
// Two ways in:
//
//   - OpenWriter is for l4case's own importers. It may read files (DuckDB's
//     readers load evidence straight from the case folder) and write tables.
//   - OpenReader is for everything a user, or a .l4case from someone else,
//     can put SQL into. It opens the file read-only with external access
//     disabled and the configuration locked, so SQL can read the case and
//     nothing else: no files, no network, no extensions, no writes.
//
// A process holds at most one of the two on a given file at a time.
//
// Every SQL statement of l4case lives in this package (schema, migrations,
// views, the import transaction, the evidence record). Its value types —
// Page, View, Param, TableCount, ColumnInfo, SQLError, ExportFormat, and the cell
// formatting of Text and JSONValue — are also the vocabulary that app hands
// to the CLI and the GUI; nothing else of query is theirs to call.
package query

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// OpenReader opens a case database for untrusted SQL: read-only, no file
// system, no network, no extensions, configuration locked, times in UTC.
func OpenReader(path string) (*sql.DB, error) {
	db, err := openSandbox(path, nil)
	if err != nil {
		return nil, err
	}
	v, err := SchemaVersion(context.Background(), db)
	if err != nil {
		db.Close()
		return nil, err
	}
	if v != CurrentVersion {
		db.Close()
		return nil, &VersionError{Have: v, Want: CurrentVersion}
	}
	return db, nil
}

// openSandbox opens path read-only with external access off; allowed lists
// the only files SQL may touch (an export's output). DuckDB keeps one
// configuration per file per process, so a sandbox with different allowed
// paths needs the other handles on the file closed first.
func openSandbox(path string, allowed []string) (*sql.DB, error) {
	return openSandboxMem(path, allowed, ExportMemoryLimit)
}

// openSandboxMem is openSandbox with the buffer pool an export may use.
func openSandboxMem(path string, allowed []string, exportMemory string) (*sql.DB, error) {
	q := url.Values{}
	q.Set("access_mode", "READ_ONLY")
	q.Set("autoinstall_known_extensions", "false")
	q.Set("autoload_known_extensions", "false")
	q.Set("allow_community_extensions", "false")
	settings := []string{"SET TimeZone = 'UTC'"}
	if len(allowed) > 0 {
		// An export streams: DuckDB's default buffer pool (80 % of RAM)
		// only lets COPY hold more reordered batches, 1.6 GiB of RSS for
		// 10 M rows where 512 MB does the same work.
		settings = append(settings, "SET memory_limit = '"+exportMemory+"'")
		quoted := make([]string, len(allowed))
		for i, a := range allowed {
			quoted[i] = quoteSQL(a)
		}
		settings = append(settings, "SET allowed_paths = ["+strings.Join(quoted, ", ")+"]")
	}
	// lock_configuration comes last so that SQL cannot undo the rest.
	settings = append(settings, "SET enable_external_access = false", "SET lock_configuration = true")
	c, err := duckdb.NewConnector(path+"?"+q.Encode(), func(ex driver.ExecerContext) error {
		// Settings are global: once the first connection locked them,
		// later connections inherit them and may not SET again.
		locked, err := isLocked(ex)
		if err != nil || locked {
			return err
		}
		for _, s := range settings {
			if _, err := ex.ExecContext(context.Background(), s, nil); err != nil {
				return fmt.Errorf("sandbox %q: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open case database: %w", err)
	}
	return sql.OpenDB(c), nil
}

func isLocked(ex driver.ExecerContext) (bool, error) {
	q, ok := ex.(driver.QueryerContext)
	if !ok {
		return false, errors.New("duckdb connection cannot query")
	}
	rows, err := q.QueryContext(context.Background(), "SELECT current_setting('lock_configuration')", nil)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return false, err
	}
	b, _ := v[0].(bool)
	return b, nil
}

// OpenWriter opens (creating if needed) a case database for l4case's own
// importers and brings its schema to CurrentVersion.
func OpenWriter(ctx context.Context, path string) (*sql.DB, error) {
	db, err := open(path + "?autoinstall_known_extensions=false&autoload_known_extensions=false&memory_limit=" + WriterMemoryLimit)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ExportMemoryLimit caps DuckDB's buffer pool in an export's sandbox. A
// query that needs more to join or sort (request_paths over a million
// requests) runs again with bigExportMemory, a quarter of the machine.
const ExportMemoryLimit = "512MB"

func bigExportMemory() string {
	return fmt.Sprintf("%dMB", max(machineMemoryMB()/4, 1024))
}

// isOutOfMemory says whether DuckDB ran out of its buffer pool.
func isOutOfMemory(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Out of Memory Error")
}

// WriterMemoryLimit caps DuckDB's buffer pool while importing logs and
// snapshots, CaptureMemoryLimit while importing a packet capture. DuckDB's
// default (80 % of RAM) let a 5 GB capture's import grow past 1.6 GiB of
// RSS although nothing needs it: appended row groups are written to the
// file as they fill, and a sort or join that needs more spills to
// case.duckdb.tmp. Logs import ~20 % faster with 1 GB than with 256 MB
// (bench: flow logs 231 k vs 187 k rows/s), captures no faster.
const (
	WriterMemoryLimit  = "1GB"
	CaptureMemoryLimit = "256MB"
)

// SetMemoryLimit sets DuckDB's buffer pool of a writer, e.g. to
// CaptureMemoryLimit for one file.
func SetMemoryLimit(ctx context.Context, db *sql.DB, limit string) error {
	_, err := db.ExecContext(ctx, "SET memory_limit = "+quoteSQL(limit))
	return err
}

func open(dsn string) (*sql.DB, error) {
	c, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open case database: %w", err)
	}
	return sql.OpenDB(c), nil
}

func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// VersionError says a case was written by a newer l4case.
type VersionError struct{ Have, Want int }

func (e *VersionError) Error() string {
	if e.Have > e.Want {
		return fmt.Sprintf("case schema version %d is newer than this l4case understands (%d): upgrade l4case to open it", e.Have, e.Want)
	}
	return fmt.Sprintf("case schema version %d is older than %d: open it for writing once (l4case import or l4case migrate) to migrate it", e.Have, e.Want)
}

// SchemaVersion reads the version recorded in the database; 0 means empty.
func SchemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE table_name = 'case_meta' AND schema_name = 'main'`).Scan(&n)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	var s string
	err = db.QueryRowContext(ctx, `SELECT value FROM case_meta WHERE key = 'schema_version'`).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errors.New("case database has no schema_version: not an l4case database")
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("case database schema_version %q is not a number", s)
	}
	return v, nil
}
