package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
	"dev.l4case/l4case/ingest/pcap"
)

var bigCapture struct {
	once    sync.Once
	path    string
	packets int64
	err     error
}

// capture2M generates (once per run) one node's capture of more than two
// million packets: the generator's scenario with an hour-long rotation.
func capture2M(b *testing.B) (string, int64) {
	bigCapture.once.Do(func() {
		dir, err := os.MkdirTemp("", "l4case-bench-pcap-*")
		if err != nil {
			bigCapture.err = err
			return
		}
		o := gen.Defaults()
		o.Out = dir
		o.Requests = 140000
		o.Duration = 40 * time.Minute
		o.Rotate = 2 * time.Hour
		tr, err := gen.Generate(context.Background(), o)
		if err != nil {
			bigCapture.err = err
			return
		}
		c := tr.Captures[0]
		bigCapture.path, bigCapture.packets = filepath.Join(dir, c.File), c.Packets
	})
	if bigCapture.err != nil {
		b.Fatal(bigCapture.err)
	}
	if bigCapture.packets < 2_000_000 {
		b.Fatalf("capture has %d packets, want at least 2M", bigCapture.packets)
	}
	return bigCapture.path, bigCapture.packets
}

// BenchmarkPcapImport imports the capture end to end into a case database:
// decode, conversations, HTTP and PROXY, Arrow batches into DuckDB.
func BenchmarkPcapImport(b *testing.B) {
	p, n := capture2M(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := ingesttest.Import(b, pcap.Importer{}, p, ingest.Options{Node: "bench"})
		if r.Err != nil || r.Records != n {
			b.Fatalf("%v: %d of %d packets", r.Err, r.Records, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkPcapImportNoPackets is the import without a packet_data row
// per packet (import --packets none): conversations, HTTP and PROXY only.
func BenchmarkPcapImportNoPackets(b *testing.B) {
	p, n := capture2M(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := ingesttest.Import(b, pcap.Importer{}, p, ingest.Options{Node: "bench", NoPackets: true})
		if r.Err != nil || r.Records != n {
			b.Fatalf("%v: %d of %d packets", r.Err, r.Records, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkBareDecode reads and decodes the same capture with pcapgo and a
// DecodingLayerParser and stores nothing: the ceiling for the importer.
func BenchmarkBareDecode(b *testing.B) {
	p, n := capture2M(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			b.Fatal(err)
		}
		var sll layers.LinuxSLL
		var ip4 layers.IPv4
		var tcp layers.TCP
		var pl gopacket.Payload
		parser := gopacket.NewDecodingLayerParser(layers.LayerTypeLinuxSLL, &sll, &ip4, &tcp, &pl)
		parser.IgnoreUnsupported = true
		var decoded []gopacket.LayerType
		var count int64
		for {
			data, _, err := r.ZeroCopyReadPacketData()
			if err != nil {
				break
			}
			parser.DecodeLayers(data, &decoded)
			count++
		}
		f.Close()
		if count != n {
			b.Fatalf("%d of %d packets", count, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// measured runs a command with its standard output discarded and returns
// its standard error and peak RSS in KiB. The RSS comes from /usr/bin/time:
// a child's own rusage is no good, as Go starts it with vfork and Linux
// then counts the parent's memory in the child's high-water mark.
func measured(name string, args ...string) (string, int64, error) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-f", "l4case-bench-rss %M", name}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	text := stderr.String()
	var kib int64
	if i := strings.LastIndex(text, "l4case-bench-rss "); i >= 0 {
		fmt.Sscan(text[i+len("l4case-bench-rss "):], &kib)
		text = text[:i]
	}
	return text, kib, err
}

// BenchmarkTsharkFields has tshark extract the fields the issue names from
// the same capture.
func BenchmarkTsharkFields(b *testing.B) {
	if _, err := exec.LookPath("tshark"); err != nil {
		b.Skip("tshark not installed")
	}
	p, n := capture2M(b)
	b.ResetTimer()
	var rss int64
	for i := 0; i < b.N; i++ {
		out, kib, err := measured("tshark", "-r", p, "-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst",
			"-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.stream")
		if err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		rss = max(rss, kib)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(rss)/1024, "MiB_peak_RSS")
}
