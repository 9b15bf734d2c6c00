package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"dev.l4case/l4case/internal/fakeaws"
)

// l4case collect against an S3 server on loopback fills a case that
// l4case trace uses; usage errors exit 2.
func TestCollect(t *testing.T) {
	dir := t.TempDir()
	bundle, caseDir := filepath.Join(dir, "bundle"), filepath.Join(dir, "case")
	for _, args := range [][]string{
		{"gen", "--out", bundle, "--requests", "40", "--duration", "5m"},
		{"new", caseDir},
		{"import", caseDir, filepath.Join(bundle, "pcap"), filepath.Join(bundle, "aws"), filepath.Join(bundle, "oc"), "-q"},
	} {
		if _, stderr, code := run(t, args...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	srv := fakeaws.New("../testdata/aws")
	defer srv.Close()
	for _, kv := range srv.Env(dir) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var objects int
	for _, src := range []struct{ dir, bucket string }{{"flowlogs", "flow-logs"}, {"elb", "elb-logs"}} {
		filepath.WalkDir(filepath.Join(bundle, src.dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(filepath.Join(bundle, src.dir), p)
			objects++
			return srv.Put(src.bucket, filepath.ToSlash(rel), body)
		})
	}
	args := []string{"collect", caseDir, "--since", "2021-04-05 06:30", "--until", "2021-04-05T06:35:00Z", "--region", "ap-northeast-1",
		"--endpoint-url", srv.URL, "--flow-logs", "s3://flow-logs", "--elb-logs", "s3://elb-logs/AWSLogs/", "-o", "csv"}
	stdout, stderr, code := run(t, args...)
	if code != 0 {
		t.Fatalf("collect: %d\n%s", code, stderr)
	}
	if n := strings.Count(stdout, ",imported\n"); n != objects || !strings.Contains(stdout, "\ns3://flow-logs/AWSLogs/123456789012/vpcflowlogs/ap-northeast-1/2021/04/05/") {
		t.Errorf("collect imported %d of %d objects:\n%s", n, objects, stdout)
	}
	if !strings.Contains(stderr, "s3://elb-logs/AWSLogs/: ") || !strings.Contains(stderr, "already in the case") {
		t.Errorf("collect stderr:\n%s", stderr)
	}
	requests := readTruth(t, bundle)
	stdout, stderr, code = run(t, "trace", caseDir, "--request-id", requests[0].RequestID, "-o", "json")
	if code != 0 || !strings.Contains(stdout, `"source": "elb_log"`) || !strings.Contains(stdout, `"file": "s3://elb-logs/AWSLogs/123456789012/elasticloadbalancing/`) ||
		!strings.Contains(stdout, `"file": "s3://flow-logs/AWSLogs/`) {
		t.Errorf("trace after collect: %d %s\n%s", code, stderr, stdout)
	}
	// Again: nothing to fetch.
	if _, stderr, code = run(t, args...); code != 0 || !strings.Contains(stderr, "0 fetched (0 bytes), "+strconv.Itoa(objects)+" already in the case") {
		t.Errorf("again: %d\n%s", code, stderr)
	}
	for _, bad := range [][]string{
		{"collect", caseDir, "--flow-logs", "s3://x"},
		{"collect", caseDir, "--since", "2021-04-05 06:30", "--until", "2021-04-05 06:35"},
		{"collect", caseDir, "--since", "yesterday", "--until", "2021-04-05 06:35", "--ec2-snapshot"},
	} {
		if _, _, code := run(t, bad...); code != 2 {
			t.Errorf("%q: exit %d, want 2", bad, code)
		}
	}
}
