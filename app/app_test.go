package app

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/query"
)

const flowDir = "../testdata/flowlogs/"

// newCase makes a case holding two flow log files.
func newCase(t *testing.T) *Case {
	t.Helper()
	ctx := context.Background()
	c, err := New(ctx, filepath.Join(t.TempDir(), "case"), "test case")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Import(ctx, []string{flowDir + "aws-docs-v2-header.log.gz", flowDir + "aws-docs-v2-broken.log"}, ImportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Files {
		if f.Err != nil || f.Evidence == nil {
			t.Fatalf("%s: %v %s", f.Name, f.Err, f.Skipped)
		}
	}
	return c
}

func TestImportRecordsEvidence(t *testing.T) {
	c := newCase(t)
	ev := c.Evidence()
	if len(ev) != 2 {
		t.Fatalf("%d evidence files", len(ev))
	}
	e := ev[1]
	if e.ID != 2 || e.Kind != "flowlog" || e.Rows != 7 || e.Rejected != 1 || e.Size != 1015 ||
		e.SHA256 != "bc3a7bd0b1d5a849cbef87099996da8b981062ceeca5287795f440c13479734e" ||
		e.Stored != "evidence/0002/aws-docs-v2-broken.log" {
		t.Errorf("evidence %+v", e)
	}
	fi, err := os.Stat(filepath.Join(c.Dir, e.Stored))
	if err != nil || fi.Mode().Perm() != 0o444 {
		t.Errorf("stored copy: %v %v, want read-only", fi.Mode(), err)
	}
	// The database agrees with the manifest.
	p, err := c.Console(context.Background(), `SELECT evidence_id, kind, rows, rejected, sha256, first_time FROM evidence ORDER BY 1`, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(p.Rows[1][:5])
	if got != "[2 flowlog 7 1 bc3a7bd0b1d5a849cbef87099996da8b981062ceeca5287795f440c13479734e]" {
		t.Errorf("evidence row %s", got)
	}
	// Re-importing the same bytes is a no-op with a message.
	rep, err := c.Import(context.Background(), []string{flowDir + "aws-docs-v2-broken.log"}, ImportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Files[0]; r.Evidence != nil || r.Skipped != "already in the case as evidence #2 ("+flowDir+"aws-docs-v2-broken.log)" {
		t.Errorf("re-import: %+v", r)
	}
	if len(c.Evidence()) != 2 {
		t.Errorf("re-import added evidence")
	}
	// Reopening reads the same manifest.
	c2, err := Open(context.Background(), c.Dir)
	if err != nil || len(c2.Evidence()) != 2 || c2.Name() != "test case" {
		t.Fatalf("reopen: %v", err)
	}
}

func TestUnrecognisedFileNamesEveryDetector(t *testing.T) {
	c := newCase(t)
	f := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(f, []byte("call the customer back\n"), 0o644)
	rep, err := c.Import(context.Background(), []string{f}, ImportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var de *ingest.DetectError
	if !errors.As(rep.Files[0].Err, &de) {
		t.Fatalf("err = %v", rep.Files[0].Err)
	}
	want := f + ": not a kind of evidence l4case knows:" +
		"\n\tpcap: no pcap or pcapng magic number (starts with 63 61 6c 6c)" +
		"\n\tec2: not a JSON object" +
		"\n\toc: line 1 is not the header of oc get pods or oc get nodes" +
		"\n\tflowlog: line 1 is neither a flow log header nor a version-2 record: 4 fields, version 2 has 14" +
		"\n\telblog: line 1 is not a Classic, ALB or NLB access log entry: \"call\" is neither a timestamp (Classic) nor an ALB/NLB entry type" +
		"\n\topflex: no OpFlex drop log line (PacketLogHandler ... TABLE ... SRC= DST=, or a Security Drop pod event) in the first lines"
	if !strings.HasPrefix(de.Error(), want) {
		t.Errorf("error:\n%s\nwant prefix:\n%s", de, want)
	}
	// In a folder, such a file is skipped, not an error.
	rep, _ = c.Import(context.Background(), []string{filepath.Dir(f)}, ImportOptions{}, nil)
	if r := rep.Files[0]; r.Err != nil || r.Skipped != "not evidence l4case knows" {
		t.Errorf("folder import: %+v", r)
	}
}

// A cancelled import leaves the case as it was before the file.
func TestCancelledImportRollsBack(t *testing.T) {
	c := newCase(t)
	before := c.Manifest()
	big := bigFlowLog(t)
	ctx, cancel := context.WithCancel(context.Background())
	rep := &cancelAfterRows{cancel: cancel, after: 100000}
	report, err := c.Import(ctx, []string{big}, ImportOptions{}, rep)
	if err != nil {
		t.Fatal(err)
	}
	if r := report.Files[0]; !errors.Is(r.Err, context.Canceled) {
		t.Fatalf("result %+v", r)
	}
	if !rep.sawRows {
		t.Fatal("import was cancelled before any rows went in: the test proves nothing")
	}
	after := c.Manifest()
	if len(after.Evidence) != len(before.Evidence) {
		t.Errorf("manifest gained evidence")
	}
	p, err := c.Console(context.Background(), `SELECT (SELECT count(*) FROM flow_logs), (SELECT count(*) FROM evidence), (SELECT count(*) FROM ingest_errors)`, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(p.Rows[0]); got != "[14 2 1]" {
		t.Errorf("after cancel: flow_logs, evidence, ingest_errors = %s, want [14 2 1]", got)
	}
	entries, _ := os.ReadDir(filepath.Join(c.Dir, "evidence"))
	if len(entries) != 2 {
		t.Errorf("evidence folder has %d entries, want 2", len(entries))
	}
}

// Files imported before a cancel stay, and what is derived from them
// (request_paths) catches up at the next import instead of staying short.
func TestCancelledImportDerivesLater(t *testing.T) {
	c := newCase(t)
	ctx := context.Background()
	big := bigFlowLog(t)
	elbLines := func() int {
		p, err := c.Console(ctx, `SELECT count(*) FROM request_path_rows WHERE elb_line IS NOT NULL`, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(fmt.Sprint(p.Rows[0][0]))
		return n
	}
	cctx, cancel := context.WithCancel(ctx)
	rep := &cancelAfterRows{cancel: cancel, after: 100000}
	report, err := c.Import(cctx, []string{"../testdata/elb/clb-access-log-examples.log", big}, ImportOptions{}, rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Files) != 2 || report.Files[0].Evidence == nil || !errors.Is(report.Files[1].Err, context.Canceled) {
		t.Fatalf("report %+v", report.Files)
	}
	if n := elbLines(); n != 0 {
		t.Fatalf("request paths joined after a cancel: %d", n)
	}
	// The next import brings nothing (a capture cut inside its header): the
	// derivation still runs, as the cancel left it owed.
	bad := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(bad, []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0}, 0o644)
	report, err = c.Import(ctx, []string{bad}, ImportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Files) != 1 || report.Files[0].Evidence != nil {
		t.Fatalf("the cut capture: %+v", report.Files)
	}
	p, err := c.Console(ctx, `SELECT count(*) FROM elb_logs`, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if n, want := elbLines(), fmt.Sprint(p.Rows[0][0]); fmt.Sprint(n) != want || n == 0 {
		t.Errorf("after the next import: %d request paths with an ELB line, %s ELB lines", n, want)
	}
}

// bigFlowLog is a flow log of 400,000 records, long enough to cancel
// while it imports.
func bigFlowLog(t *testing.T) string {
	t.Helper()
	big := filepath.Join(t.TempDir(), "big.log")
	var b bytes.Buffer
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := 0; i < 400000; i++ {
		fmt.Fprintf(&b, "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 %d 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n", i%65536)
	}
	if err := os.WriteFile(big, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return big
}

type cancelAfterRows struct {
	cancel  func()
	after   int64
	sawRows bool
}

func (r *cancelAfterRows) Status(s ImportStatus) {
	if s.Records >= r.after {
		r.sawRows = true
		r.cancel()
	}
}
func (r *cancelAfterRows) Done(FileResult) {}

func TestPackOpenVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := newCase(t)
	pack := filepath.Join(t.TempDir(), "case.l4case")
	if err := c.Pack(ctx, pack, false, nil); err != nil {
		t.Fatal(err)
	}
	// The manifest is the first member.
	zr, err := zip.OpenReader(pack)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if want := "[manifest.json case.duckdb evidence/0001/aws-docs-v2-header.log.gz evidence/0002/aws-docs-v2-broken.log]"; fmt.Sprint(names) != want {
		t.Errorf("members %v", names)
	}
	checks, err := Verify(ctx, pack, DefaultLimits)
	if err != nil || len(checks) != 3 {
		t.Fatalf("verify pack: %v %v", checks, err)
	}
	out := filepath.Join(t.TempDir(), "opened")
	c2, err := OpenPack(ctx, pack, out, DefaultLimits, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c2.Evidence()) != 2 || c2.Name() != "test case" {
		t.Errorf("opened case %v", c2.Manifest())
	}
	p, err := c2.Console(ctx, `SELECT count(*) FROM flow_logs`, 0, 1)
	if err != nil || fmt.Sprint(p.Rows[0][0]) != "14" {
		t.Errorf("opened case rows: %v %v", p, err)
	}
	c2.Close()
	checks, err = Verify(ctx, out, DefaultLimits)
	if err != nil || len(checks) != 3 {
		t.Errorf("verify opened folder: %v %v", checks, err)
	}
	// Tamper with an evidence copy in the folder: verify names it.
	ev := filepath.Join(out, "evidence/0002/aws-docs-v2-broken.log")
	os.Chmod(ev, 0o644)
	os.WriteFile(ev, []byte("tampered\n"), 0o644)
	_, err = Verify(ctx, out, DefaultLimits)
	want := out + " failed verification:\n\tevidence/0002/aws-docs-v2-broken.log: SHA-256 mismatch: manifest says bc3a7bd0b1d5a849cbef87099996da8b981062ceeca5287795f440c13479734e, content is 92e78d0b032962f47792a9fa95fd981ef63e1e3ef074d536d6304c75eddbe29f" // sha256sum of "tampered\n"
	if err == nil || err.Error() != want {
		t.Errorf("verify tampered folder:\n%v\nwant\n%s", err, want)
	}
}

func TestPackWithoutEvidence(t *testing.T) {
	ctx := context.Background()
	c := newCase(t)
	pack := filepath.Join(t.TempDir(), "db-only.l4case")
	if err := c.Pack(ctx, pack, true, nil); err != nil {
		t.Fatal(err)
	}
	checks, err := Verify(ctx, pack, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(statuses(checks)); got != "[omitted omitted ok]" {
		t.Errorf("statuses %s", got)
	}
	c2, err := OpenPack(ctx, pack, filepath.Join(t.TempDir(), "o"), DefaultLimits, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if p, err := c2.Console(ctx, `SELECT count(*) FROM flow_logs`, 0, 1); err != nil || fmt.Sprint(p.Rows[0][0]) != "14" {
		t.Errorf("rows: %v %v", p, err)
	}
}

func statuses(cs []Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Status)
	}
	return out
}

// rewrite copies a pack, letting edit change or add members.
func rewrite(t *testing.T, src, dst string, edit func(name string, data []byte, zw *zip.Writer) bool) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, _ := os.Create(dst)
	zw := zip.NewWriter(f)
	for _, m := range zr.File {
		rc, _ := m.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		if edit(m.Name, data, zw) {
			continue
		}
		w, _ := zw.Create(m.Name)
		w.Write(data)
	}
	edit("", nil, zw)
	zw.Close()
	f.Close()
}

func TestOpenRefusesATamperedMember(t *testing.T) {
	ctx := context.Background()
	c := newCase(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.l4case")
	if err := c.Pack(ctx, good, false, nil); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "tampered.l4case")
	rewrite(t, good, bad, func(name string, data []byte, zw *zip.Writer) bool {
		if name == "evidence/0002/aws-docs-v2-broken.log" {
			w, _ := zw.Create(name)
			w.Write(bytes.Replace(data, []byte("REJECT"), []byte("ACCEPT"), 1))
			return true
		}
		return false
	})
	out := filepath.Join(dir, "out")
	_, err := OpenPack(ctx, bad, out, DefaultLimits, nil)
	want := bad + " failed verification:\n\tevidence/0002/aws-docs-v2-broken.log: SHA-256 mismatch: manifest says bc3a7bd0b1d5a849cbef87099996da8b981062ceeca5287795f440c13479734e, content is 9bcf3d6b3d5f4dbd69bea8d1e2a6d41f2b52d8ce3a8b36e8b5cc6d8e0a0c4e8e"
	var ve *VerifyError
	if !errors.As(err, &ve) || len(ve.Bad) != 1 || ve.Bad[0].Path != "evidence/0002/aws-docs-v2-broken.log" || ve.Bad[0].Status != "mismatch" {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), want[:strings.Index(want, "content is")]) {
		t.Errorf("error:\n%v\nwant\n%s", err, want)
	}
	if _, serr := os.Stat(out); serr == nil {
		t.Errorf("a refused pack left %s behind", out)
	}
	if _, err := Verify(ctx, bad, DefaultLimits); !errors.As(err, &ve) {
		t.Errorf("verify: %v", err)
	}
}

func TestOpenRefusesHostileMembers(t *testing.T) {
	ctx := context.Background()
	c := newCase(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.l4case")
	if err := c.Pack(ctx, good, false, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		add  func(zw *zip.Writer)
		want string
	}{
		{"dotdot", func(zw *zip.Writer) {
			w, _ := zw.Create("../evil.sh")
			w.Write([]byte("rm -rf ~"))
		}, `member "../evil.sh" refused: path with ..`},
		{"absolute", func(zw *zip.Writer) {
			w, _ := zw.Create("/etc/cron.d/evil")
			w.Write([]byte("x"))
		}, `member "/etc/cron.d/evil" refused: absolute path`},
		{"symlink", func(zw *zip.Writer) {
			h := &zip.FileHeader{Name: "evidence/link"}
			h.SetMode(os.ModeSymlink | 0o777)
			w, _ := zw.CreateHeader(h)
			w.Write([]byte("/etc/passwd"))
		}, `member "evidence/link" refused: not a regular file (L---------)`},
		{"bomb", func(zw *zip.Writer) {
			// 1 MiB of deflated zeros that declares 10 GiB.
			raw := deflateZeros(t, 1<<20)
			h := &zip.FileHeader{Name: "evidence/0003/zeros.bin", Method: zip.Deflate,
				CompressedSize64: uint64(len(raw)), UncompressedSize64: 10 << 30}
			w, _ := zw.CreateRaw(h)
			w.Write(raw)
		}, fmt.Sprintf(`member "evidence/0003/zeros.bin" would expand from %s to 10.0 GiB (more than 1000:1): refusing a likely zip bomb`, SizeText(int64(len(deflateZeros(t, 1<<20)))))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(dir, tc.name+".l4case")
			rewrite(t, good, bad, func(name string, _ []byte, zw *zip.Writer) bool {
				if name == "" {
					tc.add(zw)
				}
				return false
			})
			out := filepath.Join(dir, tc.name)
			_, err := OpenPack(ctx, bad, out, DefaultLimits, nil)
			if want := bad + ": " + tc.want; err == nil || err.Error() != want {
				t.Errorf("error:\n%v\nwant\n%s", err, want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("refused pack left %s", out)
			}
			if _, err := os.Stat(filepath.Join(dir, "evil.sh")); err == nil {
				t.Errorf("../ member was written")
			}
		})
	}
}

func deflateZeros(t *testing.T, n int) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("z")
	w.Write(make([]byte, n))
	zw.Close()
	zr, _ := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	rc, _ := zr.File[0].OpenRaw()
	raw, _ := io.ReadAll(rc)
	return raw
}

func TestOpenRefusesTooManyMembersAndTooMuch(t *testing.T) {
	ctx := context.Background()
	c := newCase(t)
	pack := filepath.Join(t.TempDir(), "p.l4case")
	c.Pack(ctx, pack, false, nil)
	_, err := OpenPack(ctx, pack, filepath.Join(t.TempDir(), "o"), Limits{MaxMembers: 2, MaxTotal: 1 << 40, MaxRatio: 1000, RatioFloor: 1 << 20}, nil)
	if want := pack + ": 4 members, more than the 2 allowed"; err == nil || err.Error() != want {
		t.Errorf("err %v, want %s", err, want)
	}
	_, err = OpenPack(ctx, pack, filepath.Join(t.TempDir(), "o"), Limits{MaxMembers: 10, MaxTotal: 1000, MaxRatio: 1000, RatioFloor: 1 << 20}, nil)
	if err == nil || !strings.Contains(err.Error(), "more than the 1000 B allowed") {
		t.Errorf("err %v", err)
	}
}

// TestInterruptedPairingRunsAgain: when pairing the flow logs is
// interrupted after the files are in, the next import pairs them, even an
// import of something else.
func TestInterruptedPairingRunsAgain(t *testing.T) {
	ctx := context.Background()
	c := newCase(t)
	count := func() (n int) {
		p, err := c.Console(ctx, "SELECT count(*) FROM flow_conversations", 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		return int(p.Rows[0][0].(int64))
	}
	want := count()
	if want == 0 {
		t.Fatal("no conversations after the import")
	}
	// What an interruption leaves: the flag set, the pairing rolled back
	// (here: emptied, to see it come back).
	c.Close()
	db, err := query.OpenWriter(ctx, c.DBPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"INSERT INTO case_meta VALUES ('derive_pending', 'true')", "DELETE FROM flow_conversations"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if _, err := c.Import(ctx, []string{"../testdata/opflex/opflex-2024-seed.log"}, ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != want {
		t.Errorf("%d conversations after the next import, want %d again", got, want)
	}
	if p, _ := c.Console(ctx, "SELECT count(*) FROM case_meta WHERE key = 'derive_pending'", 0, 1); p.Rows[0][0] != int64(0) {
		t.Error("derive_pending still set")
	}
}

// The import's progress line, as the CLI and the GUI show it.
func TestImportStatusLine(t *testing.T) {
	for _, c := range []struct {
		s    ImportStatus
		want string
	}{
		{ImportStatus{File: "x.log.gz", Kind: "flowlog", Index: 2, Total: 5, Bytes: 12 << 20, Size: 48 << 20, Records: 1234567, Elapsed: 4 * time.Second},
			"[2/5] flowlog x.log.gz  25.0% 12.0 MiB/48.0 MiB 1,234,567 rows 308,641 rows/s ETA 12s"},
		{ImportStatus{File: "a.pcap", Kind: "pcap", Index: 1, Total: 1, Records: 10, Rejected: 2, Elapsed: 100 * time.Millisecond},
			"[1/1] pcap a.pcap 10 rows (2 rejected)"},
	} {
		if got := c.s.Line(); got != c.want {
			t.Errorf("Line() = %q, want %q", got, c.want)
		}
	}
}
