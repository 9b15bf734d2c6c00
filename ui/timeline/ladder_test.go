package timeline

import (
	"strings"
	"testing"
	"time"

	"dev.l4case/l4case/app"
)

func TestLadder(t *testing.T) {
	t0 := time.Date(2021, 4, 5, 6, 34, 14, 307291000, time.UTC)
	pkts := []app.Packet{
		{Frame: 1, Time: t0, FromA: true, Flags: "SYN"},
		{Frame: 3, Time: t0.Add(117 * time.Microsecond), Flags: "SYN-ACK"},
		{Frame: 7, Time: t0.Add(537 * time.Microsecond), FromA: true, Flags: "PSH-ACK", PayloadLen: 49},
	}
	got := Ladder(pkts, "10.0.14.231:31566", "10.0.134.187:31790", map[int64]string{7: "PROXY"})
	lines := strings.Split(got, "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "  frame  time") || !strings.Contains(lines[0], "10.0.14.231:31566") || !strings.HasSuffix(lines[0], "10.0.134.187:31790") {
		t.Fatalf("ladder:\n%s", got)
	}
	for i, want := range []struct{ prefix, mid, end string }{
		{"      1  06:34:14.307291  |", " SYN ", "▶|"},
		{"      3  06:34:14.307408  |◀", " SYN-ACK ", "─|"},
		{"      7  06:34:14.307828  |", " PSH-ACK len 49 · PROXY ", "▶|"},
	} {
		l := lines[i+1]
		if !strings.HasPrefix(l, want.prefix) || !strings.Contains(l, want.mid) || !strings.HasSuffix(l, want.end) {
			t.Errorf("line %d %q", i+1, l)
		}
	}
	// Every arrow is as long as the others, so they line up.
	n := len([]rune(lines[1]))
	for _, l := range lines[2:] {
		if len([]rune(l)) != n {
			t.Errorf("%q is %d runes, not %d", l, len([]rune(l)), n)
		}
	}
}
