package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"

	"dev.l4case/l4case/query"
)

// export asks where to write the whole result of sqlText and writes it
// there off the UI goroutine: JSON lines when the name ends in .json or
// .jsonl, CSV otherwise. DuckDB streams it, so any size is fine.
func (g *gui) export(sqlText, name string) {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		w.Close()
		g.exportTo(sqlText, w.URI().Path())
	}, g.w)
	d.SetFileName(name + ".csv")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv", ".json", ".jsonl"}))
	d.Show()
}

// exportTo writes the result to path behind a progress dialog that cancels.
func (g *gui) exportTo(sqlText, path string) {
	format := query.CSV
	if strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl") {
		format = query.JSON
	}
	c := g.c
	g.run("Exporting to "+path, func(ctx context.Context) (func(), error) {
		n, err := c.Export(ctx, sqlText, path, format)
		if err != nil {
			return nil, err
		}
		return func() {
			dialog.ShowInformation("Exported", fmt.Sprintf("%d rows written to %s", n, path), g.w)
		}, nil
	})
}
