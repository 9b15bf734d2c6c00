package athenares

import (
	"strings"
	"testing"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
)

func TestImport(t *testing.T) {
	content := Marker + `{"query_id":"q1","sql":"SELECT 1","state":"SUCCEEDED","scanned_bytes":42}` + "\n" +
		"talker,Bytes,1st time,bytes\n" +
		"TCP/443,5519200,\"2021-04-05 06:30:00.000 UTC\",x\n" +
		"\"a, b\",\"multi\nline\",,y\n" +
		"short,row\n" +
		"UDP/53,1,t,z\n"
	p := ingesttest.File(t, "athena-q1.csv", content)
	if err := (Importer{}).Detect("athena-q1.csv", []byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := (Importer{}).Detect("x.csv", []byte("talker,bytes\n")); err == nil {
		t.Error("a plain CSV detected")
	}
	r := ingesttest.Import(t, Importer{}, p, ingest.Options{})
	if r.Err != nil || r.Records != 3 || !strings.Contains(r.Format, "Athena result q1: 4 columns in athena_result_1") {
		t.Fatalf("%v: %d records, format %q", r.Err, r.Records, r.Format)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT line, talker, bytes, c_1st_time, bytes_2 FROM athena_result_1 ORDER BY line`)
	want := [][]string{{"3", "TCP/443", "5519200", "2021-04-05 06:30:00.000 UTC", "x"}, {"4", "a, b", "multi\nline", "", "y"}, {"7", "UDP/53", "1", "t", "z"}}
	if len(got) != len(want) {
		t.Fatalf("rows %q", got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %q, want %q", i, got[i], want[i])
		}
	}
	rej := ingesttest.Rows(t, r.DB, `SELECT line_or_offset, reason FROM ingest_errors`)
	if len(rej) != 1 || rej[0][0] != "6" || rej[0][1] != "2 fields, the header has 4" {
		t.Errorf("rejected %q", rej)
	}
	// A description that is not JSON is the file's error at line 1.
	bad := ingesttest.Import(t, Importer{}, ingesttest.File(t, "athena-bad.csv", Marker+"{not json\na\n1\n"), ingest.Options{})
	if bad.Err == nil || !strings.Contains(bad.Err.Error(), "line 1") {
		t.Errorf("bad description: %v", bad.Err)
	}
}
