package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"dev.l4case/l4case/internal/fakeaws"
)

func TestAthena(t *testing.T) {
	out, _, code := run(t, "athena", "views")
	if code != 0 || !strings.Contains(out, "top_talkers           yes") || !strings.Contains(out, "rejects               yes, with --case") {
		t.Errorf("athena views: %d\n%s", code, out)
	}
	out, _, code = run(t, "athena", "view", "elb_errors", "--param", "from=2021-04-05 06:30")
	if code != 0 || !strings.Contains(out, "FROM elb_logs") || !strings.Contains(out, "(time >= CAST('2021-04-05 06:30:00 UTC' AS timestamp with time zone))") {
		t.Errorf("athena view: %d\n%s", code, out)
	}
	if _, stderr, code := run(t, "athena", "view", "request_paths"); code != 1 || !strings.Contains(stderr, "which only the case has") {
		t.Errorf("athena view request_paths: %d %s", code, stderr)
	}
	out, _, code = run(t, "athena", "ddl", "--flow-logs", "s3://logs", "--elb-logs", "s3://elb", "--account", "123456789012", "--region", "eu-west-1")
	if code != 0 || strings.Count(out, "CREATE EXTERNAL TABLE") != 4 || strings.Count(out, "CREATE OR REPLACE VIEW") != 3 {
		t.Errorf("athena ddl: %d\n%s", code, out)
	}
	for _, bad := range [][]string{{"athena", "ddl", "--flow-logs", "s3://logs"}, {"athena", "ddl", "--account", "1", "--region", "r"}, {"athena", "view", "nope"}} {
		if _, _, code := run(t, bad...); code == 0 {
			t.Errorf("%q: exit 0", bad)
		}
	}
}

// athena run against the recorded Athena responses imports the result.
func TestAthenaRunCLI(t *testing.T) {
	dir := t.TempDir()
	srv := fakeaws.New("../testdata/aws")
	defer srv.Close()
	for _, kv := range srv.Env(dir) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	caseDir := filepath.Join(dir, "c")
	if _, stderr, code := run(t, "new", caseDir); code != 0 {
		t.Fatal(stderr)
	}
	out, stderr, code := run(t, "athena", "run", caseDir, "--view", "top_talkers", "--param", "by=port", "--endpoint-url", srv.URL, "-o", "csv")
	if code != 0 || !strings.Contains(out, "athena:5d2b7c1e-0c5a-4b9d-9d6e-2f1a6c0e8b11,athena_result,1,4,0,imported") ||
		!strings.Contains(stderr, ": SUCCEEDED after ") || !strings.Contains(stderr, "46.0 MiB scanned") {
		t.Errorf("athena run: %d\n%s\n%s", code, out, stderr)
	}
	if _, stderr, code := run(t, "athena", "ddl", "--flow-logs", "s3://logs", "--account", "123456789012", "--region", "ap-northeast-1", "--apply", "--endpoint-url", srv.URL); code != 0 ||
		!strings.Contains(stderr, "statements run: the database l4case is ready") {
		t.Errorf("ddl --apply: %d %s", code, stderr)
	}
	// The form: athena view NAME --run into a case.
	other := filepath.Join(dir, "other")
	if _, stderr, code := run(t, "new", other); code != 0 {
		t.Fatal(stderr)
	}
	out, stderr, code = run(t, "athena", "view", "top_talkers", "--param", "by=port", "--run", "--case", other, "--output", "s3://results/l4case/", "--endpoint-url", srv.URL)
	if code != 0 || !strings.Contains(out, "athena_result") || !strings.Contains(out, "imported") || !strings.Contains(stderr, ": SUCCEEDED after ") {
		t.Errorf("athena view --run: %d\n%s\n%s", code, out, stderr)
	}
	if _, stderr, code := run(t, "athena", "view", "top_talkers", "--run"); code != 2 || !strings.Contains(stderr, "give --case") {
		t.Errorf("--run without a case: exit %d %s", code, stderr)
	}
	if _, _, code := run(t, "athena", "run", caseDir); code != 2 {
		t.Errorf("no view nor query: exit %d", code)
	}
}
