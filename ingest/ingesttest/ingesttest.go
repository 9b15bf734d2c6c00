// Package ingesttest runs an importer on a file into a throwaway case
// database, for importer tests.
package ingesttest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/query"
)

// Result is what an import produced.
type Result struct {
	DB       *sql.DB
	Format   string
	Records  int64
	Rejected int64
	Notes    []string
	Err      error
}

// DB opens an empty case database that is removed after the test.
func DB(t testing.TB) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "case.duckdb")
	if err := os.WriteFile(path, emptyDB(t), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := query.OpenWriter(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// emptyDB is a freshly migrated database file, made once per test binary:
// migrating (mostly the column comments) takes half a second, copying a
// file a millisecond.
var template struct {
	once sync.Once
	b    []byte
	err  error
}

func emptyDB(t testing.TB) []byte {
	template.once.Do(func() {
		dir, err := os.MkdirTemp("", "l4case-template-*")
		if err != nil {
			template.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "case.duckdb")
		db, err := query.OpenWriter(context.Background(), path)
		if err != nil {
			template.err = err
			return
		}
		if _, err := db.Exec("CHECKPOINT"); err != nil {
			template.err = err
		}
		db.Close()
		template.b, err = os.ReadFile(path)
		if template.err == nil {
			template.err = err
		}
	})
	if template.err != nil {
		t.Fatal(template.err)
	}
	return template.b
}

// Import runs imp on the file at path as evidence 1 in a new database and
// commits what it wrote unless it failed.
func Import(t testing.TB, imp ingest.Importer, path string, opts ingest.Options) *Result {
	t.Helper()
	return ImportInto(t, DB(t), 1, imp, path, opts)
}

// ImportInto runs imp on path as evidence id into db.
func ImportInto(t testing.TB, db *sql.DB, id int, imp ingest.Importer, path string, opts ingest.Options) *Result {
	t.Helper()
	return ImportContext(context.Background(), t, db, id, imp, path, opts)
}

// ImportContext is ImportInto under ctx, in the same kind of transaction as
// a case's import (without the evidence record, which is app's).
func ImportContext(ctx context.Context, t testing.TB, db *sql.DB, id int, imp ingest.Importer, path string, opts ingest.Options) *Result {
	t.Helper()
	src, err := ingest.NewSource(id, filepath.ToSlash(path), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := query.BeginImport(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	w := ingest.NewWriter(ctx, tx.Conn(), src)
	format, err := imp.Import(ctx, src, w)
	r := &Result{DB: db, Format: format, Err: err}
	if err != nil {
		w.Abort()
		return r
	}
	if err := w.Close(); err != nil {
		r.Err = err
		return r
	}
	if err := tx.CommitRows(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Records, r.Rejected, r.Notes = w.RecordCount(), w.RejectCount(), w.Notes()
	return r
}

// Rows runs q and returns every row as strings (NULL as "NULL"), for
// comparing with expected values.
func Rows(t testing.TB, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := query.Run(context.Background(), db, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		var rec []string
		for _, v := range rows.Values() {
			if v == nil {
				rec = append(rec, "NULL")
			} else {
				rec = append(rec, query.Text(v))
			}
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// File writes content to name (which may hold folders: the AWS key layout
// matters to some importers) in a new temporary folder and returns its path.
func File(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Detect shows imp the file's head as import would.
func Detect(t testing.TB, imp ingest.Importer, path string) error {
	t.Helper()
	head, err := ingest.Head(path)
	if err != nil {
		t.Fatal(err)
	}
	return imp.Detect(path, head)
}
