package ui

import (
	"context"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
)

func (g *gui) welcome() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("l4case", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	sub := widget.NewLabel("Offline forensic workbench for layer-4 incidents on AWS and OpenShift")
	sub.Alignment = fyne.TextAlignCenter
	openDir := widget.NewButton("Open case folder…", g.openDialog)
	openPack := widget.NewButton("Open .l4case file…", g.openPackDialog)
	newCase := widget.NewButton("New case…", func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err != nil || u == nil {
				return
			}
			g.run("Creating case", func(ctx context.Context) (func(), error) {
				c, err := app.New(ctx, u.Path(), "")
				if err != nil {
					return nil, err
				}
				return func() { g.show(c) }, nil
			})
		}, g.w)
	})
	demo := widget.NewButton("Open the demo", func() {
		g.run("Opening the demo case (the first time builds it: a few seconds)", func(ctx context.Context) (func(), error) {
			c, err := app.Demo(ctx, false, nil, io.Discard)
			if err != nil {
				return nil, err
			}
			return func() { g.show(c); g.startAt(Start{}) }, nil
		})
	})
	box := container.NewVBox(title, sub, openDir, openPack, newCase, demo)
	if recent := g.recent(); len(recent) > 0 {
		box.Add(widget.NewLabelWithStyle("Recent cases", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, dir := range recent {
			dir := dir
			box.Add(widget.NewButton(dir, func() { g.open(dir) }))
		}
	}
	return container.NewCenter(box)
}

func (g *gui) open(dir string) {
	g.run("Opening case", func(ctx context.Context) (func(), error) {
		c, err := app.Open(ctx, dir)
		if err != nil {
			return nil, err
		}
		return func() { g.show(c) }, nil
	})
}

func (g *gui) openPack(file string) {
	g.run("Verifying and opening "+file, func(ctx context.Context) (func(), error) {
		c, err := app.OpenPackCached(ctx, file)
		if err != nil {
			return nil, err
		}
		return func() { g.show(c) }, nil
	})
}

// run does work off the UI goroutine behind a progress dialog; done, if the
// work returns one, runs on the UI goroutine afterwards.
func (g *gui) run(title string, work func(ctx context.Context) (done func(), err error)) {
	ctx, cancel := context.WithCancel(context.Background())
	bar := widget.NewProgressBarInfinite()
	d := dialog.NewCustom(title, "Cancel", bar, g.w)
	d.SetOnClosed(cancel)
	d.Show()
	g.background(func() {
		done, err := work(ctx)
		g.do(func() {
			d.Hide()
			if err != nil {
				dialog.ShowError(err, g.w)
				return
			}
			if done != nil {
				done()
			}
		})
	})
}
