package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// screenFraction is how much of the screen a first window takes: most of
// it, leaving the desktop's panels and a margin visible.
const screenFraction = 0.9

// primaryScreen is the primary monitor's size in pixels, or 0, 0 when GLFW
// cannot tell. Fyne has no API for it; GLFW is the library Fyne's desktop
// driver runs on, and this must run on its (the UI) thread once it started.
func primaryScreen() (w, h int) {
	defer func() {
		if recover() != nil { // GLFW not initialised: not the desktop driver
			w, h = 0, 0
		}
	}()
	m := glfw.GetPrimaryMonitor()
	if m == nil {
		return 0, 0
	}
	v := m.GetVideoMode()
	if v == nil {
		return 0, 0
	}
	return v.Width, v.Height
}

// fitScreen sizes the window to most of the screen and centres it, once
// the app runs (GLFW is up then). screen is nil in tests.
func (g *gui) fitScreen() {
	if g.screen == nil {
		return
	}
	g.a.Lifecycle().SetOnStarted(func() {
		fyne.Do(func() {
			sw, sh := g.screen()
			if sw <= 0 || sh <= 0 {
				return
			}
			scale := g.w.Canvas().Scale()
			if scale <= 0 {
				scale = 1
			}
			g.w.Resize(fyne.NewSize(float32(sw)*screenFraction/scale, float32(sh)*screenFraction/scale))
			g.w.CenterOnScreen()
		})
	})
}

// parseSize reads WIDTHxHEIGHT.
func parseSize(s string) (fyne.Size, error) {
	var w, h float32
	if n, err := fmt.Sscanf(s, "%gx%g", &w, &h); err != nil || n != 2 || w < 320 || h < 240 {
		return fyne.Size{}, fmt.Errorf("size %q: want WIDTHxHEIGHT (at least 320x240) or screen", s)
	}
	return fyne.NewSize(w, h), nil
}
