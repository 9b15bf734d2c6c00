// Package opflex imports Cisco ACI OpFlex drop logs into table drops.
//
// Two kinds of line are drop records:
//
//   - opflex-agent packet log lines, 2020 and 2024 formats:
//     [2024-Feb-20 07:59:16.845663] [info] [ovs/PacketLogHandler.cpp:262:parseLog] Acc-SEC_GROUP_IN_TABLE MISS  SMAC=.. DMAC=.. ETYP=IPv4 SRC=.. DST=.. ... PROTO=TCP SPT=.. DPT=.. SEQ=.. ACK=0 LEN=10 WINDOWS=62020 SYN  URGP=0
//     [2020-Jan-03 11:57:54.416092] [info] [ovs/PacketLogHandler.cpp:196:parseLog] : Int-PORT_SECURITY_TABLE MAC=<dst>:<src>:IPv4 SRC=.. ... PROTO=ICMP TYPE=8 CODE=0 ID=.. SEQ=..
//   - the pod events the agent raises (oc describe pod, oc get events):
//     Warning  Acc-SEC_GROUP_IN_TABLE MISS(Security Drop)  2m2s (x3 over 9m3s)  aci-containers-host  IPv4 packet from 10.2.0.229 to default/web was dropped
//
// Parsing is liberal about whitespace and field order: KEY=VALUE pairs are
// taken wherever they are, bare words after them are TCP flags. Other lines
// of the agent's log are not drop records: they are counted in a note, not
// rejected. A line that looks like a drop record but cannot be read is
// rejected with its line number.
package opflex

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"dev.l4case/l4case/ingest"
)

// Importer reads OpFlex drop logs.
type Importer struct{}

// Kind is "opflex".
func (Importer) Kind() string { return "opflex" }

// Detect accepts a file whose head has a drop record.
func (Importer) Detect(name string, head []byte) error {
	lines := strings.Split(string(head), "\n")
	if len(lines) > 1 {
		lines = lines[:len(lines)-1] // the last may be cut
	}
	for _, l := range lines {
		if !candidate(l) {
			continue
		}
		if _, err := parse(l); err == nil {
			return nil
		}
	}
	return errors.New("no OpFlex drop log line (PacketLogHandler ... TABLE ... SRC= DST=, or a Security Drop pod event) in the first lines")
}

var (
	tableRE = regexp.MustCompile(`\b(?:Acc|Int|Exp)-[A-Z0-9_]*TABLE\b`)
	eventRE = regexp.MustCompile(`((?:Acc|Int|Exp)-[A-Z0-9_]*TABLE)\s*([A-Z]*)\s*\(([^)]*)\)(.*?)(?:IPv[46] )?packet from (\S+) to (\S+) was dropped`)
	countRE = regexp.MustCompile(`\(x(\d+) over`)
)

// candidate says whether a line claims to be a drop record.
func candidate(l string) bool {
	return strings.Contains(l, "PacketLogHandler") || (tableRE.MatchString(l) && (strings.Contains(l, "SRC=") || strings.Contains(l, "was dropped")))
}

// Import reads one drop log.
func (Importer) Import(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	rc, err := src.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	t, err := w.Records("drops", columns...)
	if err != nil {
		return "", err
	}
	id := int64(src.ID)
	var p parser
	var other, packets, events int64
	err = ingest.NewLineReader(rc).Each(ctx, src.Name, func(b []byte, n int64) error {
		line := string(b)
		if strings.TrimSpace(line) == "" {
			return nil
		}
		if !candidate(line) {
			other++
			return nil
		}
		d, err := p.parse(line)
		if err != nil {
			w.Reject(n, "line", line, err.Error())
			return nil
		}
		p.emit(d, t, id, n)
		if d.kind == "event" {
			events++
		} else {
			packets++
			w.SeeTime(d.time)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if other > 0 {
		w.Note(fmt.Sprintf("%d lines are other opflex-agent messages, not drop records", other))
	}
	return fmt.Sprintf("OpFlex drop log: %d packet drops, %d pod events", packets, events), nil
}

var columns = []string{"evidence_id", "line", "kind", "time", "level", "source", "table_name", "reason",
	"smac", "dmac", "ethertype", "src", "dst", "ip_len", "dscp", "ttl", "ip_id", "ip_flags", "frag", "proto",
	"spt", "dpt", "seq", "ack", "tcp_window", "tcp_flags", "icmp_type", "icmp_code",
	"pod_namespace", "pod_name", "event_count", "fields"}

// drop is one parsed record.
type drop struct {
	kind, level, source, table, reason string
	time                               time.Time
	keys, vals                         []string // every KEY=VALUE in order
	flags                              []string
	src, dst, podNS, podName           string
	count                              int64
}

// parser reuses one record's memory from line to line.
type parser struct {
	d      drop
	toks   []string
	ks, vs []string
}

// parse reads a drop record line.
func parse(line string) (*drop, error) {
	var p parser
	return p.parse(line)
}

// parse reads a drop record line into p's record, valid until the next call.
func (p *parser) parse(line string) (*drop, error) {
	if !strings.Contains(line, " was dropped") {
		// not an event: skip the regexp, which costs more than the rest
	} else if m := eventRE.FindStringSubmatch(line); m != nil {
		d := &drop{kind: "event", table: m[1], reason: strings.TrimSpace(strings.TrimSpace(m[2]) + " " + m[3]), src: m[5], dst: m[6]}
		if ns, pod, ok := strings.Cut(m[6], "/"); ok {
			d.podNS, d.podName = ns, pod
		}
		d.count = 1
		if c := countRE.FindStringSubmatch(line); c != nil {
			d.count, _ = strconv.ParseInt(c[1], 10, 64)
		}
		if strings.HasPrefix(strings.TrimSpace(line), "Warning") {
			d.level = "Warning"
		}
		return d, nil
	}
	d := &p.d
	*d = drop{kind: "packet", keys: d.keys[:0], vals: d.vals[:0], flags: d.flags[:0]}
	rest := strings.TrimSpace(line)
	// Leading [time] [level] [source] groups.
	for i := 0; strings.HasPrefix(rest, "[") && i < 3; i++ {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return nil, errors.New("unclosed [ in the line prefix")
		}
		part := rest[1:j]
		rest = strings.TrimSpace(rest[j+1:])
		switch i {
		case 0:
			t, ok := agentTime(part)
			if !ok {
				return nil, fmt.Errorf("timestamp [%s]: not YYYY-Mon-DD HH:MM:SS.ffffff", part)
			}
			d.time = t
		case 1:
			d.level = part
		case 2:
			d.source = part
		}
	}
	rest = strings.TrimSpace(strings.TrimPrefix(rest, ":"))
	p.toks = fields(p.toks[:0], rest)
	toks := p.toks
	i := 0
	for i < len(toks) && !strings.Contains(toks[i], "=") {
		i++
	}
	head := toks[:i]
	if len(head) == 0 || !strings.Contains(head[0], "TABLE") {
		return nil, errors.New("no OpenFlow table name (…_TABLE) before the packet fields")
	}
	d.table = head[0]
	d.reason = strings.Join(head[1:], " ")
	for ; i < len(toks); i++ {
		k, v, ok := strings.Cut(toks[i], "=")
		if !ok {
			d.flags = append(d.flags, toks[i])
			continue
		}
		if n := d.seen(k); n > 0 {
			k += "_" + strconv.Itoa(n+1) // the TCP LEN after the IP LEN, the ICMP ID after the IP ID
		}
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
	}
	if d.get("SRC") == "" || d.get("DST") == "" {
		return nil, errors.New("no SRC= and DST=")
	}
	d.src, d.dst = d.get("SRC"), d.get("DST")
	for _, k := range []string{"LEN", "DSCP", "TTL", "ID", "FLAGS", "FRAG", "SPT", "DPT", "SEQ", "ACK", "WINDOWS", "TYPE", "CODE"} {
		if v := d.get(k); v != "" {
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				return nil, fmt.Errorf("field %s=%q is not a number", k, v)
			}
		}
	}
	return d, nil
}

// fields is strings.Fields for ASCII white space, appending to dst.
func fields(dst []string, s string) []string {
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		if j > i {
			dst = append(dst, s[i:j])
		}
		i = j
	}
	return dst
}

// seen is how many times key k (or k_N) was seen already.
func (d *drop) seen(k string) int {
	n := 0
	for _, x := range d.keys {
		if x == k || (len(x) > len(k) && x[len(k)] == '_' && x[:len(k)] == k) {
			n++
		}
	}
	return n
}

var months = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// agentTime reads the agent's "2024-Feb-20 07:59:16.845663" (UTC), several
// times faster than time.Parse.
func agentTime(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[8] != '-' || s[11] != ' ' {
		return time.Time{}, false
	}
	m, ok := months[s[5:8]]
	if !ok {
		return time.Time{}, false
	}
	var buf [48]byte
	iso := append(buf[:0], s[0:4]...)
	iso = append(iso, '-', byte('0'+m/10), byte('0'+m%10), '-')
	iso = append(iso, s[9:11]...)
	iso = append(iso, 'T')
	iso = append(iso, s[12:]...)
	ns, ok := ingest.ParseISOTime(iso)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, ns).UTC(), true
}

func (d *drop) get(k string) string {
	for i, x := range d.keys {
		if x == k {
			return d.vals[i]
		}
	}
	return ""
}

func (d *drop) num(k string) (int64, bool) {
	v := d.get(k)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

const (
	cEvidence = iota
	cLine
	cKind
	cTime
	cLevel
	cSource
	cTable
	cReason
	cSMAC
	cDMAC
	cEther
	cSrc
	cDst
	cIPLen
	cDSCP
	cTTL
	cIPID
	cIPFlags
	cFrag
	cProto
	cSPT
	cDPT
	cSeq
	cAck
	cWindow
	cTCPFlags
	cICMPType
	cICMPCode
	cPodNS
	cPodName
	cCount
	cFields
)

var numCols = []struct {
	k string
	c int
}{{"LEN", cIPLen}, {"DSCP", cDSCP}, {"TTL", cTTL}, {"ID", cIPID}, {"FLAGS", cIPFlags}, {"FRAG", cFrag},
	{"SPT", cSPT}, {"DPT", cDPT}, {"SEQ", cSeq}, {"ACK", cAck}, {"WINDOWS", cWindow}, {"TYPE", cICMPType}, {"CODE", cICMPCode}}

func (p *parser) emit(d *drop, t *ingest.Table, id, n int64) {
	t.Int(cEvidence, id)
	t.Int(cLine, n)
	t.Str(cKind, d.kind)
	t.Time(cTime, d.time)
	str := func(c int, s string) {
		if s != "" {
			t.Str(c, s)
		}
	}
	str(cLevel, d.level)
	str(cSource, d.source)
	str(cTable, d.table)
	str(cReason, d.reason)
	str(cSrc, d.src)
	str(cDst, d.dst)
	if d.kind == "event" {
		str(cPodNS, d.podNS)
		str(cPodName, d.podName)
		t.Int(cCount, d.count)
		t.Row()
		return
	}
	smac, dmac, ether := d.get("SMAC"), d.get("DMAC"), d.get("ETYP")
	if mac := d.get("MAC"); mac != "" {
		// 2020: MAC=<dst 6 bytes>:<src 6 bytes>:<ethertype>
		parts := strings.Split(mac, ":")
		if len(parts) >= 12 {
			dmac, smac = strings.Join(parts[0:6], ":"), strings.Join(parts[6:12], ":")
			if len(parts) > 12 {
				ether = strings.Join(parts[12:], ":")
			}
		}
	}
	str(cSMAC, smac)
	str(cDMAC, dmac)
	str(cEther, ether)
	str(cProto, d.get("PROTO"))
	tcp := strings.EqualFold(d.get("PROTO"), "TCP")
	for _, x := range numCols {
		if (x.k == "SEQ" || x.k == "ACK") && !tcp {
			continue
		}
		if v, ok := d.num(x.k); ok {
			t.Int(x.c, v)
		}
	}
	if len(d.flags) > 0 {
		t.Str(cTCPFlags, strings.Join(d.flags, " "))
	}
	// fields keeps what has no column: the TCP header length after the IP
	// length, the ICMP id and sequence, URGP, and keys l4case does not know.
	ks, vs := p.ks[:0], p.vs[:0]
	for i, k := range d.keys {
		if !promoted(k, tcp) {
			ks, vs = append(ks, k), append(vs, d.vals[i])
		}
	}
	if ks == nil {
		ks, vs = []string{}, []string{} // an empty map, not NULL
	}
	p.ks, p.vs = ks, vs
	t.Map(cFields, ks, vs)
	t.Row()
}

// promoted says whether a KEY has a column of its own; SEQ and ACK are
// columns for TCP only (ICMP has a SEQ of its own).
func promoted(k string, tcp bool) bool {
	switch k {
	case "SMAC", "DMAC", "ETYP", "MAC", "SRC", "DST", "LEN", "DSCP", "TTL", "ID", "FLAGS", "FRAG", "PROTO",
		"SPT", "DPT", "WINDOWS", "TYPE", "CODE":
		return true
	case "SEQ", "ACK":
		return tcp
	}
	return false
}
