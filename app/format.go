package app

import (
	"fmt"
	"strings"
	"time"
)

// SizeText is a byte count for people: 1.5 MiB.
func SizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// CountText writes 1234567 as 1,234,567.
func CountText(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Line is an import's progress in one line, as the CLI's and the GUI's
// progress show it: "[2/5] flowlog x.log.gz  45.0% 12.3 MiB/27.0 MiB
// 120,345 rows 250,112 rows/s ETA 3s".
func (s ImportStatus) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d/%d] %s %s ", s.Index, s.Total, s.Kind, s.File)
	if s.Size > 0 {
		pct := float64(s.Bytes) * 100 / float64(s.Size)
		fmt.Fprintf(&b, "%5.1f%% %s/%s ", pct, SizeText(s.Bytes), SizeText(s.Size))
	}
	fmt.Fprintf(&b, "%s rows", CountText(s.Records))
	if s.Rejected > 0 {
		fmt.Fprintf(&b, " (%s rejected)", CountText(s.Rejected))
	}
	if sec := s.Elapsed.Seconds(); sec > 0.2 {
		fmt.Fprintf(&b, " %s rows/s", CountText(int64(float64(s.Records)/sec)))
		if s.Bytes > 0 && s.Size > s.Bytes {
			eta := time.Duration(float64(s.Elapsed) * float64(s.Size-s.Bytes) / float64(s.Bytes))
			fmt.Fprintf(&b, " ETA %s", eta.Round(time.Second))
		}
	}
	return b.String()
}
