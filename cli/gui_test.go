package cli

import (
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// l4caseBinary is the built binary: ./run test passes it in L4CASE_BIN;
// otherwise the test builds one.
func l4caseBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("L4CASE_BIN"); b != "" {
		return b
	}
	b := filepath.Join(t.TempDir(), "l4case")
	cmd := exec.Command("go", "build", "-tags", "duckdb_arrow,migrated_fynedo", "-o", b, "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return b
}

// TestGUIUnderXvfb opens a case in a real window on a virtual X server,
// takes a screenshot and checks that the window drew something and that
// the process was still alive: what a user sees first, with GLFW and
// OpenGL in the loop (Fyne's test package has neither).
func TestGUIUnderXvfb(t *testing.T) {
	for _, tool := range []string{"xvfb-run", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: ./run test installs it (xvfb, xauth, imagemagick)", tool)
			}
			t.Skipf("%s not installed (./run test installs it)", tool)
		}
	}
	bin := l4caseBinary(t)
	dir := t.TempDir()
	caseDir := filepath.Join(dir, "c")
	for _, args := range [][]string{{"new", caseDir}, {"import", caseDir, flows + "aws-docs-v2-broken.log"}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	shot := filepath.Join(dir, "shot.png")
	script := `"$1" gui "$2" 2>"$3.log" & pid=$!
sleep 8
kill -0 $pid 2>/dev/null || { echo "GUI exited"; cat "$3.log"; exit 1; }
import -window root "$3"
kill $pid; wait $pid 2>/dev/null; exit 0`
	cmd := exec.Command("xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "sh", "-c", script, "sh", bin, caseDir, shot)
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xvfb-run: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// An empty X screen is one colour; Fyne's window with its tabs, table
	// and text has many.
	colours := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: the window drew nothing", len(colours))
	}
	if log, _ := os.ReadFile(shot + ".log"); strings.Contains(string(log), "panic") {
		t.Errorf("the GUI logged a panic:\n%s", log)
	}
}
