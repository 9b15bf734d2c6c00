package ingest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
)

// Source is one evidence file as an importer sees it.
type Source struct {
	ID   int    // evidence_id the rows carry
	Name string // path as given to import, for messages and the evidence table
	Path string // file to read: the read-only copy inside the case
	Size int64  // bytes on disk
	Opts Options

	read *atomic.Int64 // raw (compressed) bytes read so far, for progress
}

// NewSource describes the file at path, which the user called name.
func NewSource(id int, name, path string, opts Options) (*Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &Source{ID: id, Name: name, Path: path, Size: fi.Size(), Opts: opts, read: new(atomic.Int64)}, nil
}

// BytesRead is how much of the file has been read so far.
func (s *Source) BytesRead() int64 { return s.read.Load() }

// Open returns the file's content, gunzipped when it is gzip. Reads are
// counted for progress. The caller closes it.
func (s *Source) Open() (io.ReadCloser, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, err
	}
	s.read.Store(0)
	br := bufio.NewReaderSize(&countingReader{r: f, n: s.read}, 256<<10)
	if !IsGzip(br) {
		return readCloser{br, f}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, err
	}
	return readCloser{zr, multiCloser{zr, f}}, nil
}

// Gzip reports whether the file is gzip-compressed.
func (s *Source) Gzip() (bool, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	return IsGzip(bufio.NewReader(f)), nil
}

// Dir returns the directory components of Name, for importers that read
// meaning from the path (pcap/NODE/..., AWSLogs/ACCOUNT/...).
func (s *Source) Dir() []string {
	d := filepath.ToSlash(filepath.Dir(s.Name))
	if d == "." || d == "/" {
		return nil
	}
	return strings.Split(strings.Trim(d, "/"), "/")
}

// IsGzip peeks at the gzip magic.
func IsGzip(br *bufio.Reader) bool {
	b, _ := br.Peek(2)
	return len(b) == 2 && b[0] == 0x1f && b[1] == 0x8b
}

// Head reads up to HeadSize leading bytes of the file at path, gunzipped.
func Head(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if IsGzip(br) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	}
	var buf bytes.Buffer
	_, err = io.CopyN(&buf, r, HeadSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		// A damaged gzip stream still shows what it had.
		if buf.Len() == 0 {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type readCloser struct {
	io.Reader
	io.Closer
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// NodeFromPath returns NODE from a path laid out as .../pcap/NODE/FILE, the
// way captures are collected from cluster nodes, or "".
func NodeFromPath(name string) string {
	parts := strings.Split(filepath.ToSlash(name), "/")
	for i := len(parts) - 3; i >= 0; i-- {
		if parts[i] == "pcap" || parts[i] == "pcaps" {
			return parts[i+1]
		}
	}
	return ""
}

// IPNumber is an address as the two halves of the 128-bit number the
// schema's *_ip columns hold (IPv4 mapped into ::ffff:0:0/96), so that a
// table can Derive them as (hi::UHUGEINT << 64) + lo.
func IPNumber(s string) (hi, lo uint64, ok bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0, 0, false
	}
	b := netip.AddrFrom16(a.As16()).As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), true
}
