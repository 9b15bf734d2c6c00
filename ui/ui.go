// Package ui is the l4case GUI: Fyne views over package app (and the values
// it hands out, from query; see app). It holds no SQL and no evidence logic.
// Long work (import, queries, export) runs on its own
// goroutine and comes back to the widgets only through fyne.Do.
package ui

import (
	_ "dev.l4case/l4case/internal/earlyenv" // before Fyne initialises: see its doc

	"fmt"
	"image/color"
	"image/png"
	"os"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/software"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/assets"
)

// AppID is the application id, as in FyneApp.toml.
const AppID = "io.github.l4case"

// NewApp creates the Fyne application with the metadata FyneApp.toml gives
// (a plain go build does not embed it): name, icon, and the fyne.Do
// threading model the code is written for.
func NewApp() fyne.App {
	fyneapp.SetMetadata(fyne.AppMetadata{
		ID: AppID, Name: "l4case", Version: app.Version, Build: 1,
		Icon:       fyne.NewStaticResource("icon.png", assets.Icon),
		Migrations: map[string]bool{"fyneDo": true},
	})
	return fyneapp.NewWithID(AppID)
}

// gui is the state the screens share.
type gui struct {
	a fyne.App
	w fyne.Window
	c *app.Case

	evidence  *evidenceScreen
	views     *viewsScreen
	console   *consoleScreen
	timeline  *timelineScreen
	diagnosis *diagnosisScreen
	findings  *findingsScreen
	tabs      *container.AppTabs

	jobs sync.WaitGroup // background work in flight (tests wait on it)
	// do runs f on the UI goroutine: fyne.Do, or a test's own loop (Fyne's
	// test driver runs fyne.Do's f on the calling goroutine instead).
	do func(f func())
	// screen is the screen's size in pixels (nil in tests: no GLFW).
	screen func() (w, h int)
}

// background runs f off the UI goroutine; f reports back through fyne.Do.
func (g *gui) background(f func()) {
	g.jobs.Add(1)
	go func() {
		defer g.jobs.Done()
		f()
	}()
}

// Start says where a case opens: on a screen (evidence, timeline, views,
// sql) or on the timeline of one request.
type Start struct {
	Screen string
	Trace  *app.TraceKey
	// Ready, when set, is called on the UI goroutine once the start screen
	// has its content (the trace drawn, or failed).
	Ready func(error)
	// Screenshot, when set, is a PNG file to write once the start screen
	// is drawn; then the app quits, after telling OnScreenshot how it went.
	Screenshot   string
	OnScreenshot func(error)
	// Size is the window's: WIDTHxHEIGHT, or "screen" for most of the
	// screen; empty, the size it had when last closed, or most of the
	// screen the first time (1280x800 for a screenshot).
	Size string
}

// CheckSize says whether s is a size Start.Size takes.
func CheckSize(s string) error {
	if s == "" || s == "screen" {
		return nil
	}
	_, err := parseSize(s)
	return err
}

// Screens are the names Start.Screen takes, in the order of the tabs.
var Screens = []string{"evidence", "diagnosis", "timeline", "views", "sql", "findings"}

// Create fills w with the case c, or with a welcome screen that opens or
// creates a case when c is nil.
func Create(a fyne.App, w fyne.Window, c *app.Case) {
	CreateAt(a, w, c, Start{})
}

// CreateAt is Create opening on a given screen or trace.
func CreateAt(a fyne.App, w fyne.Window, c *app.Case, start Start) {
	g := &gui{a: a, w: w, do: fyne.Do, screen: primaryScreen}
	g.create(c, start)
}

// create fills the window; tests call it with their own UI queue.
func (g *gui) create(c *app.Case, start Start) {
	a, w := g.a, g.w
	if start.Screenshot != "" {
		ready := start.Ready
		start.Ready = func(traceErr error) {
			if ready != nil {
				ready(traceErr)
			}
			// Give the window a moment to draw the content whole, then
			// capture what it shows.
			go func() {
				time.Sleep(time.Second)
				fyne.Do(func() {
					err := Screenshot(w, start.Screenshot)
					if err == nil && traceErr != nil {
						err = fmt.Errorf("screenshot taken, but the trace failed: %w", traceErr)
					}
					if start.OnScreenshot != nil {
						start.OnScreenshot(err)
					}
					a.Quit()
				})
			}()
		}
	}
	w.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	g.menu()
	switch {
	case start.Size == "screen":
		g.fitScreen()
	case start.Size != "":
		size, err := parseSize(start.Size)
		if err != nil {
			size = fyne.NewSize(1280, 800) // cli checked it
		}
		w.Resize(size)
	case start.Screenshot != "":
		w.Resize(fyne.NewSize(1280, 800)) // the same picture whoever takes it
	default:
		g.restoreSize()
	}
	if c == nil {
		w.SetTitle("l4case")
		w.SetContent(g.welcome())
		if start.Ready != nil {
			start.Ready(nil)
		}
		return
	}
	g.show(c)
	g.startAt(start)
}

// startAt selects the start screen, tracing the start request if any.
func (g *gui) startAt(start Start) {
	screen := start.Screen
	switch {
	case screen != "":
	case start.Trace != nil:
		screen = "timeline"
	case g.hasFlowLogs():
		// A case with flow logs opens on what they say.
		screen = "diagnosis"
	}
	g.selectScreen(screen)
	switch {
	case start.Trace != nil:
		g.timeline.onTraced = func(_ *app.Trace, err error) {
			g.timeline.onTraced = nil
			if start.Ready != nil {
				start.Ready(err)
			}
		}
		g.timeline.show(*start.Trace)
	case start.Ready != nil:
		start.Ready(nil)
	}
}

// show switches the window to case c.
func (g *gui) show(c *app.Case) {
	if g.c != nil && g.c != c {
		g.c.Close()
	}
	g.c = c
	g.remember(c.Dir)
	g.w.SetTitle(fmt.Sprintf("l4case — %s", c.Name()))
	g.evidence = newEvidenceScreen(g)
	g.views = newViewsScreen(g)
	g.console = newConsoleScreen(g)
	g.timeline = newTimelineScreen(g)
	g.diagnosis = newDiagnosisScreen(g)
	g.findings = newFindingsScreen(g)
	// In the order of Screens.
	g.tabs = container.NewAppTabs(
		container.NewTabItem("Evidence", g.evidence.content),
		container.NewTabItem("Diagnosis", g.diagnosis.content),
		container.NewTabItem("Timeline", g.timeline.content),
		container.NewTabItem("Views", g.views.content),
		container.NewTabItem("SQL", g.console.content),
		container.NewTabItem("Findings", g.findings.content),
	)
	g.w.SetContent(g.tabs)
	// Files and folders dropped on the window are imported.
	g.w.SetOnDropped(func(_ fyne.Position, uris []fyne.URI) { g.dropped(uris) })
}

// dropped imports the local files and folders dropped on the window, in
// the background, showing the Evidence screen's progress.
func (g *gui) dropped(uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		}
	}
	if len(paths) > 0 {
		g.selectScreen("evidence")
		g.evidence.importPaths(paths)
	}
}

// Screenshot writes what the window shows to a PNG file, and leaves the
// window empty: it is for a window about to close. The window's widgets
// are drawn again by Fyne's software painter, at the window's size, since
// reading back the OpenGL frame gives a blank image under Xvfb (Mesa's
// front buffer after a swap).
func Screenshot(w fyne.Window, path string) error {
	size := w.Canvas().Size()
	content := w.Content()
	w.SetContent(canvas.NewRectangle(color.Transparent))
	sc := software.NewCanvas()
	sc.SetPadded(false)
	sc.SetContent(content)
	sc.Resize(size)
	content.Refresh()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, sc.Capture()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// openTrace shows the timeline of one request.
func (g *gui) openTrace(key app.TraceKey) {
	g.selectScreen("timeline")
	g.timeline.show(key)
}

// selectScreen shows the tab of a screen of Screens.
func (g *gui) selectScreen(name string) {
	for i, n := range Screens {
		if n == name {
			g.tabs.SelectIndex(i)
		}
	}
}

func (g *gui) hasFlowLogs() bool {
	for _, e := range g.c.Evidence() {
		if e.Kind == "flowlog" {
			return true
		}
	}
	return false
}
