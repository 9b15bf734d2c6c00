package gen

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// elbEntry is one access log line: a Classic ELB's TCP listener, or an
// ALB's HTTP listener.
type elbEntry struct {
	t             time.Time
	node          int // ELB node (index into world.elbENIs)
	client        netip.AddrPort
	backend       netip.AddrPort // invalid when the backend was never reached
	rpt, bpt, rsp float64
	recv, sent    int
	order         int
	// ALB only
	created time.Time // request_creation_time
	status  int       // the status the ALB (and the target) returned
	request string    // "GET http://host:80/uri HTTP/1.1"
	trace   string    // X-Amzn-Trace-Id
}

// elbWriter writes 5-minute access log objects per ELB node, named as
// Elastic Load Balancing names them: ..._LBNAME_ENDTIME_NODEIP_RANDOM.log.
type elbWriter struct {
	g       *generator
	root    string
	skew    time.Duration
	pending []elbEntry
	n       int
	files   []string
	lines   int64
}

func (e *elbWriter) add(x elbEntry) {
	e.n++
	x.order = e.n
	x.t = x.t.Add(e.skew)
	e.pending = append(e.pending, x)
}

// flushBefore writes the intervals that ended before t.
func (e *elbWriter) flushBefore(t time.Time) error {
	type key struct {
		end  time.Time
		node int
	}
	groups := map[key][]elbEntry{}
	var keep []elbEntry
	for _, x := range e.pending {
		end := x.t.UTC().Truncate(5 * time.Minute).Add(5 * time.Minute)
		if end.After(t) {
			keep = append(keep, x)
			continue
		}
		k := key{end, x.node}
		groups[k] = append(groups[k], x)
	}
	e.pending = keep
	var keys []key
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].end.Equal(keys[j].end) {
			return keys[i].end.Before(keys[j].end)
		}
		return keys[i].node < keys[j].node
	})
	for _, k := range keys {
		xs := groups[k]
		sort.Slice(xs, func(i, j int) bool {
			if !xs[i].t.Equal(xs[j].t) {
				return xs[i].t.Before(xs[j].t)
			}
			return xs[i].order < xs[j].order
		})
		if err := e.writeFile(k.end, k.node, xs); err != nil {
			return err
		}
	}
	return nil
}

func (e *elbWriter) writeFile(end time.Time, node int, xs []elbEntry) error {
	w := e.g.w
	dir := filepath.Join(e.root, "AWSLogs", account, "elasticloadbalancing", region, end.Format("2006"), end.Format("01"), end.Format("02"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := fmt.Sprintf("%s_elasticloadbalancing_%s_%s_%s_%s_%s.log", account, region, strings.ReplaceAll(w.elbName, "/", "."),
		end.Format("20060102T1504Z"), w.elbPubIP[node], randLower(w, 8))
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	for _, x := range xs {
		backend, rpt, bpt, rsp := "-", "-1", "-1", "-1"
		if x.backend.IsValid() {
			backend = x.backend.String()
			rpt, bpt, rsp = secs(x.rpt), secs(x.bpt), secs(x.rsp)
		}
		ts := x.t.UTC().Format("2006-01-02T15:04:05.000000Z")
		if w.lb != "alb" {
			fmt.Fprintf(bw, "%s %s %s %s %s %s %s - - %d %d \"- - - \" \"-\" - -\n",
				ts, w.elbName, x.client, backend, rpt, bpt, rsp, x.recv, x.sent)
			e.lines++
			continue
		}
		targetStatus, targets, targetStatuses := "-", "-", "-"
		if x.backend.IsValid() {
			targetStatus, targets, targetStatuses = fmt.Sprint(x.status), x.backend.String(), fmt.Sprint(x.status)
		}
		fmt.Fprintf(bw, "http %s %s %s %s %s %s %s %d %s %d %d \"%s\" \"Apache-HttpClient/4.5.13 (Java/11.0.11)\" - - %s \"%s\" \"-\" \"-\" 0 %s \"forward\" \"-\" \"-\" \"%s\" \"%s\" \"-\" \"-\"\n",
			ts, w.elbName, x.client, backend, rpt, bpt, rsp, x.status, targetStatus, x.recv, x.sent, x.request,
			e.targetGroup(), x.trace, x.created.UTC().Format("2006-01-02T15:04:05.000000Z"), targets, targetStatuses)
		e.lines++
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	e.files = append(e.files, filepath.Join(dir, name))
	return f.Close()
}

func (e *elbWriter) targetGroup() string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/k8s-openshif-routerde-%d/%s", region, account, httpNode, strings.Repeat("0", 16))
}

// secs formats a duration in seconds as the ELB does: up to six decimals,
// no trailing zeros.
func secs(s float64) string {
	b := []byte(fmt.Sprintf("%.6f", s))
	for len(b) > 3 && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return string(b)
}

func randLower(w *world, n int) string {
	const a = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[w.rng.IntN(len(a))]
	}
	return string(b)
}

// opflexWriter writes the opflex-agent log of the node hosting the pod a
// deny-all NetworkPolicy selects: drop lines in the 2024 format among the
// agent's ordinary chatter.
type opflexWriter struct {
	f     *os.File
	bw    *bufio.Writer
	path  string
	drops int64
	other int64
}

func newOpflexWriter(path string) (*opflexWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &opflexWriter{f: f, bw: bufio.NewWriter(f), path: path}, nil
}

func opflexTime(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("[%s %02d:%02d:%02d.%06d]", t.Format("2006-Jan-02"), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1000)
}

// drop logs a TCP SYN dropped by the security group (policy) table.
func (o *opflexWriter) drop(t time.Time, smac, dmac string, src, dst netip.AddrPort, ttl uint8, id uint16, seq uint32) {
	fmt.Fprintf(o.bw, "%s [info] [ovs/PacketLogHandler.cpp:262:parseLog] Acc-SEC_GROUP_IN_TABLE MISS  SMAC=%s DMAC=%s ETYP=IPv4 SRC=%s DST=%s LEN=60 DSCP=0 TTL=%d ID=%d FLAGS=2 FRAG=0 PROTO=TCP SPT=%d DPT=%d SEQ=%d ACK=0 LEN=10 WINDOWS=62020 SYN  URGP=0\n",
		opflexTime(t), smac, dmac, src.Addr(), dst.Addr(), ttl, id, src.Port(), dst.Port(), seq)
	o.drops++
}

// chatter logs an ordinary agent line, which is not a drop.
func (o *opflexWriter) chatter(t time.Time, msg string) {
	fmt.Fprintf(o.bw, "%s [info] [opflex/engine/Processor.cpp:391:processItem] %s\n", opflexTime(t), msg)
	o.other++
}

func (o *opflexWriter) close() error {
	if o == nil {
		return nil
	}
	err := o.bw.Flush()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}
