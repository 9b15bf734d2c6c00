// Package ui is the l4case GUI: Fyne views over package app. It holds no SQL
// and no evidence logic. Long work (import, queries, export) runs on its own
// goroutine and comes back to the widgets only through fyne.Do.
package ui

import (
	_ "dev.l4case/l4case/internal/earlyenv" // before Fyne initialises: see its doc

	"fmt"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"

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

	evidence *evidenceScreen
}

// Create fills w with the case c, or with a welcome screen that opens or
// creates a case when c is nil.
func Create(a fyne.App, w fyne.Window, c *app.Case) {
	g := &gui{a: a, w: w}
	w.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	if c == nil {
		w.SetTitle("l4case")
		w.SetContent(g.welcome())
	} else {
		g.show(c)
	}
	w.Resize(fyne.NewSize(1100, 700))
}

// show switches the window to case c.
func (g *gui) show(c *app.Case) {
	if g.c != nil && g.c != c {
		g.c.Close()
	}
	g.c = c
	g.w.SetTitle(fmt.Sprintf("l4case — %s", c.Name()))
	g.evidence = newEvidenceScreen(g)
	tabs := container.NewAppTabs(
		container.NewTabItem("Evidence", g.evidence.content),
	)
	g.w.SetContent(tabs)
}
