package ui

import (
	"context"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"

	"dev.l4case/l4case/app"
)

// Preference keys.
const (
	prefRecent = "recent_cases" // case folders opened, newest first, one per line
	prefWidth  = "window_width"
	prefHeight = "window_height"
	maxRecent  = 8
)

// menu gives the window the File menu desktop users expect, with its
// shortcuts: Open (Ctrl+O), Save as .l4case (Ctrl+S), Quit (Ctrl+Q).
func (g *gui) menu() {
	openDir := fyne.NewMenuItem("Open case folder…", g.openDialog)
	openDir.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	openPack := fyne.NewMenuItem("Open .l4case file…", g.openPackDialog)
	save := fyne.NewMenuItem("Save as .l4case…", g.saveDialog)
	save.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	quit := fyne.NewMenuItem("Quit", func() { g.a.Quit() })
	quit.IsQuit = true
	quit.Shortcut = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
	g.w.SetMainMenu(fyne.NewMainMenu(fyne.NewMenu("File", openDir, openPack, fyne.NewMenuItemSeparator(), save, fyne.NewMenuItemSeparator(), quit)))
	for _, it := range []*fyne.MenuItem{openDir, save, quit} {
		it := it
		g.w.Canvas().AddShortcut(it.Shortcut, func(fyne.Shortcut) { it.Action() })
	}
}

func (g *gui) openDialog() {
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			g.open(u.Path())
		}
	}, g.w)
}

func (g *gui) openPackDialog() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		g.openPack(r.URI().Path())
	}, g.w)
}

// saveDialog packs the open case into a .l4case file.
func (g *gui) saveDialog() {
	if g.c == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		if !strings.HasSuffix(path, ".l4case") {
			path += ".l4case"
		}
		c := g.c
		g.run("Packing "+filepath.Base(path), func(ctx context.Context) (func(), error) {
			if err := c.Pack(ctx, path, false, nil); err != nil {
				return nil, err
			}
			return func() { dialog.ShowInformation("Saved", c.Name()+" is in "+path, g.w) }, nil
		})
	}, g.w)
	d.SetFileName(filepath.Base(g.c.Dir) + ".l4case")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".l4case"}))
	d.Show()
}

// recent lists the case folders opened before, newest first, that still
// hold a case.
func (g *gui) recent() []string {
	var out []string
	for _, d := range strings.Split(g.a.Preferences().String(prefRecent), "\n") {
		if d != "" && app.IsCaseDir(d) {
			out = append(out, d)
		}
	}
	return out
}

// remember puts a case folder first among the recent ones.
func (g *gui) remember(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	list := []string{abs}
	for _, d := range strings.Split(g.a.Preferences().String(prefRecent), "\n") {
		if d != "" && d != abs && len(list) < maxRecent {
			list = append(list, d)
		}
	}
	g.a.Preferences().SetString(prefRecent, strings.Join(list, "\n"))
}

// restoreSize gives the window the size it had when last closed (the first
// time, most of the screen), and
// remembers it when it closes again.
func (g *gui) restoreSize() {
	p := g.a.Preferences()
	w, h := p.FloatWithFallback(prefWidth, 1280), p.FloatWithFallback(prefHeight, 800)
	g.w.Resize(fyne.NewSize(float32(max(w, 640)), float32(max(h, 480))))
	if p.Float(prefWidth) == 0 {
		g.fitScreen() // the first start: most of the screen, not 1280x800
	}
	g.w.SetOnClosed(func() {
		s := g.w.Canvas().Size()
		if s.Width >= 640 && s.Height >= 480 {
			p.SetFloat(prefWidth, float64(s.Width))
			p.SetFloat(prefHeight, float64(s.Height))
		}
	})
}
