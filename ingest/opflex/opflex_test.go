package opflex

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
)

const td = "../../testdata/opflex/"

func TestFormat2020(t *testing.T) {
	r := ingesttest.Import(t, Importer{}, td+"opflex-agent-droplog-2020-doc.log", ingest.Options{})
	if r.Err != nil || r.Records != 2 || r.Rejected != 0 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT kind, time, level, source, table_name, reason, smac, dmac, ethertype, src, dst,
		ip_len, dscp, ttl, ip_id, ip_flags, frag, proto, icmp_type, icmp_code, fields['ID_2'], fields['SEQ'] FROM drops ORDER BY line`)
	want := [][]string{
		{"packet", "2020-01-03T11:57:54.416092Z", "info", "ovs/PacketLogHandler.cpp:196:parseLog", "Int-PORT_SECURITY_TABLE", "",
			"ee:42:6b:1a:3c:d6", "0a:ff:ae:02:97:80", "IPv4", "101.0.0.3", "101.0.0.5", "84", "0", "64", "52995", "2", "0", "ICMP", "8", "0", "16920", "3"},
		{"packet", "2020-04-29T19:31:31.278324Z", "info", "ovs/PacketLogHandler.cpp:196:parseLog", "Int-POL_TABLE", "",
			"00:22:bd:f8:19:ff", "36:0e:d6:11:0d:db", "IPv4", "11.0.0.4", "12.0.0.4", "84", "0", "63", "46838", "2", "0", "ICMP", "8", "0", "1688", "1"},
	}
	// reason is NULL when nothing follows the table name
	for i := range want {
		want[i][5] = "NULL"
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestFormat2024AndEvents(t *testing.T) {
	r := ingesttest.Import(t, Importer{}, td+"opflex-2024-seed.log", ingest.Options{})
	if r.Err != nil || r.Records != 3 || r.Rejected != 0 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	if r.Format != "OpFlex drop log: 2 packet drops, 1 pod events" {
		t.Errorf("format %q", r.Format)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT kind, time, table_name, reason, smac, dmac, ethertype, src, dst, ip_len, ttl, ip_id, proto,
		spt, dpt, seq, ack, tcp_window, tcp_flags, fields['LEN_2'], fields['URGP'], pod_namespace, pod_name, event_count FROM drops ORDER BY line`)
	want := [][]string{
		{"packet", "2024-02-20T07:59:16.845663Z", "Acc-SEC_GROUP_IN_TABLE", "MISS", "00:22:bd:f8:19:ff", "0a:58:0a:02:00:c3", "IPv4", "10.2.0.229", "10.2.0.195",
			"60", "62", "58352", "TCP", "42934", "80", "2794802783", "0", "62020", "SYN", "10", "0", "NULL", "NULL", "NULL"},
		{"packet", "2024-02-20T07:59:17.856653Z", "Acc-SEC_GROUP_IN_TABLE", "MISS", "00:22:bd:f8:19:ff", "0a:58:0a:02:00:c3", "IPv4", "10.2.0.229", "10.2.0.195",
			"60", "62", "58353", "TCP", "42934", "80", "2794802783", "0", "62020", "SYN", "10", "0", "NULL", "NULL", "NULL"},
		{"event", "NULL", "Acc-SEC_GROUP_IN_TABLE", "MISS Security Drop", "NULL", "NULL", "NULL", "10.2.0.229", "default/web",
			"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "default", "web", "3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestLiberalAndStrict(t *testing.T) {
	lines := []string{
		"[2024-Feb-20 07:59:10.000001] [info] [opflex/engine/Processor.cpp:391:processItem] Processed policy update",
		// extra spaces, fields in another order, a flag set with two words
		"[2024-Feb-20 07:59:16.845663]  [info]  [ovs/PacketLogHandler.cpp:262:parseLog]   Acc-SEC_GROUP_OUT_TABLE   MISS DST=10.2.0.195  SRC=10.2.0.229 PROTO=TCP   DPT=443 SPT=1 SYN ACK",
		// claims to be a drop but has no addresses
		"[2024-Feb-20 07:59:17.000000] [info] [ovs/PacketLogHandler.cpp:262:parseLog] Acc-SEC_GROUP_IN_TABLE MISS PROTO=TCP",
		// bad number
		"[2024-Feb-20 07:59:18.000000] [info] [ovs/PacketLogHandler.cpp:262:parseLog] Acc-SEC_GROUP_IN_TABLE MISS SRC=1.1.1.1 DST=2.2.2.2 TTL=sixty",
	}
	f := ingesttest.File(t, "agent.log", strings.Join(lines, "\n")+"\n")
	r := ingesttest.Import(t, Importer{}, f, ingest.Options{})
	if r.Err != nil || r.Records != 1 || r.Rejected != 2 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	if want := []string{"1 lines are other opflex-agent messages, not drop records (1)"}; !reflect.DeepEqual(r.Notes, want) {
		t.Errorf("notes %q", r.Notes)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT table_name, src, dst, spt, dpt, tcp_flags FROM drops`)
	if want := [][]string{{"Acc-SEC_GROUP_OUT_TABLE", "10.2.0.229", "10.2.0.195", "1", "443", "SYN ACK"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	errs := ingesttest.Rows(t, r.DB, `SELECT line_or_offset, reason FROM ingest_errors ORDER BY 1`)
	if want := [][]string{{"3", "no SRC= and DST="}, {"4", `field TTL="sixty" is not a number`}}; !reflect.DeepEqual(errs, want) {
		t.Errorf("errors %q", errs)
	}
}

func TestDetect(t *testing.T) {
	b, _ := os.ReadFile(td + "opflex-2024-seed.log")
	if err := (Importer{}).Detect("opflex-agent.log", b); err != nil {
		t.Error(err)
	}
	if err := (Importer{}).Detect("x.log", []byte("hello\nworld\n")); err == nil {
		t.Error("accepted plain text")
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"opflex-agent-droplog-2020-doc.log", "opflex-2024-seed.log"} {
		b, _ := os.ReadFile(td + name)
		for _, l := range strings.Split(string(b), "\n") {
			f.Add(l)
		}
	}
	const before = "[2024-Feb-20 07:59:16.845663] [info] [ovs/PacketLogHandler.cpp:262:parseLog] Acc-SEC_GROUP_IN_TABLE MISS  SMAC=00:22:bd:f8:19:ff DMAC=0a:58:0a:02:00:c3 ETYP=IPv4 SRC=10.2.0.1 DST=10.2.0.195 LEN=60 PROTO=TCP SPT=1 DPT=80 SEQ=7 SYN URGP=0 X=1 X=2"
	f.Fuzz(func(t *testing.T, line string) {
		d, err := parse(line)
		// The importer reuses one parser: a line must not keep anything of
		// the line before it.
		var p parser
		p.parse(before)
		d2, err2 := p.parse(line)
		if (err == nil) != (err2 == nil) || err == nil && fmt.Sprintf("%+v", *d) != fmt.Sprintf("%+v", *d2) {
			t.Fatalf("%q after another line: %+v, %v; alone: %+v, %v", line, d2, err2, d, err)
		}
		if err != nil {
			return
		}
		if d.src == "" || d.dst == "" || d.table == "" {
			t.Fatalf("accepted %q without src, dst or table", line)
		}
	})
}
