// Package ingest turns evidence files into rows of the case database.
//
// Each kind of evidence has an Importer in its own package under ingest/
// (flowlog, elblog, opflex, inventory, pcap); ingest/registry lists them in
// one place and detects which one a file belongs to. This package holds what
// they share: the Importer contract, the Source they read and the Writer they
// append to.
package ingest

import (
	"context"
	"fmt"
	"strings"
)

// An Importer reads one kind of evidence.
//
// Kind names the kind; it is what --kind takes and what the evidence table
// records.
//
// Detect is given the file's name and its first bytes (decompressed when the
// file is gzip, at most HeadSize, possibly cut mid-line). It returns nil when
// the content is of this kind and otherwise an error saying why not, which
// the registry shows the user when no importer matches. It decides on
// content: a name may add confidence, never replace it.
//
// Import streams the whole file from src into w and returns when the input
// is exhausted (nil), ctx is cancelled (ctx.Err()), or the file cannot be
// read: an I/O or decompression error, or a file header that does not parse
// although Detect accepted the file. That is an error naming the position
// (a *PosError, or one that names the file and line), and nothing of the
// file is kept. Damage inside an otherwise readable file is not: a record
// it cannot parse, or a file that ends inside a record, goes to w.Reject
// with its line, packet or byte offset, and every good record is imported.
// It never holds the whole file in memory. It returns what it recognised
// the format to be, for the evidence table.
type Importer interface {
	Kind() string
	Detect(name string, head []byte) error
	Import(ctx context.Context, src *Source, w *Writer) (format string, err error)
}

// HeadSize is how many leading bytes Detect is shown.
const HeadSize = 64 << 10

// Options carry what the user told import about the files.
type Options struct {
	// Node is the cluster node a capture was taken on; empty means take it
	// from the path (pcap/NODE/...).
	Node string
	// FlowLogFormat is the ${field} format of header-less flow logs.
	FlowLogFormat string
	// FlowLogFormats maps flow log ids (fl-...) to their LogFormat, from
	// describe-flow-logs snapshots in the case or in the same import.
	FlowLogFormats map[string]string
	// NoPackets leaves a capture's packet_data empty: its conversations,
	// HTTP messages and PROXY headers are stored, its packets are read
	// back from the capture on demand (app.Case.Packets, capture_packets).
	NoPackets bool
}

// ErrorPos says where in a file a problem is: "line 12", "packet 3 (byte
// offset 1024)".
type ErrorPos struct {
	File string
	Unit string // line, packet, byte
	N    int64
}

// PosError is an error at a position in an evidence file.
type PosError struct {
	ErrorPos
	Err error
}

func (e *PosError) Error() string {
	return fmt.Sprintf("%s: %s %d: %v", e.File, e.Unit, e.N, e.Err)
}

func (e *PosError) Unwrap() error { return e.Err }

// DetectError lists why each importer declined a file.
type DetectError struct {
	File    string
	Reasons []string // "kind: reason"
}

func (e *DetectError) Error() string {
	return fmt.Sprintf("%s: not a kind of evidence l4case knows:\n\t%s", e.File, strings.Join(e.Reasons, "\n\t"))
}
