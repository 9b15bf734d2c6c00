package ui

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/internal/fakeaws"
)

// The Evidence screen's "Collect from AWS" fetches the window's flow logs
// from an S3 server in the background, with progress, and lists them.
func TestCollectFromTheGUI(t *testing.T) {
	o := gen.Defaults()
	o.Out, o.Requests, o.Duration = t.TempDir(), 40, 5*time.Minute
	if _, err := gen.Generate(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	srv := fakeaws.New("../testdata/aws")
	defer srv.Close()
	for _, kv := range srv.Env(t.TempDir()) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	var objects int
	root := filepath.Join(o.Out, "flowlogs")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		objects++
		return srv.Put("logs", "vpc/"+filepath.ToSlash(rel), body)
	})

	g, done := caseWindow(t)
	defer done()
	s := g.evidence
	before := len(s.rows)
	f := s.collectForm
	// What the form refuses, it says.
	f.since.SetText("yesterday")
	if _, err := f.options(); err == nil || !strings.Contains(err.Error(), "Since:") {
		t.Errorf("bad since: %v", err)
	}
	f.since.SetText("2021-04-05 06:30")
	f.until.SetText("2021-04-05T06:35:00Z")
	if _, err := f.options(); err == nil || !strings.Contains(err.Error(), "nothing to collect") {
		t.Errorf("no source: %v", err)
	}
	f.flows.SetText("s3://logs/vpc")
	f.region.SetText("ap-northeast-1")
	f.endpoint.SetText(srv.URL)
	opts, err := f.options()
	if err != nil {
		t.Fatal(err)
	}
	onUIGoroutine(t, "Collect", func() { s.collect(opts) })
	if !s.bar.Visible() || !s.cancel.Visible() {
		t.Errorf("while collecting: progress %v, Cancel %v", s.bar.Visible(), s.cancel.Visible())
	}
	settle(g)
	if got := len(s.rows) - before; got != objects || !strings.Contains(s.status.Text, "Collected: "+strconv.Itoa(objects)+" fetched") {
		t.Errorf("%d of %d objects listed; status %q", got, objects, s.status.Text)
	}
	if cell := s.rows[len(s.rows)-1][2]; !strings.HasPrefix(cell, "s3://logs/…/123456789012_vpcflowlogs_") || !strings.HasSuffix(cell, ".log.gz") {
		t.Errorf("collected file shown as %q", s.rows[len(s.rows)-1][2])
	}
}
