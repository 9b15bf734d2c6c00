package timeline

import (
	"reflect"
	"testing"
	"time"

	"dev.l4case/l4case/app"
)

func sampleTrace() *app.Trace {
	t0 := time.Date(2021, 4, 5, 6, 34, 14, 307137000, time.UTC)
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	return &app.Trace{
		Lanes: []app.Lane{{ID: "client", Label: "client", Addr: "217.178.150.208:35088"}, {ID: "lb", Label: "a17a", Addr: "10.0.14.231:31566"},
			{ID: "node", Label: "ip-10-0-134-187", Addr: "10.0.134.187:31790"}, {ID: "router", Label: "router-default"}, {ID: "backend", Label: "web"}},
		Hops: []app.Hop{
			{Step: "client_lb", From: "client", To: "lb", Source: "elb_log", Status: "ok", Start: at(0), End: at(521 * time.Microsecond), DurationMS: 0.521},
			{Step: "lb_node", From: "lb", To: "node", Source: "flow_log", Status: "ok", ENI: "eni-0622", Start: at(48 * time.Second), End: at(60 * time.Second), OffsetMS: 48000, DurationMS: 12000},
			{Step: "lb_node", From: "lb", To: "node", Source: "capture", Status: "ok", Start: at(154 * time.Microsecond), End: at(1110 * time.Millisecond), OffsetMS: 0.154, DurationMS: 1110.019},
			{Step: "node_router", From: "node", To: "router", Source: "capture", Status: "missing", Reason: "no DNAT'd copy"},
			{Step: "router_backend", From: "router", To: "backend", Source: "opflex", Status: "dropped", Start: at(2 * time.Millisecond), End: at(3 * time.Second), OffsetMS: 2, DurationMS: 3000},
			{Step: "drop", From: "router", To: "nowhere", Source: "opflex", Status: "dropped"},
		},
	}
}

func TestComputePlacesLanesAndRows(t *testing.T) {
	l := Compute(sampleTrace(), 1096, 1)
	// Five lanes share 1096 - 2*16 - 96 = 968 units: 193.6 each.
	var xs []float32
	for _, ln := range l.Lanes {
		xs = append(xs, ln.X)
	}
	if want := []float32{208.8, 402.4, 596, 789.6, 983.2}; !close(xs, want) {
		t.Errorf("lane centres %v, want %v", xs, want)
	}
	if l.Width != 1096 {
		t.Errorf("width %v", l.Width)
	}
	// One row per drawable hop, in the trace's order, RowH apart; the hop
	// to a lane that does not exist is left out.
	var got []string
	for _, r := range l.Rows {
		got = append(got, r.Time+" | "+r.Label+" | "+r.Color)
	}
	want := []string{
		"+0.000 ms | ELB log · 0.521 ms | ok",
		"+48.000 s | flow log · 12.000 s · eni-0622 | ok",
		"+0.154 ms | capture · 1.110 s | ok",
		"missing | capture: no DNAT'd copy | missing",
		"+2.000 ms | OpFlex · 3.000 s · dropped | bad",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n%q\nwant\n%q", got, want)
	}
	for i, r := range l.Rows {
		if wantY := float32(Margin + HeaderH + RowH*(i+1)); r.Y != wantY {
			t.Errorf("row %d at y %v, want %v", i, r.Y, wantY)
		}
		if r.Dashed != (i == 3) {
			t.Errorf("row %d dashed = %v", i, r.Dashed)
		}
	}
	if r := l.Rows[2]; r.X1 != l.Lanes[1].X || r.X2 != l.Lanes[2].X || r.Hop != 2 {
		t.Errorf("capture row from %v to %v (hop %d), want lb → node", r.X1, r.X2, r.Hop)
	}
	if l.Height != float32(Margin+HeaderH+RowH*5+RowH/2+Margin) {
		t.Errorf("height %v", l.Height)
	}
}

func TestZoomAndNarrowCanvas(t *testing.T) {
	l := Compute(sampleTrace(), 300, 2)
	// Lanes never get narrower than MinLaneW: the diagram scrolls instead.
	if l.Width != 2*Margin+AxisW+5*MinLaneW {
		t.Errorf("width %v", l.Width)
	}
	if l.Rows[1].Y-l.Rows[0].Y != 2*RowH {
		t.Errorf("zoom 2 rows %v apart", l.Rows[1].Y-l.Rows[0].Y)
	}
	if e := Compute(&app.Trace{}, 500, 1); len(e.Rows) != 0 || e.Height <= 0 {
		t.Errorf("empty trace: %+v", e)
	}
}

func TestAtFindsTheArrow(t *testing.T) {
	l := Compute(sampleTrace(), 1096, 1)
	for _, c := range []struct {
		x, y float32
		want int
	}{
		{300, l.Rows[0].Y + 3, 0},     // on the ELB arrow, client → lb
		{500, l.Rows[2].Y - 10, 2},    // near the capture arrow, lb → node
		{900, l.Rows[4].Y, 4},         // the OpFlex drop, router → backend
		{100, l.Rows[0].Y, -1},        // left of every arrow (the time column)
		{300, l.Rows[4].Y + RowH, -1}, // below the last row
		{900, l.Rows[0].Y, -1},        // at the ELB row's height, but far right of its arrow
	} {
		if got := l.At(c.x, c.y); got != c.want {
			t.Errorf("At(%v, %v) = %d, want %d", c.x, c.y, got, c.want)
		}
	}
}

func close(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if d := a[i] - b[i]; d > 0.01 || d < -0.01 {
			return false
		}
	}
	return true
}

func TestFit(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"client", 25, "client"},
		{"ip-10-0-134-187.ap-northeast-1.compute.internal", 25, "ip-10-0-134-187"},
		{"openshift-ingress/router-default-01a861b7c9-g4hb5", 25, "router-defau…61b7c9-g4hb5"},
		{"ad80d53241f3f98c9b7d138ecbd0ad9f", 25, "ad80d53241f3…138ecbd0ad9f"},
		{"shop/web-f8361df3c8-8d5cm", 25, "shop/web-f8361df3c8-8d5cm"},
	} {
		if got := Fit(c.in, c.n); got != c.want || len([]rune(got)) > c.n {
			t.Errorf("Fit(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
