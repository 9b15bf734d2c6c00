package cli

import (
	"encoding/json"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	// A first start (no preferences yet) on a 1920x1080 screen with a
	// black root window, so that the window's extent shows.
	home := filepath.Join(dir, "home")
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config")}
	if out, err := xvfbRunOn("-screen 0 1920x1080x24 -br", env, "sh", "-c", script, "sh", bin, caseDir, shot); err != nil {
		t.Fatalf("xvfb-run: %v\n%s", err, out)
	}
	img := decodeImage(t, shot)
	// An empty X screen is one colour; Fyne's window with its tabs, table
	// and text has many.
	if n := colours(img); n < 20 {
		t.Errorf("screenshot has %d colours: the window drew nothing", n)
	}
	// The first window takes most of the screen (90 %), not a fixed size.
	if w := drawn(img); w.Dx() < 1700 || w.Dy() < 950 {
		t.Errorf("the first window covers %v of the 1920x1080 screen, want most of it", w)
	}
	if log, _ := os.ReadFile(shot + ".log"); strings.Contains(string(log), "panic") {
		t.Errorf("the GUI logged a panic:\n%s", log)
	}
}

// gui --trace ID --screenshot F opens a real window on the timeline of one
// request of a generated incident and writes the window's picture: the
// window's size, and not blank.
func TestGUITraceScreenshot(t *testing.T) {
	for _, tool := range []string{"xvfb-run"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing: ./run test installs it (xvfb, xauth)", tool)
			}
			t.Skipf("%s not installed (./run test installs it)", tool)
		}
	}
	bin := l4caseBinary(t)
	dir := t.TempDir()
	bundle, caseDir := filepath.Join(dir, "bundle"), filepath.Join(dir, "c")
	for _, args := range [][]string{
		{"gen", "--out", bundle, "--requests", "30", "--duration", "2m"},
		{"new", caseDir}, {"import", caseDir, bundle, "-q"},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	requests := readTruth(t, bundle)
	shot := filepath.Join(dir, "timeline.png")
	out, err := xvfbRun(bin, "gui", caseDir, "--trace", requests[3].RequestID, "--screenshot", shot)
	if err != nil || !strings.Contains(string(out), "wrote "+shot) {
		t.Fatalf("gui --screenshot: %v\n%s", err, out)
	}
	img := decodeImage(t, shot)
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 800 {
		t.Errorf("screenshot %v, want the window's 1280x800", b)
	}
	if n := colours(img); n < 50 {
		t.Errorf("screenshot has %d colours: blank", n)
	}
	for _, args := range [][]string{
		{"gui", caseDir, "--screen", "nowhere"},
		{"gui", "--trace", "x"},
		{"gui", caseDir, "--trace", "x", "--client", "1.2.3.4:5"},
	} {
		if _, _, code := run(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

// drawn is the extent of what is not black: the window on a black root.
func drawn(img image.Image) image.Rectangle {
	var r image.Rectangle
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); cr|cg|cb != 0 {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// colours counts the distinct colours of every third pixel of every third row.
func colours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[r>>8<<16|g>>8<<8|bl>>8] = true
		}
	}
	return len(seen)
}

// truthRequest is what the CLI tests read of a generated request.
type truthRequest struct {
	RequestID  string `json:"request_id"`
	Client     string `json:"client"`
	URI        string `json:"uri"`
	NodePort   string `json:"node_port"`
	Backend    string `json:"backend"`
	BackendPod string `json:"backend_pod"`
	Status     int    `json:"status"`
}

// readTruth reads the requests of a generated bundle's truth.json.
func readTruth(t *testing.T, bundle string) []truthRequest {
	t.Helper()
	var truth struct {
		Requests []truthRequest `json:"requests"`
	}
	b, err := os.ReadFile(filepath.Join(bundle, "truth.json"))
	if err == nil {
		err = json.Unmarshal(b, &truth)
	}
	if err != nil || len(truth.Requests) == 0 {
		t.Fatalf("truth.json: %v", err)
	}
	return truth.Requests
}

// xvfbRun runs a command on a new virtual X server of 1280x800. xvfb-run
// -a may hand out a display whose server is not up yet (seen once in
// ~20 runs: "X11: Failed to open display :99"): that is tried again, on
// another display.
func xvfbRun(args ...string) ([]byte, error) {
	return xvfbRunOn("-screen 0 1280x800x24", nil, args...)
}

// xvfbRunOn is xvfbRun with the X server's arguments and more environment.
func xvfbRunOn(server string, env []string, args ...string) ([]byte, error) {
	var out []byte
	var err error
	for try := 0; try < 3; try++ {
		cmd := exec.Command("xvfb-run", append([]string{"-a", "-n", strconv.Itoa(100 + 7*try + os.Getpid()%50), "-s", server}, args...)...)
		cmd.Env = append(append(os.Environ(), "LANG=C.UTF-8"), env...)
		out, err = cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Failed to open display") {
			return out, err
		}
	}
	return out, err
}

// decodeImage reads a picture file.
func decodeImage(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
