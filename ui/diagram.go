package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/ui/timeline"
)

// traceDiagram draws one trace as swimlanes (ui/timeline computes where);
// a tap on an arrow selects its hop. Written like Fyne's own widgets: the
// state lives in the widget, the canvas objects in its renderer.
type traceDiagram struct {
	widget.BaseWidget
	trace    *app.Trace
	zoom     float32
	selected int // row, -1 for none
	layout   timeline.Layout
	OnSelect func(hop int)
}

func newTraceDiagram() *traceDiagram {
	d := &traceDiagram{zoom: 1, selected: -1}
	d.ExtendBaseWidget(d)
	return d
}

// SetTrace shows t; nil clears the diagram.
func (d *traceDiagram) SetTrace(t *app.Trace) {
	d.trace, d.selected = t, -1
	d.Refresh()
}

// SetZoom stretches the rows.
func (d *traceDiagram) SetZoom(z float32) {
	d.zoom = min(max(z, 0.5), 4)
	d.Refresh()
}

// Tapped selects the arrow under the pointer.
func (d *traceDiagram) Tapped(ev *fyne.PointEvent) {
	i := d.layout.At(ev.Position.X, ev.Position.Y)
	if i < 0 {
		return
	}
	d.selected = i
	d.Refresh()
	if d.OnSelect != nil {
		d.OnSelect(d.layout.Rows[i].Hop)
	}
}

// selectHop selects the row of a hop, as a tap on it would.
func (d *traceDiagram) selectHop(hop int) {
	for i, r := range d.layout.Rows {
		if r.Hop == hop {
			d.selected = i
		}
	}
	d.Refresh()
}

func (d *traceDiagram) CreateRenderer() fyne.WidgetRenderer {
	return &diagramRenderer{d: d}
}

type diagramRenderer struct {
	d       *traceDiagram
	size    fyne.Size
	objects []fyne.CanvasObject
}

func (r *diagramRenderer) compute(width float32) timeline.Layout {
	if r.d.trace == nil {
		return timeline.Layout{Width: width}
	}
	return timeline.Compute(r.d.trace, width, r.d.zoom)
}

func (r *diagramRenderer) MinSize() fyne.Size {
	l := r.compute(0)
	return fyne.NewSize(l.Width, l.Height)
}

func (r *diagramRenderer) Layout(size fyne.Size) {
	r.size = size
	r.build()
}

func (r *diagramRenderer) Refresh() {
	r.build()
	canvas.Refresh(r.d)
}

func (r *diagramRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *diagramRenderer) Destroy() {}

// build makes the canvas objects of the current layout.
func (r *diagramRenderer) build() {
	d := r.d
	d.layout = r.compute(r.size.Width)
	l := d.layout
	v := fyne.CurrentApp().Settings().ThemeVariant()
	th := d.Theme()
	fg := th.Color(theme.ColorNameForeground, v)
	dim := th.Color(theme.ColorNameDisabled, v)
	text := func(s string, x, y float32, c color.Color, size float32, bold bool, align fyne.TextAlign) *canvas.Text {
		t := canvas.NewText(s, c)
		t.TextSize, t.TextStyle, t.Alignment = size, fyne.TextStyle{Bold: bold}, align
		ts := t.MinSize()
		switch align {
		case fyne.TextAlignCenter:
			x -= ts.Width / 2
		case fyne.TextAlignTrailing:
			x -= ts.Width
		}
		t.Move(fyne.NewPos(x, y))
		t.Resize(ts)
		return t
	}
	line := func(x1, y1, x2, y2 float32, c color.Color, w float32) *canvas.Line {
		ln := canvas.NewLine(c)
		ln.StrokeWidth = w
		ln.Position1, ln.Position2 = fyne.NewPos(x1, y1), fyne.NewPos(x2, y2)
		return ln
	}
	var objs []fyne.CanvasObject
	if d.trace == nil {
		objs = append(objs, text("Type a request-id or a client ip:port above, or double-click a row of request_paths in Views.", timeline.Margin, timeline.Margin, dim, 13, false, fyne.TextAlignLeading))
		r.objects = objs
		return
	}
	size := th.Size(theme.SizeNameText)
	if len(l.Rows) > 0 && d.selected >= 0 && d.selected < len(l.Rows) {
		row := l.Rows[d.selected]
		bg := canvas.NewRectangle(th.Color(theme.ColorNameSelection, v))
		bg.Move(fyne.NewPos(timeline.Margin, row.Y-timeline.RowH/2))
		bg.Resize(fyne.NewSize(l.Width-2*timeline.Margin, timeline.RowH))
		objs = append(objs, bg)
	}
	bottom := l.Height - timeline.Margin
	for _, ln := range l.Lanes {
		objs = append(objs,
			text(ln.Label, ln.X, timeline.Margin, fg, size, true, fyne.TextAlignCenter),
			text(ln.Addr, ln.X, timeline.Margin+size+6, dim, size-1, false, fyne.TextAlignCenter),
			line(ln.X, timeline.Margin+timeline.HeaderH-6, ln.X, bottom, dim, 1))
	}
	for _, row := range l.Rows {
		c := r.color(row.Color, v)
		x1, x2 := row.X1, row.X2
		if row.Dashed {
			step := float32(8)
			dir := float32(1)
			if x2 < x1 {
				dir = -1
			}
			for x := x1; (x2-x)*dir > 0; x += dir * step {
				end := x + dir*step*0.6
				if (x2-end)*dir < 0 {
					end = x2
				}
				objs = append(objs, line(x, row.Y, end, row.Y, c, 2))
			}
		} else {
			objs = append(objs, line(x1, row.Y, x2, row.Y, c, 2))
		}
		// The arrow's head at the To lane.
		h := float32(timeline.ArrowHead)
		back := -h
		if x2 < x1 {
			back = h
		}
		objs = append(objs, line(x2, row.Y, x2+back, row.Y-h/1.5, c, 2), line(x2, row.Y, x2+back, row.Y+h/1.5, c, 2))
		objs = append(objs,
			text(row.Time, timeline.Margin+timeline.AxisW-8, row.Y-size/1.3, dim, size-1, false, fyne.TextAlignTrailing),
			text(row.Label, (x1+x2)/2, row.Y-size-8, fg, size-1, false, fyne.TextAlignCenter))
	}
	r.objects = objs
}

// color is the arrow colour of a row's status class.
func (r *diagramRenderer) color(class string, v fyne.ThemeVariant) color.Color {
	th := r.d.Theme()
	switch class {
	case "ok":
		return th.Color(theme.ColorNameSuccess, v)
	case "bad":
		return th.Color(theme.ColorNameError, v)
	case "warn":
		return th.Color(theme.ColorNameWarning, v)
	}
	return th.Color(theme.ColorNameDisabled, v)
}
