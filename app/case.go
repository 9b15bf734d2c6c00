// Package app is the case: create it, open it, import evidence into it,
// query it, pack it into a .l4case file, open and verify one.
//
// It is the one door: the CLI (cli/) and the GUI (ui/) call this package
// for everything they do, and import no other l4case package but query,
// and from query only the values app hands out — Page, View, Param,
// TableCount, ColumnInfo, SQLError, ExportFormat — and Text/JSONValue, which format
// their cells the same way everywhere. (boundary_test.go checks this.)
// Below app, ingest/ reads evidence and query/ owns every SQL statement.
//
// A case is a folder:
//
//	case.duckdb     the database every importer writes and every view reads
//	manifest.json   name, versions, and every evidence file with its SHA-256
//	evidence/       a read-only copy of each imported file
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"dev.l4case/l4case/query"
)

// Version is the l4case version; release builds set it with -ldflags.
var Version = "0.1.0-dev"

const dbName = "case.duckdb"

// Case is an open case folder.
//
// Its methods may be called from several goroutines (the GUI runs a query
// while an import is in progress): queries share the database, while
// import, pack and export, which need DuckDB's file without the read-only
// sandbox on it, wait for them and run alone.
type Case struct {
	Dir string

	mmu      sync.Mutex // guards manifest
	manifest *Manifest

	use    sync.RWMutex // read: a query runs; write: import, pack or export
	mu     sync.Mutex   // guards reader and traces
	reader *sql.DB
	traces *query.TraceCache // what every trace reads whole; dropped by an import
	// checked holds the captures whose SHA-256 was checked, by evidence id
	// (packets are read from them on demand; see checkEvidence).
	checked map[int]fileStamp
}

// New creates an empty case in dir, which must not exist or be empty.
func New(ctx context.Context, dir, name string) (*Case, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s already exists and is not empty", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "evidence"), 0o755); err != nil {
		return nil, err
	}
	if name == "" {
		abs, _ := filepath.Abs(dir)
		name = filepath.Base(abs)
	}
	db, err := query.OpenWriter(ctx, filepath.Join(dir, dbName))
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	err = query.SetCaseMeta(ctx, db, name, now, Version)
	if err == nil {
		err = checkpointClose(ctx, db)
	} else {
		db.Close()
	}
	if err != nil {
		return nil, err
	}
	m := &Manifest{
		Format: ManifestFormat, Name: name, Created: now, Modified: now,
		ToolVersion: Version, SchemaVersion: query.CurrentVersion, Evidence: []Evidence{},
	}
	if err := writeManifest(dir, m); err != nil {
		return nil, err
	}
	return &Case{Dir: dir, manifest: m}, nil
}

// Open opens an existing case folder. A case from an older l4case is
// migrated; one from a newer l4case is refused.
func Open(ctx context.Context, dir string) (*Case, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	if m.SchemaVersion > query.CurrentVersion {
		return nil, &query.VersionError{Have: m.SchemaVersion, Want: query.CurrentVersion}
	}
	c := &Case{Dir: dir, manifest: m}
	if m.SchemaVersion < query.CurrentVersion {
		if err := c.migrate(ctx); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *Case) migrate(ctx context.Context) error {
	db, err := query.OpenWriter(ctx, c.DBPath())
	if err != nil {
		return err
	}
	if err := checkpointClose(ctx, db); err != nil {
		return err
	}
	c.manifest.SchemaVersion = query.CurrentVersion
	c.manifest.Database = nil
	return writeManifest(c.Dir, c.manifest)
}

// Name is the case's name.
func (c *Case) Name() string {
	c.mmu.Lock()
	defer c.mmu.Unlock()
	return c.manifest.Name
}

// Manifest returns a copy of the manifest.
func (c *Case) Manifest() Manifest {
	c.mmu.Lock()
	defer c.mmu.Unlock()
	m := *c.manifest
	m.Evidence = append([]Evidence(nil), c.manifest.Evidence...)
	return m
}

// Evidence lists the imported files in import order.
func (c *Case) Evidence() []Evidence { return c.Manifest().Evidence }

// DBPath is the case database file.
func (c *Case) DBPath() string { return filepath.Join(c.Dir, dbName) }

// Reader returns the sandboxed, read-only database handle that every query,
// view and export uses. It stays open until Close or the next import.
func (c *Case) Reader() (*sql.DB, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reader != nil {
		return c.reader, nil
	}
	db, err := query.OpenReader(c.DBPath())
	if err != nil {
		return nil, err
	}
	if err := query.RegisterCapturePackets(context.Background(), db, PacketColumns, c.streamReader(db)); err != nil {
		db.Close()
		return nil, fmt.Errorf("capture_packets: %w", err)
	}
	c.reader = db
	return db, nil
}

func (c *Case) closeReader() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reader == nil {
		return nil
	}
	err := c.reader.Close()
	c.reader = nil
	return err
}

// Close releases the database, after any query or import in progress.
func (c *Case) Close() error {
	c.use.Lock()
	defer c.use.Unlock()
	return c.closeReader()
}

// checkpointClose folds the write-ahead log into the database file before
// closing, so the case folder is one self-contained file plus evidence.
func checkpointClose(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, "CHECKPOINT")
	return errors.Join(err, db.Close())
}

// IsCaseDir reports whether dir holds a case manifest.
func IsCaseDir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, manifestName))
	return err == nil && fi.Mode().IsRegular()
}

// IsPackFile reports whether path looks like a .l4case file.
func IsPackFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && strings.HasSuffix(strings.ToLower(path), ".l4case")
}
