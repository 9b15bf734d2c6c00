package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"dev.l4case/l4case/gen"
)

// Demo returns the demo case, the generator's default incident imported
// into a case in the user's cache folder, building it when missing or when
// rebuild is set. rep follows the import; log hears where the case is.
func Demo(ctx context.Context, rebuild bool, rep Reporter, log io.Writer) (*Case, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	// The case is keyed by the build: a binary with other importers or
	// another schema must not reopen a demo case made by an older one.
	dir := filepath.Join(base, "l4case", "demo-"+Version+"-"+buildID())
	caseDir := filepath.Join(dir, "case")
	if !rebuild && IsCaseDir(caseDir) {
		c, err := Open(ctx, caseDir)
		if err == nil {
			fmt.Fprintf(log, "demo case: %s (reused; --rebuild to make it again)\n", caseDir)
			return c, nil
		}
	}
	// Demo cases of other builds go too: one is enough.
	old, _ := filepath.Glob(filepath.Join(base, "l4case", "demo-*"))
	for _, d := range append(old, dir) {
		if err := removeAll(d); err != nil {
			return nil, err
		}
	}
	bundle := filepath.Join(dir, "bundle")
	o := gen.Defaults()
	o.Out = bundle
	fmt.Fprintf(log, "generating the demo incident into %s\n", bundle)
	if _, err := gen.Generate(ctx, o); err != nil {
		return nil, err
	}
	c, err := New(ctx, caseDir, "demo: OpenShift ingress on AWS")
	if err != nil {
		return nil, err
	}
	report, err := c.Import(ctx, []string{bundle}, ImportOptions{}, rep)
	if err != nil {
		c.Close()
		return nil, err
	}
	if _, _, failed := report.Counts(); failed > 0 {
		c.Close()
		return nil, fmt.Errorf("the demo bundle did not import cleanly: %d files failed", failed)
	}
	fmt.Fprintf(log, "demo case: %s\n", caseDir)
	return c, nil
}

// removeAll removes a folder holding read-only evidence copies.
func removeAll(dir string) error {
	if os.RemoveAll(dir) == nil {
		return nil
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// buildID is a short hash of the running executable, "dev" if unreadable.
func buildID() string {
	exe, err := os.Executable()
	if err != nil {
		return "dev"
	}
	f, err := os.Open(exe)
	if err != nil {
		return "dev"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "dev"
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
