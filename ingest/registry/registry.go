// Package registry is the one list of the importers l4case has, and
// detection: which importer a file belongs to.
//
// Detection is by trial: every importer is shown the file's head, in a fixed
// order (most specific first), and the first to accept it wins. When none
// does, the error lists every importer's reason.
package registry

import (
	"fmt"
	"sort"
	"strings"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/elblog"
	"dev.l4case/l4case/ingest/flowlog"
	"dev.l4case/l4case/ingest/inventory"
	"dev.l4case/l4case/ingest/opflex"
	"dev.l4case/l4case/ingest/pcap"
)

// All returns the importers in detection order.
func All() []ingest.Importer {
	return []ingest.Importer{
		pcap.Importer{},
		inventory.EC2{},
		inventory.OC{},
		flowlog.Importer{},
		elblog.Importer{},
		opflex.Importer{},
	}
}

// Kinds lists the kind names --kind accepts.
func Kinds() []string {
	var out []string
	for _, imp := range All() {
		out = append(out, imp.Kind())
	}
	sort.Strings(out)
	return out
}

// Lookup returns the importer of a kind.
func Lookup(kind string) (ingest.Importer, error) {
	switch kind {
	case "flowlog":
		return flowlog.Importer{}, nil
	case "elblog":
		return elblog.Importer{}, nil
	case "opflex":
		return opflex.Importer{}, nil
	case "pcap":
		return pcap.Importer{}, nil
	case "ec2":
		return inventory.EC2{}, nil
	case "oc":
		return inventory.OC{}, nil
	}
	return nil, fmt.Errorf("unknown kind %q (kinds: %s)", kind, strings.Join(Kinds(), ", "))
}

// Detect finds the importer for a file from its name and head.
func Detect(name string, head []byte) (ingest.Importer, error) {
	var reasons []string
	for _, imp := range All() {
		err := imp.Detect(name, head)
		if err == nil {
			return imp, nil
		}
		reasons = append(reasons, imp.Kind()+": "+err.Error())
	}
	return nil, &ingest.DetectError{File: name, Reasons: reasons}
}
