package gen

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// flowKey is one flow log record's identity: a direction of a 5-tuple on an
// ENI, with its action, in one aggregation window.
type flowKey struct {
	eni      *eni
	src, dst netip.AddrPort
	proto    uint8
	accept   bool
	window   int64
}

type flowVal struct {
	key            flowKey
	packets, bytes int64
	first, last    time.Time
	tcpFlags       int
}

// flowAgg aggregates packets into flow log records as AWS does: per ENI,
// per direction, per aggregation window. Windows are kept apart so that a
// closed window is written whole without looking at the open ones.
type flowAgg struct {
	interval time.Duration
	windows  map[int64]map[flowKey]*flowVal
	order    map[int64][]*flowVal // records of a window in order of first packet
	outs     []*flowWriter
	records  int64
}

func newFlowAgg(interval time.Duration, outs ...*flowWriter) *flowAgg {
	return &flowAgg{interval: interval, windows: map[int64]map[flowKey]*flowVal{}, order: map[int64][]*flowVal{}, outs: outs}
}

func (a *flowAgg) add(e *eni, src, dst netip.AddrPort, proto uint8, t time.Time, ipLen int, flags uint8, ok bool) {
	win := t.Unix() / int64(a.interval/time.Second)
	m := a.windows[win]
	if m == nil {
		m = map[flowKey]*flowVal{}
		a.windows[win] = m
	}
	k := flowKey{eni: e, src: src, dst: dst, proto: proto, accept: ok, window: win}
	v := m[k]
	if v == nil {
		v = &flowVal{key: k, first: t}
		m[k] = v
		a.order[win] = append(a.order[win], v)
	}
	v.packets++
	v.bytes += int64(ipLen)
	if t.After(v.last) {
		v.last = t
	}
	if t.Before(v.first) {
		v.first = t
	}
	switch {
	case flags&fSYN != 0 && flags&fACK != 0:
		v.tcpFlags |= 18
	case flags&fSYN != 0:
		v.tcpFlags |= 2
	}
	if flags&fFIN != 0 {
		v.tcpFlags |= 1
	}
	if flags&fRST != 0 {
		v.tcpFlags |= 4
	}
}

// flushBefore writes every window that ended before t, oldest first.
func (a *flowAgg) flushBefore(t time.Time) error {
	limit := t.Unix() / int64(a.interval/time.Second)
	var wins []int64
	for w := range a.windows {
		if w < limit {
			wins = append(wins, w)
		}
	}
	sort.Slice(wins, func(i, j int) bool { return wins[i] < wins[j] })
	for _, w := range wins {
		for _, v := range a.order[w] {
			a.records++
			for _, o := range a.outs {
				if err := o.write(v.key, v, a.interval); err != nil {
					return err
				}
			}
		}
		delete(a.windows, w)
		delete(a.order, w)
	}
	return nil
}

// flowWriter writes records into S3-style objects, one per delivery slot.
type flowWriter struct {
	g        *generator
	root     string
	id       string
	fields   []string
	only     map[*eni]bool // nil: every ENI
	skew     time.Duration
	maxDelay time.Duration
	slot     time.Duration
	f        *os.File
	zw       *gzip.Writer
	bw       *bufio.Writer
	slotEnd  time.Time
	files    []string
	written  int64
	versions int
}

var v2Fields = []string{"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "action", "log-status"}

var v5Fields = []string{"version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "bytes", "start", "end", "action", "log-status",
	"tcp-flags", "flow-direction", "pkt-srcaddr", "pkt-dstaddr", "traffic-path"}

// delay is how late a record's start and end trail its packets: AWS says
// up to 60 s. Both directions of a 5-tuple in one window share it; it is
// drawn from a hash, not the generator's random stream, so that turning it
// on changes nothing else in the bundle.
func (fw *flowWriter) delay(k flowKey) time.Duration {
	if fw.maxDelay <= 0 {
		return 0
	}
	a, b := k.src.String(), k.dst.String()
	if a > b {
		a, b = b, a
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d %s %s %s %d %d", fw.g.o.Seed, k.eni.ID, a, b, k.proto, k.window)
	return time.Duration(h.Sum64()%uint64(fw.maxDelay/time.Second+1)) * time.Second
}

// LogFormat is the ${field} format string of the writer, as describe-flow-logs shows it.
func (fw *flowWriter) LogFormat() string {
	parts := make([]string, len(fw.fields))
	for i, f := range fw.fields {
		parts[i] = "${" + f + "}"
	}
	return strings.Join(parts, " ")
}

func (fw *flowWriter) write(k flowKey, v *flowVal, interval time.Duration) error {
	if fw.only != nil && !fw.only[k.eni] {
		return nil
	}
	end := time.Unix((k.window+1)*int64(interval/time.Second), 0).UTC()
	if fw.f == nil || end.After(fw.slotEnd) {
		if err := fw.open(end); err != nil {
			return err
		}
	}
	d := fw.delay(k)
	start, last := v.first.Add(fw.skew+d).Unix(), v.last.Add(fw.skew+d).Unix()+1
	action := "REJECT"
	if k.accept {
		action = "ACCEPT"
	}
	var b strings.Builder
	for i, f := range fw.fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch f {
		case "version":
			fmt.Fprint(&b, map[int]int{14: 2, 19: 5}[len(fw.fields)])
		case "account-id":
			b.WriteString(account)
		case "interface-id":
			b.WriteString(k.eni.ID)
		case "srcaddr", "pkt-srcaddr":
			b.WriteString(k.src.Addr().String())
		case "dstaddr", "pkt-dstaddr":
			b.WriteString(k.dst.Addr().String())
		case "srcport":
			fmt.Fprint(&b, k.src.Port())
		case "dstport":
			fmt.Fprint(&b, k.dst.Port())
		case "protocol":
			fmt.Fprint(&b, k.proto)
		case "packets":
			fmt.Fprint(&b, v.packets)
		case "bytes":
			fmt.Fprint(&b, v.bytes)
		case "start":
			fmt.Fprint(&b, start)
		case "end":
			fmt.Fprint(&b, last)
		case "action":
			b.WriteString(action)
		case "log-status":
			b.WriteString("OK")
		case "tcp-flags":
			fmt.Fprint(&b, v.tcpFlags)
		case "flow-direction":
			if k.dst.Addr() == k.eni.IP {
				b.WriteString("ingress")
			} else {
				b.WriteString("egress")
			}
		case "traffic-path":
			switch {
			case k.dst.Addr() == k.eni.IP:
				b.WriteString("-")
			case fw.g.w.vpcCIDR.Contains(k.dst.Addr()):
				b.WriteString("1")
			default:
				b.WriteString("8")
			}
		default:
			b.WriteString("-")
		}
	}
	b.WriteByte('\n')
	fw.written++
	_, err := fw.bw.WriteString(b.String())
	return err
}

// open starts the object delivered after the slot holding end.
func (fw *flowWriter) open(end time.Time) error {
	if err := fw.close(); err != nil {
		return err
	}
	slotEnd := end.Truncate(fw.slot)
	if slotEnd.Before(end) {
		slotEnd = slotEnd.Add(fw.slot)
	}
	fw.slotEnd = slotEnd
	dir := filepath.Join(fw.root, "AWSLogs", account, "vpcflowlogs", region, slotEnd.Format("2006"), slotEnd.Format("01"), slotEnd.Format("02"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := fmt.Sprintf("%s_vpcflowlogs_%s_%s_%s_%s.log.gz", account, region, fw.id, slotEnd.Format("20060102T1504Z"), hexID(fw.g.w.rng, 8))
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	fw.f = f
	fw.zw, _ = gzip.NewWriterLevel(f, gzip.BestSpeed)
	fw.bw = bufio.NewWriterSize(fw.zw, 256<<10)
	fw.files = append(fw.files, filepath.Join(dir, name))
	_, err = fw.bw.WriteString(strings.Join(fw.fields, " ") + "\n")
	return err
}

func (fw *flowWriter) close() error {
	if fw.f == nil {
		return nil
	}
	err := fw.bw.Flush()
	if cerr := fw.zw.Close(); err == nil {
		err = cerr
	}
	if cerr := fw.f.Close(); err == nil {
		err = cerr
	}
	fw.f = nil
	return err
}
