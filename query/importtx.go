package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ImportTx is the transaction one evidence file is imported in: its rows
// and its evidence record commit together, or neither does. The importers
// append through Conn; Commit records the evidence and commits.
type ImportTx struct {
	conn *sql.Conn
	open bool
}

// BeginImport starts the transaction of one file on its own connection.
func BeginImport(ctx context.Context, db *sql.DB) (*ImportTx, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		conn.Close()
		return nil, err
	}
	return &ImportTx{conn: conn, open: true}, nil
}

// Conn is the connection the file's rows are appended on.
func (t *ImportTx) Conn() *sql.Conn { return t.conn }

// EvidenceRecord is a row of the evidence table: one imported file.
type EvidenceRecord struct {
	ID          int
	Kind        string
	Name        string
	Stored      string
	Size        int64
	SHA256      string
	SourceMtime time.Time
	ImportedAt  time.Time
	Rows        int64
	Rejected    int64
	Format      string
	Node        string
	First, Last time.Time // zero when the file had no timed record
}

// Commit records ev and commits the file's rows with it. On error the
// transaction is rolled back.
func (t *ImportTx) Commit(ctx context.Context, ev EvidenceRecord) error {
	_, err := t.conn.ExecContext(ctx, `INSERT INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, ev.Kind, ev.Name, ev.Stored, ev.Size, ev.SHA256, ev.SourceMtime, ev.ImportedAt,
		ev.Rows, ev.Rejected, ev.Format, nullIfEmpty(ev.Node), nullTime(ev.First), nullTime(ev.Last))
	if err != nil {
		t.Rollback()
		return err
	}
	return t.CommitRows(ctx)
}

// CommitRows commits without an evidence record, for importer tests that
// look at the rows alone.
func (t *ImportTx) CommitRows(ctx context.Context) error {
	if _, err := t.conn.ExecContext(ctx, "COMMIT"); err != nil {
		t.Rollback()
		return err
	}
	t.open = false
	t.conn.Close()
	return nil
}

// Rollback discards the file's rows. It is a no-op after Commit, so it can
// be deferred.
func (t *ImportTx) Rollback() {
	if !t.open {
		return
	}
	t.open = false
	t.conn.ExecContext(context.Background(), "ROLLBACK")
	t.conn.Close()
}

// FlowLogFormats maps the flow-log ids of describe-flow-logs snapshots in
// the case to their LogFormat, so header-less flow logs read right.
func FlowLogFormats(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT flow_log_id, log_format FROM flow_log_configs WHERE log_format IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var id, f string
		if err := rows.Scan(&id, &f); err != nil {
			return nil, err
		}
		m[id] = f
	}
	return m, rows.Err()
}

// SetCaseMeta records the case's name, creation time and the l4case that
// created it.
func SetCaseMeta(ctx context.Context, db *sql.DB, name string, created time.Time, toolVersion string) error {
	_, err := db.ExecContext(ctx, `INSERT OR REPLACE INTO case_meta VALUES ('name', ?), ('created', ?), ('tool_version', ?)`,
		name, created.Format(time.RFC3339), toolVersion)
	return err
}

// IngestErrorsSQL lists the rejected records, first limit of them, in file order.
func IngestErrorsSQL(limit int) string {
	return fmt.Sprintf(`SELECT evidence_id, file, unit, line_or_offset, reason, raw FROM ingest_errors ORDER BY evidence_id, line_or_offset LIMIT %d`, limit)
}

// RejectedSQL lists the records import rejected from one evidence file, in
// file order.
func RejectedSQL(evidenceID int) string {
	return fmt.Sprintf(`SELECT line_or_offset, unit, reason, raw FROM ingest_errors WHERE evidence_id = %d ORDER BY line_or_offset`, evidenceID)
}

// DuckDBVersion is the version of the linked DuckDB library.
func DuckDBVersion(ctx context.Context) (string, error) {
	db, err := open("")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, `SELECT version()`).Scan(&v); err != nil {
		return "", errors.Join(errors.New("asking DuckDB its version"), err)
	}
	return v, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
