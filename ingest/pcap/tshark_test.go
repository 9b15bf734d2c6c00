package pcap

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
)

// Differences from tshark that are understood, per file and check.
var explained = map[string]map[string]string{
	"pcapng/gopacket_pcapng_le_test202.pcapng": {
		"packets": "tshark 4.0 shows the file's three pcapng custom blocks as pseudo-frames; they carry no packet",
	},
	"malformed/suricata-verify_bug-6875-01_fuzz.pcap": {
		"packets":       "tshark reads one more record (a 16 MB length it then refuses) before giving up; l4case stops at that record and reports its offset",
		"conversations": "tshark leaves frame 1 of this fuzzed file undissected (eth:ethertype:data); l4case decodes its IPv4 header and a TCP header with data offset 0",
	},
}

func tsharkOrSkip(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tshark is required in CI (./run test installs it)")
		}
		t.Skip("tshark not installed")
	}
}

// TestAgainstTshark imports every real capture in testdata/pcaps and a
// generated one, and compares with tshark: packets, each TCP stream's
// endpoints and frames and bytes each way (what tshark -z conv,tcp
// tabulates, read per frame so that bytes are exact and the stream numbers
// are compared too), HTTP requests and their URIs, PROXY source addresses.
func TestAgainstTshark(t *testing.T) {
	tsharkOrSkip(t)
	var files []string
	filepath.Walk("../../testdata/pcaps", func(p string, fi os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 30 {
		t.Fatalf("only %d captures found", len(files))
	}
	o := gen.Defaults()
	o.Out = t.TempDir()
	o.Requests, o.Duration = 150, 4*60e9
	tr, err := gen.Generate(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tr.Captures {
		files = append(files, filepath.Join(o.Out, c.File))
	}
	for _, f := range files {
		name := strings.TrimPrefix(filepath.ToSlash(f), "../../testdata/pcaps/")
		if strings.HasPrefix(f, o.Out) {
			name = "generated/" + filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			compareWithTshark(t, f, explained[name])
		})
	}
}

func tshark(t *testing.T, f string, args ...string) []string {
	t.Helper()
	out, err := exec.Command("tshark", append([]string{"-n", "-r", f}, args...)...).Output()
	if err != nil && len(out) == 0 {
		// tshark exits non-zero on damaged files after printing what it read.
		return nil
	}
	s := strings.TrimSpace(string(out))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type dirCount struct{ frames, bytes int64 }

func compareWithTshark(t *testing.T, f string, known map[string]string) {
	r := ingesttest.Import(t, Importer{}, f, ingest.Options{})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	check := func(what string, ok bool, msg string, args ...any) {
		if ok {
			return
		}
		if why := known[what]; why != "" {
			t.Logf("%s differs, explained: %s", what, why)
			return
		}
		t.Errorf(what+": "+msg, args...)
	}
	frames := tshark(t, f, "-T", "fields", "-E", "separator=|", "-e", "frame.number", "-e", "tcp.stream", "-e", "frame.len",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport")
	check("packets", int64(len(frames)) == r.Records, "tshark reads %d frames, l4case %d", len(frames), r.Records)

	// Per stream: the two endpoints and frames/bytes from each.
	ts := map[int]map[string]*dirCount{}
	for _, l := range frames {
		f := strings.Split(l, "|")
		if f[1] == "" {
			continue
		}
		id, _ := strconv.Atoi(f[1])
		n, _ := strconv.ParseInt(f[2], 10, 64)
		src := endpoint(f[3], f[4], f[5])
		if ts[id] == nil {
			ts[id] = map[string]*dirCount{}
		}
		if ts[id][src] == nil {
			ts[id][src] = &dirCount{}
		}
		ts[id][src].frames++
		ts[id][src].bytes += n
		dst := endpoint(f[6], f[7], f[8])
		if ts[id][dst] == nil {
			ts[id][dst] = &dirCount{}
		}
	}
	mine := map[int]map[string]*dirCount{}
	for _, row := range ingesttest.Rows(t, r.DB, `SELECT conv_id, a_addr, a_port, b_addr, b_port, packets_ab, bytes_ab, packets_ba, bytes_ba FROM tcp_conversations`) {
		id, _ := strconv.Atoi(row[0])
		num := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
		mine[id] = map[string]*dirCount{
			endpoint(row[1], "", row[2]): {num(row[5]), num(row[6])},
			endpoint(row[3], "", row[4]): {num(row[7]), num(row[8])},
		}
	}
	same := len(ts) == len(mine)
	for id, eps := range ts {
		m := mine[id]
		if len(m) != len(eps) {
			same = false
			continue
		}
		for ep, c := range eps {
			if m[ep] == nil || *m[ep] != *c {
				same = false
			}
		}
	}
	check("conversations", same, "tshark has %d streams %s, l4case %d %s", len(ts), describe(ts), len(mine), describe(mine))

	// Each stream's frames read back from the capture on demand, from the
	// stream's first frame's offset, are tshark's tcp.stream eq N.
	byStream := map[string][]string{}
	for _, l := range frames {
		if f := strings.Split(l, "|"); f[1] != "" {
			byStream[f[1]] = append(byStream[f[1]], f[0])
		}
	}
	agree := true
	var first string
	for _, c := range ingesttest.Rows(t, r.DB, `SELECT conv_id, first_offset, first_frame, last_frame, a_addr, a_port, b_addr, b_port FROM tcp_conversations ORDER BY conv_id`) {
		off, _ := strconv.ParseInt(c[1], 10, 64)
		ff, _ := strconv.ParseInt(c[2], 10, 64)
		lf, _ := strconv.ParseInt(c[3], 10, 64)
		a, b := c[4]+":"+c[5], c[6]+":"+c[7]
		var read []string
		Read(context.Background(), f, Position{Offset: off, Frame: ff}, func(x *Packet) bool {
			if x.Frame() > lf {
				return false
			}
			if s, d := hostPortOf(x.Src()), hostPortOf(x.Dst()); x.TCP() && (s == a && d == b || s == b && d == a) {
				read = append(read, strconv.FormatInt(x.Frame(), 10))
			}
			return true
		})
		if strings.Join(read, " ") != strings.Join(byStream[c[0]], " ") && agree {
			agree, first = false, fmt.Sprintf("stream %s: read %v, tshark %v", c[0], read, byStream[c[0]])
		}
	}
	check("conversations", agree, "packets read on demand: %s", first)

	// HTTP requests, by stream and URI.
	var want, got []string
	for _, l := range tshark(t, f, "-Y", "http.request", "-T", "fields", "-e", "tcp.stream", "-e", "http.request.uri") {
		want = append(want, l)
	}
	for _, row := range ingesttest.Rows(t, r.DB, `SELECT conv_id, uri FROM http_messages WHERE is_request`) {
		got = append(got, row[0]+"\t"+row[1])
	}
	sort.Strings(want)
	sort.Strings(got)
	check("http", strings.Join(want, "\n") == strings.Join(got, "\n"), "tshark requests %q, l4case %q", want, got)

	// PROXY v1 sources.
	want, got = nil, nil
	for _, h := range tshark(t, f, "-Y", `tcp.payload[0:6] == "PROXY "`, "-T", "fields", "-e", "tcp.payload") {
		var b []byte
		fmt.Sscanf(h, "%x", &b)
		if x := strings.Fields(string(b)); len(x) >= 6 {
			want = append(want, x[2]+":"+x[4])
		}
	}
	for _, row := range ingesttest.Rows(t, r.DB, `SELECT src_addr || ':' || src_port FROM proxy_headers WHERE version = 1`) {
		got = append(got, row[0])
	}
	sort.Strings(want)
	sort.Strings(got)
	check("proxy", strings.Join(want, ",") == strings.Join(got, ","), "tshark PROXY sources %v, l4case %v", want, got)
}

func endpoint(v4, v6, port string) string {
	a := v4
	if a == "" {
		a = v6
	}
	return a + "#" + port
}

func describe(m map[int]map[string]*dirCount) string {
	var parts []string
	for id, eps := range m {
		for ep, c := range eps {
			parts = append(parts, fmt.Sprintf("%d:%s=%d/%d", id, ep, c.frames, c.bytes))
		}
	}
	sort.Strings(parts)
	if len(parts) > 6 {
		parts = append(parts[:6], "…")
	}
	return strings.Join(parts, " ")
}
