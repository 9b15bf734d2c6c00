package app

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"dev.l4case/l4case/query"
	"github.com/klauspost/compress/flate"
)

// Limits bound what opening a .l4case may unpack. A .l4case comes from
// someone else: its sizes and names are checked before anything is written.
type Limits struct {
	MaxMembers int   // files in the archive
	MaxTotal   int64 // bytes unpacked, all members
	// A member larger than RatioFloor that expands more than MaxRatio times
	// is a zip bomb; real cases (databases, logs, captures) compress far less.
	MaxRatio   int64
	RatioFloor int64
}

// DefaultLimits are generous for real cases and stop bombs early.
var DefaultLimits = Limits{MaxMembers: 100_000, MaxTotal: 1 << 40, MaxRatio: 1000, RatioFloor: 16 << 20}

// Progress is told how many of total bytes are done.
type Progress func(done, total int64)

// Pack writes the case into one .l4case file: a zip whose first member is
// the manifest, recording the SHA-256 of the database and of every evidence
// file, then the database and the evidence. With noEvidence the evidence
// files stay behind (the manifest says so) and only the database travels.
func (c *Case) Pack(ctx context.Context, out string, noEvidence bool, prog Progress) error {
	c.use.Lock()
	defer c.use.Unlock()
	if err := c.closeReader(); err != nil {
		return err
	}
	if err := c.foldWAL(ctx); err != nil {
		return err
	}
	dbHash, err := hashFile(ctx, c.DBPath())
	if err != nil {
		return err
	}
	dbHash.Path = dbName
	m := c.Manifest()
	m.Database = dbHash
	total := dbHash.Size
	for i := range m.Evidence {
		m.Evidence[i].Omitted = noEvidence
		if !noEvidence {
			total += m.Evidence[i].Size
		}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}

	tmp, err := os.CreateTemp(filepath.Dir(out), ".l4case-pack-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	zw := zip.NewWriter(tmp)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, 5)
	})
	var done int64
	add := func(name, src string, data []byte) error {
		method := zip.Deflate
		if strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".parquet") {
			method = zip.Store // already compressed
		}
		hdr := &zip.FileHeader{Name: name, Method: method, Modified: m.Modified}
		hdr.SetMode(0o644)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if data != nil {
			_, err = w.Write(data)
			return err
		}
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, &progressReader{ctx: ctx, r: f, done: &done, total: total, prog: prog})
		return err
	}
	err = add(manifestName, "", append(mb, '\n'))
	if err == nil {
		err = add(dbName, c.DBPath(), nil)
	}
	for _, e := range m.Evidence {
		if err != nil || noEvidence {
			break
		}
		err = add(e.Stored, filepath.Join(c.Dir, filepath.FromSlash(e.Stored)), nil)
	}
	if err == nil {
		err = zw.Close()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// foldWAL checkpoints a database left with a write-ahead log, so that the
// packed file is complete on its own.
func (c *Case) foldWAL(ctx context.Context) error {
	if _, err := os.Stat(c.DBPath() + ".wal"); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	db, err := query.OpenWriter(ctx, c.DBPath())
	if err != nil {
		return err
	}
	return checkpointClose(ctx, db)
}

// Check is the verdict on one member of a case or a .l4case.
type Check struct {
	Path   string
	Status string // ok, mismatch, missing, omitted, unexpected
	Want   string // SHA-256 the manifest records
	Got    string // SHA-256 of the content
}

// VerifyError says which members failed verification.
type VerifyError struct {
	Source string
	Bad    []Check
}

func (e *VerifyError) Error() string {
	var parts []string
	for _, c := range e.Bad {
		switch c.Status {
		case "mismatch":
			parts = append(parts, fmt.Sprintf("%s: SHA-256 mismatch: manifest says %s, content is %s", c.Path, c.Want, c.Got))
		default:
			parts = append(parts, fmt.Sprintf("%s: %s", c.Path, c.Status))
		}
	}
	return fmt.Sprintf("%s failed verification:\n\t%s", e.Source, strings.Join(parts, "\n\t"))
}

// OpenPack verifies a .l4case and unpacks it into outDir, which must not
// exist or be empty. Every member's name, size and SHA-256 are checked
// against the manifest while it is unpacked into a temporary folder; only a
// pack that passes every check is moved into place. Nothing in it is opened
// before that.
func OpenPack(ctx context.Context, file, outDir string, lim Limits, prog Progress) (*Case, error) {
	if entries, err := os.ReadDir(outDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s already exists and is not empty", outDir)
	}
	parent := filepath.Dir(filepath.Clean(outDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".l4case-open-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if _, err := readPack(ctx, file, tmp, lim, prog); err != nil {
		return nil, err
	}
	for _, e := range mustManifest(tmp).Evidence {
		if !e.Omitted {
			os.Chmod(filepath.Join(tmp, filepath.FromSlash(e.Stored)), 0o444)
		}
	}
	os.Remove(outDir)
	if err := os.Rename(tmp, outDir); err != nil {
		return nil, err
	}
	return Open(ctx, outDir)
}

func mustManifest(dir string) *Manifest {
	m, err := readManifest(dir)
	if err != nil {
		return &Manifest{}
	}
	return m
}

// Verify recomputes every hash of a case folder or a .l4case file against
// its manifest. The error is a *VerifyError naming the offending members.
func Verify(ctx context.Context, path string, lim Limits) ([]Check, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return verifyDir(ctx, path)
	}
	return readPack(ctx, path, "", lim, nil)
}

func verifyDir(ctx context.Context, dir string) ([]Check, error) {
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	var checks []Check
	check := func(rel, want string) error {
		h, err := hashFile(ctx, filepath.Join(dir, filepath.FromSlash(rel)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			checks = append(checks, Check{Path: rel, Status: "missing", Want: want})
		case err != nil:
			return err
		case h.SHA256 != want:
			checks = append(checks, Check{Path: rel, Status: "mismatch", Want: want, Got: h.SHA256})
		default:
			checks = append(checks, Check{Path: rel, Status: "ok", Want: want, Got: h.SHA256})
		}
		return nil
	}
	if m.Database != nil {
		if err := check(dbName, m.Database.SHA256); err != nil {
			return nil, err
		}
	}
	for _, e := range m.Evidence {
		if e.Omitted {
			checks = append(checks, Check{Path: e.Stored, Status: "omitted", Want: e.SHA256})
			continue
		}
		if err := check(e.Stored, e.SHA256); err != nil {
			return nil, err
		}
	}
	return checks, verdict(dir, checks)
}

func verdict(src string, checks []Check) error {
	var bad []Check
	for _, c := range checks {
		if c.Status != "ok" && c.Status != "omitted" {
			bad = append(bad, c)
		}
	}
	if len(bad) > 0 {
		return &VerifyError{Source: src, Bad: bad}
	}
	return nil
}

// readPack checks a .l4case and, when dst is not empty, unpacks it there.
func readPack(ctx context.Context, file, dst string, lim Limits, prog Progress) ([]Check, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("%s: not a .l4case file: %w", file, err)
	}
	defer zr.Close()
	if len(zr.File) > lim.MaxMembers {
		return nil, fmt.Errorf("%s: %d members, more than the %d allowed", file, len(zr.File), lim.MaxMembers)
	}
	if len(zr.File) == 0 || zr.File[0].Name != manifestName {
		return nil, fmt.Errorf("%s: the first member must be %s", file, manifestName)
	}
	// Names and sizes first: a bomb or a path escape fails before a byte is written.
	var total int64
	seen := map[string]bool{}
	for _, f := range zr.File {
		if err := safeMemberName(f.Name); err != nil {
			return nil, fmt.Errorf("%s: member %q refused: %w", file, f.Name, err)
		}
		if !f.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: member %q refused: not a regular file (%s)", file, f.Name, f.Mode().Type())
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("%s: member %q appears twice", file, f.Name)
		}
		seen[f.Name] = true
		size := int64(f.UncompressedSize64)
		if size < 0 || f.UncompressedSize64 > uint64(lim.MaxTotal) {
			return nil, fmt.Errorf("%s: member %q would unpack to %s, more than the %s allowed", file, f.Name, SizeText(int64(min(f.UncompressedSize64, 1<<62))), SizeText(lim.MaxTotal))
		}
		if size > lim.RatioFloor && int64(f.CompressedSize64)*lim.MaxRatio < size {
			return nil, fmt.Errorf("%s: member %q would expand from %s to %s (more than %d:1): refusing a likely zip bomb",
				file, f.Name, SizeText(int64(f.CompressedSize64)), SizeText(size), lim.MaxRatio)
		}
		total += size
		if total > lim.MaxTotal {
			return nil, fmt.Errorf("%s: members would unpack to more than the %s allowed", file, SizeText(lim.MaxTotal))
		}
	}
	if dst != "" {
		if free, ok := freeSpace(dst); ok && uint64(total) > free {
			return nil, fmt.Errorf("%s: unpacking needs %s, only %s free", file, SizeText(total), SizeText(int64(free)))
		}
	}

	mf := zr.File[0]
	if mf.UncompressedSize64 > 64<<20 {
		return nil, fmt.Errorf("%s: manifest of %s is too large", file, SizeText(int64(mf.UncompressedSize64)))
	}
	mbytes, err := readMember(mf, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	m, err := parseManifest(mbytes, file+":"+manifestName)
	if err != nil {
		return nil, err
	}
	if m.SchemaVersion > query.CurrentVersion {
		return nil, &query.VersionError{Have: m.SchemaVersion, Want: query.CurrentVersion}
	}
	want := map[string]string{}
	if m.Database == nil {
		return nil, fmt.Errorf("%s: the manifest records no database hash", file)
	}
	want[dbName] = m.Database.SHA256
	var checks []Check
	for _, e := range m.Evidence {
		if err := safeMemberName(e.Stored); err != nil || !strings.HasPrefix(e.Stored, "evidence/") {
			return nil, fmt.Errorf("%s: manifest names evidence %q outside evidence/", file, e.Stored)
		}
		if e.Omitted {
			checks = append(checks, Check{Path: e.Stored, Status: "omitted", Want: e.SHA256})
			continue
		}
		want[e.Stored] = e.SHA256
	}
	if dst != "" {
		if err := os.WriteFile(filepath.Join(dst, manifestName), mbytes, 0o644); err != nil {
			return nil, err
		}
	}
	var done int64
	for _, f := range zr.File[1:] {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w, ok := want[f.Name]
		if !ok {
			checks = append(checks, Check{Path: f.Name, Status: "unexpected"})
			continue
		}
		delete(want, f.Name)
		var out io.Writer = io.Discard
		var of *os.File
		if dst != "" {
			p := filepath.Join(dst, filepath.FromSlash(f.Name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			of, err = os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return nil, err
			}
			out = of
		}
		h := sha256.New()
		pr := &progressWriter{w: io.MultiWriter(out, h), done: &done, total: total, prog: prog}
		_, err := readMember(f, pr)
		if of != nil {
			if cerr := of.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		got := hex.EncodeToString(h.Sum(nil))
		st := "ok"
		if got != w {
			st = "mismatch"
		}
		checks = append(checks, Check{Path: f.Name, Status: st, Want: w, Got: got})
	}
	for p, w := range want {
		checks = append(checks, Check{Path: p, Status: "missing", Want: w})
	}
	return checks, verdict(file, checks)
}

// readMember reads a member, refusing more bytes than it declared (a zip can
// lie about sizes). With w nil it returns the content.
func readMember(f *zip.File, w io.Writer) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("member %q: %w", f.Name, err)
	}
	defer rc.Close()
	lr := io.LimitReader(rc, int64(f.UncompressedSize64)+1)
	var n int64
	var data []byte
	if w == nil {
		data, err = io.ReadAll(lr)
		n = int64(len(data))
	} else {
		n, err = io.Copy(w, lr)
	}
	if err != nil {
		return nil, fmt.Errorf("member %q: %w", f.Name, err)
	}
	if n != int64(f.UncompressedSize64) {
		return nil, fmt.Errorf("member %q: holds more bytes than the %d it declares", f.Name, f.UncompressedSize64)
	}
	return data, nil
}

// safeMemberName refuses names that could land outside the case folder.
func safeMemberName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case strings.Contains(name, `\`):
		return errors.New("backslash in name")
	case strings.HasPrefix(name, "/") || (len(name) > 1 && name[1] == ':'):
		return errors.New("absolute path")
	case strings.ContainsRune(name, 0):
		return errors.New("NUL in name")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return errors.New("path with ..")
		}
	}
	if path.Clean(name) != name {
		return errors.New("name is not a clean path")
	}
	return nil
}

func hashFile(ctx context.Context, p string) (*FileHash, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err != nil {
		return nil, err
	}
	return &FileHash{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func freeSpace(dir string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}

type progressReader struct {
	ctx         context.Context
	r           io.Reader
	done        *int64
	total       int64
	prog        Progress
	sinceReport int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	*p.done += int64(n)
	p.sinceReport += int64(n)
	if p.prog != nil && (p.sinceReport > 8<<20 || err == io.EOF) {
		p.sinceReport = 0
		p.prog(*p.done, p.total)
	}
	return n, err
}

type progressWriter struct {
	w           io.Writer
	done        *int64
	total       int64
	prog        Progress
	sinceReport int64
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	*p.done += int64(n)
	p.sinceReport += int64(n)
	if p.prog != nil && p.sinceReport > 8<<20 {
		p.sinceReport = 0
		p.prog(*p.done, p.total)
	}
	return n, err
}

// OpenPackCached opens a .l4case for viewing: it is verified and unpacked
// once into the user's cache folder, keyed by its SHA-256, and reused after.
func OpenPackCached(ctx context.Context, file string) (*Case, error) {
	h, err := hashFile(ctx, file)
	if err != nil {
		return nil, err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "l4case", "opened", h.SHA256[:16])
	if IsCaseDir(dir) {
		return Open(ctx, dir)
	}
	return OpenPack(ctx, file, dir, DefaultLimits, nil)
}
