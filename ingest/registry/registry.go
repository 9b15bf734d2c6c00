// Package registry is the one list of the kinds of evidence l4case imports:
// for each, its importer and what the import around it must know (when it
// runs, whether it feeds the derived tables, how big its files get, whether
// it was taken on one node). Adding a kind is a package under ingest/ and
// one line in kinds below.
//
// Detection is by trial: every importer is shown the file's head, in the
// order of kinds (most specific first), and the first to accept it wins.
// When none does, the error lists every importer's reason.
package registry

import (
	"fmt"
	"sort"
	"strings"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/athenares"
	"dev.l4case/l4case/ingest/elblog"
	"dev.l4case/l4case/ingest/flowlog"
	"dev.l4case/l4case/ingest/inventory"
	"dev.l4case/l4case/ingest/opflex"
	"dev.l4case/l4case/ingest/pcap"
)

// Phase orders the files of one import.
type Phase int

const (
	// Inventory runs first: a describe-flow-logs snapshot says how the flow
	// logs of the same import read, and ENIs label everything after.
	Inventory Phase = iota
	// Logs are line-oriented logs.
	Logs
	// Captures run last, being the longest.
	Captures
)

// An Entry is one kind of evidence.
type Entry struct {
	ingest.Importer
	Phase Phase
	// Derives: importing this kind reruns the derived tables (the pairing
	// of flow-log records into conversations reads flow logs and ENIs).
	Derives bool
	// Large: files of this kind run to gigabytes, so their import runs
	// under DuckDB's tighter capture memory limit.
	Large bool
	// PerNode: the evidence was taken on one cluster node (given with
	// --node or read from pcap/NODE/ in its path) and records it.
	PerNode bool
}

// kinds, in detection order.
var kinds = []Entry{
	{Importer: pcap.Importer{}, Phase: Captures, Large: true, PerNode: true},
	{Importer: inventory.EC2{}, Phase: Inventory, Derives: true},
	{Importer: inventory.OC{}, Phase: Inventory},
	{Importer: flowlog.Importer{}, Phase: Logs, Derives: true},
	{Importer: elblog.Importer{}, Phase: Logs},
	{Importer: opflex.Importer{}, Phase: Logs},
	{Importer: athenares.Importer{}, Phase: Logs},
}

// All returns the kinds in detection order.
func All() []Entry { return append([]Entry(nil), kinds...) }

// Kinds lists the kind names --kind accepts.
func Kinds() []string {
	var out []string
	for _, e := range kinds {
		out = append(out, e.Kind())
	}
	sort.Strings(out)
	return out
}

// Lookup returns the entry of a kind.
func Lookup(kind string) (Entry, error) {
	for _, e := range kinds {
		if e.Kind() == kind {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("unknown kind %q (kinds: %s)", kind, strings.Join(Kinds(), ", "))
}

// Detect finds the kind of a file from its name and head.
func Detect(name string, head []byte) (Entry, error) {
	var reasons []string
	for _, e := range kinds {
		err := e.Detect(name, head)
		if err == nil {
			return e, nil
		}
		reasons = append(reasons, e.Kind()+": "+err.Error())
	}
	return Entry{}, &ingest.DetectError{File: name, Reasons: reasons}
}
