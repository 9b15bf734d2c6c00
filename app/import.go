package app

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/registry"
	"dev.l4case/l4case/query"
)

// ImportOptions are what the user can tell import about the files.
type ImportOptions struct {
	Kind          string // force this importer instead of detecting
	Node          string // node a capture was taken on (default: from pcap/NODE/ in the path)
	FlowLogFormat string // ${field} format of header-less flow logs
	// Packets is "all" to keep a packet_data row per captured packet;
	// otherwise (the default) a capture's conversations, HTTP messages and
	// PROXY headers are stored and its packets read back from the kept
	// capture on demand (Case.Packets, capture_packets).
	Packets string
	// Names are the evidence names of files given by path: what was
	// collected is named by where it came from (s3://BUCKET/KEY).
	Names map[string]string
}

// ImportStatus is a snapshot of the file being imported.
type ImportStatus struct {
	File     string
	Kind     string
	Index    int // 1-based position in this import
	Total    int // files in this import
	Bytes    int64
	Size     int64
	Records  int64
	Rejected int64
	Elapsed  time.Duration
}

// FileResult is what became of one file.
type FileResult struct {
	Name     string
	Kind     string
	Evidence *Evidence // set when imported
	Skipped  string    // set when not imported and that is fine: duplicate, not evidence in a folder
	Err      error     // set when it failed
	Elapsed  time.Duration
}

// Reporter follows an import. Status is called about five times a second
// from its own goroutine while a file imports; Done once per file.
type Reporter interface {
	Status(ImportStatus)
	Done(FileResult)
}

// ImportReport sums up an import.
type ImportReport struct {
	Files []FileResult
}

// Counts returns how many files were imported, skipped and failed.
func (r *ImportReport) Counts() (imported, skipped, failed int) {
	for _, f := range r.Files {
		switch {
		case f.Err != nil:
			failed++
		case f.Evidence != nil:
			imported++
		default:
			skipped++
		}
	}
	return
}

type candidate struct {
	name     string // as the user would call it
	path     string
	explicit bool // named on the command line, not found in a folder
	kind     registry.Entry
}

// Import adds files and folders to the case. Each file is imported in its own
// transaction: an error or a cancelled ctx leaves the case as it was before
// that file, with the files before it imported. Files in folders that no
// importer recognises are skipped with their reason; a file named
// explicitly that none recognises is an error.
func (c *Case) Import(ctx context.Context, paths []string, opts ImportOptions, rep Reporter) (*ImportReport, error) {
	if rep == nil {
		rep = nopReporter{}
	}
	defer boundMemory()()
	defer c.dropTraceCache()
	report := &ImportReport{}
	var forced *registry.Entry
	if opts.Kind != "" {
		k, err := registry.Lookup(opts.Kind)
		if err != nil {
			return nil, err
		}
		forced = &k
	}
	cands, err := expand(paths)
	if err != nil {
		return nil, err
	}
	for i, cd := range cands {
		if n := opts.Names[cd.path]; n != "" {
			cands[i].name = n
		}
	}
	var todo []candidate
	for _, cd := range cands {
		if forced != nil {
			cd.kind = *forced
			todo = append(todo, cd)
			continue
		}
		head, err := ingest.Head(cd.path)
		if err != nil {
			r := FileResult{Name: cd.name, Err: fmt.Errorf("%s: %w", cd.name, err)}
			report.Files = append(report.Files, r)
			rep.Done(r)
			continue
		}
		kind, err := registry.Detect(cd.name, head)
		if err != nil {
			r := FileResult{Name: cd.name}
			if cd.explicit {
				r.Err = err
			} else {
				r.Skipped = "not evidence l4case knows"
			}
			report.Files = append(report.Files, r)
			rep.Done(r)
			continue
		}
		cd.kind = kind
		todo = append(todo, cd)
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].kind.Phase < todo[j].kind.Phase })
	if len(todo) == 0 {
		return report, nil
	}

	c.use.Lock()
	defer c.use.Unlock()
	if err := c.closeReader(); err != nil {
		return nil, err
	}
	db, err := query.OpenWriter(ctx, c.DBPath())
	if err != nil {
		return nil, err
	}
	defer checkpointClose(context.Background(), db)
	derive, err := query.DerivePending(ctx, db)
	if err != nil {
		return nil, err
	}
	requests, err := query.DeriveRequestsPending(ctx, db)
	if err != nil {
		return nil, err
	}
	for i, cd := range todo {
		if ctx.Err() != nil {
			r := FileResult{Name: cd.name, Kind: cd.kind.Kind(), Err: ctx.Err()}
			report.Files = append(report.Files, r)
			rep.Done(r)
			break
		}
		r := c.importOne(ctx, db, cd, i+1, len(todo), opts, rep)
		report.Files = append(report.Files, r)
		rep.Done(r)
		if r.Evidence != nil && cd.kind.Derives {
			derive = true
		}
		if r.Evidence != nil {
			requests = true
		}
	}
	if ctx.Err() != nil {
		// Cancelled: the files imported before the cancel stay, and the
		// derived tables catch up with them at the next import.
		if err := query.MarkPending(context.Background(), db, derive, requests); err != nil {
			return report, err
		}
		return report, nil
	}
	if derive {
		// The reject analysis pairs both directions of every flow: once per
		// import rather than once per query.
		start := time.Now()
		stop := watch(rep, func() ImportStatus {
			return ImportStatus{File: "(pairing flow log records into conversations)", Kind: "derive", Index: len(todo), Total: len(todo), Elapsed: time.Since(start)}
		})
		err := query.Derive(ctx, db)
		stop()
		if err != nil {
			if merr := query.MarkPending(context.Background(), db, false, requests); merr != nil {
				return report, merr
			}
			return report, fmt.Errorf("the files are imported, but pairing the flow logs failed (it runs again at the next import): %w", err)
		}
	}
	if requests && ctx.Err() == nil {
		// request_paths joins every kind: once per import, not per page.
		// The importers' Go memory goes back to the system first: DuckDB's
		// buffer pool for the join comes on top of it (a capture's import
		// stays under 1 GiB).
		debug.FreeOSMemory()
		start := time.Now()
		stop := watch(rep, func() ImportStatus {
			return ImportStatus{File: "(joining every request's path across the evidence)", Kind: "derive", Index: len(todo), Total: len(todo), Elapsed: time.Since(start)}
		})
		err := query.DeriveRequests(ctx, db)
		stop()
		if err != nil {
			return report, fmt.Errorf("the files are imported, but joining the request paths failed (it runs again at the next import): %w", err)
		}
	}
	return report, nil
}

func expand(paths []string) ([]candidate, error) {
	var out []candidate
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, candidate{name: filepath.ToSlash(filepath.Clean(p)), path: p, explicit: true})
			continue
		}
		var found []candidate
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && path != p {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				found = append(found, candidate{name: filepath.ToSlash(filepath.Clean(path)), path: path})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Slice(found, func(i, j int) bool { return found[i].name < found[j].name })
		out = append(out, found...)
	}
	return out, nil
}

// importOne imports one file in three steps: store (copy it into the case,
// hashed), read (its rows and its evidence record, in one transaction) and
// record (the manifest). A failed step undoes the ones before it.
func (c *Case) importOne(ctx context.Context, db *sql.DB, cd candidate, index, total int, opts ImportOptions, rep Reporter) (res FileResult) {
	start := time.Now()
	res = FileResult{Name: cd.name, Kind: cd.kind.Kind()}
	defer func() { res.Elapsed = time.Since(start) }()

	st, skipped, err := c.store(ctx, cd)
	if err != nil || skipped != "" {
		res.Err, res.Skipped = err, skipped
		return res
	}
	ev, err := c.read(ctx, db, cd, st, opts, func(src *ingest.Source, w *ingest.Writer) ImportStatus {
		return ImportStatus{File: cd.name, Kind: cd.kind.Kind(), Index: index, Total: total,
			Bytes: src.BytesRead(), Size: src.Size, Records: w.RecordCount(), Rejected: w.RejectCount(),
			Elapsed: time.Since(start)}
	}, rep)
	if err != nil {
		st.discard()
		res.Err = err
		return res
	}
	os.Chmod(st.path, 0o444)
	if err := c.record(ev); err != nil {
		res.Err = fmt.Errorf("%s imported, but the manifest could not be written: %w", cd.name, err)
		return res
	}
	res.Evidence = &ev
	return res
}

// stored is a file's copy in the case, not yet imported.
type stored struct {
	id     int
	rel    string // evidence/NNNN/NAME, slash-separated
	path   string
	sha256 string
	info   fs.FileInfo // of the original
}

// discard removes the copy of a file whose import failed.
func (st *stored) discard() {
	os.Chmod(st.path, 0o644)
	os.Remove(st.path)
	os.Remove(filepath.Dir(st.path))
}

// store copies the file into the case's evidence folder while hashing it.
// A file already in the case is skipped, with the reason.
func (c *Case) store(ctx context.Context, cd candidate) (st *stored, skipped string, err error) {
	fi, err := os.Stat(cd.path)
	if err != nil {
		return nil, "", err
	}
	tmp, sum, err := copyHashed(ctx, cd.path, filepath.Join(c.Dir, "evidence"))
	if err != nil {
		return nil, "", fmt.Errorf("%s: copying into the case: %w", cd.name, err)
	}
	drop := func() { os.Chmod(tmp, 0o644); os.Remove(tmp) }
	if e := c.manifest.bySHA(sum); e != nil {
		drop()
		return nil, fmt.Sprintf("already in the case as evidence #%d (%s)", e.ID, e.Name), nil
	}
	id := c.manifest.nextID()
	rel := filepath.ToSlash(filepath.Join("evidence", fmt.Sprintf("%04d", id), filepath.Base(cd.path)))
	dst := filepath.Join(c.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		drop()
		return nil, "", err
	}
	if err := os.Rename(tmp, dst); err != nil {
		drop()
		return nil, "", err
	}
	return &stored{id: id, rel: rel, path: dst, sha256: sum, info: fi}, "", nil
}

// read runs the file's importer and records its evidence row, in one
// transaction; status snapshots the import for rep while it runs.
func (c *Case) read(ctx context.Context, db *sql.DB, cd candidate, st *stored, opts ImportOptions,
	status func(*ingest.Source, *ingest.Writer) ImportStatus, rep Reporter) (Evidence, error) {
	if cd.kind.Large {
		if err := query.SetMemoryLimit(ctx, db, query.CaptureMemoryLimit); err != nil {
			return Evidence{}, err
		}
		defer query.SetMemoryLimit(context.Background(), db, query.WriterMemoryLimit)
	}
	iopts := ingest.Options{FlowLogFormat: opts.FlowLogFormat, NoPackets: opts.Packets != "all"}
	if cd.kind.PerNode {
		iopts.Node = opts.Node
		if iopts.Node == "" {
			iopts.Node = ingest.NodeFromPath(cd.name)
		}
	}
	var err error
	if iopts.FlowLogFormats, err = query.FlowLogFormats(ctx, db); err != nil {
		return Evidence{}, err
	}
	src, err := ingest.NewSource(st.id, cd.name, st.path, iopts)
	if err != nil {
		return Evidence{}, err
	}
	tx, err := query.BeginImport(ctx, db)
	if err != nil {
		return Evidence{}, err
	}
	defer tx.Rollback()

	w := ingest.NewWriter(ctx, tx.Conn(), src)
	stop := watch(rep, func() ImportStatus { return status(src, w) })
	format, err := safeImport(ctx, cd.kind.Importer, src, w)
	stop()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		w.Abort()
		return Evidence{}, err
	}
	if err := w.Close(); err != nil {
		return Evidence{}, err
	}
	first, last := w.Span()
	ev := Evidence{
		ID: st.id, Kind: cd.kind.Kind(), Name: cd.name, Stored: st.rel, Size: st.info.Size(), SHA256: st.sha256,
		SourceMtime: st.info.ModTime().UTC(), ImportedAt: time.Now().UTC().Truncate(time.Millisecond),
		Rows: w.RecordCount(), Rejected: w.RejectCount(), Format: format, Notes: w.Notes(), Node: iopts.Node,
	}
	err = tx.Commit(ctx, query.EvidenceRecord{
		ID: ev.ID, Kind: ev.Kind, Name: ev.Name, Stored: ev.Stored, Size: ev.Size, SHA256: ev.SHA256,
		SourceMtime: ev.SourceMtime, ImportedAt: ev.ImportedAt, Rows: ev.Rows, Rejected: ev.Rejected,
		Format: ev.Format, Node: ev.Node, First: first, Last: last,
	})
	return ev, err
}

// record adds an imported file to the manifest.
func (c *Case) record(ev Evidence) error {
	c.mmu.Lock()
	defer c.mmu.Unlock()
	m := c.manifest
	m.Evidence = append(m.Evidence, ev)
	m.Modified = time.Now().UTC().Truncate(time.Second)
	m.Database = nil
	return writeManifest(c.Dir, m)
}

// safeImport turns an importer panic into an error naming the file: one bad
// file must not take the process, and the user's other files, down.
func safeImport(ctx context.Context, imp ingest.Importer, src *ingest.Source, w *ingest.Writer) (format string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: importer %s failed: %v (please report this with the file)", src.Name, imp.Kind(), p)
		}
	}()
	return imp.Import(ctx, src, w)
}

// watch calls rep.Status with snap() until the returned stop is called.
func watch(rep Reporter, snap func() ImportStatus) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				rep.Status(snap())
				return
			case <-t.C:
				rep.Status(snap())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// copyHashed copies src into a temporary file in dir while hashing it.
func copyHashed(ctx context.Context, src, dir string) (tmp, sum string, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, ".import-*")
	if err != nil {
		return "", "", err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), ctxReader{ctx, in})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out.Name())
		return "", "", err
	}
	return out.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

// ctxReader stops a long copy when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type nopReporter struct{}

func (nopReporter) Status(ImportStatus) {}
func (nopReporter) Done(FileResult)     {}

// importMemoryLimit is the Go heap's soft limit while importing, unless
// GOMEMLIMIT says otherwise. The importers' live data is small (batches in
// flight, open conversations, capped reassembly buffers) but garbage comes
// fast, and with the default GOGC the heap doubles before each collection;
// with DuckDB's query.WriterMemoryLimit this keeps a 5 GB capture's import
// under 1 GiB of RSS (BENCHMARKS.md).
const importMemoryLimit = 320 << 20

// boundMemory applies importMemoryLimit and returns the undo.
func boundMemory() func() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	old := debug.SetMemoryLimit(importMemoryLimit)
	return func() { debug.SetMemoryLimit(old) }
}
