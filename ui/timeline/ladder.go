package timeline

import (
	"fmt"
	"strings"

	"dev.l4case/l4case/app"
)

// Ladder draws a conversation's packets as text, a line per frame with an
// arrow between its two ends (a is the initiator), as Wireshark's flow
// graph does; labels name frames the hop's evidence points at (PROXY,
// request, response 200).
func Ladder(pkts []app.Packet, a, b string, labels map[int64]string) string {
	const width = 34
	var sb strings.Builder
	fmt.Fprintf(&sb, "%7s  %-15s  %-*s  %s\n", "frame", "time", width+2, a, b)
	for _, p := range pkts {
		what := p.Flags
		if p.PayloadLen > 0 {
			what += fmt.Sprintf(" len %d", p.PayloadLen)
		}
		if l := labels[p.Frame]; l != "" {
			what += " · " + l
		}
		what = " " + what + " "
		pad := width - len([]rune(what))
		if pad < 2 {
			pad = 2
		}
		left, right := pad/2, pad-pad/2
		var arrow string
		if p.FromA {
			arrow = strings.Repeat("─", left) + what + strings.Repeat("─", right) + "▶"
		} else {
			arrow = "◀" + strings.Repeat("─", left) + what + strings.Repeat("─", right)
		}
		fmt.Fprintf(&sb, "%7d  %s  |%s|\n", p.Frame, p.Time.Format("15:04:05.000000"), arrow)
	}
	return strings.TrimRight(sb.String(), "\n")
}
