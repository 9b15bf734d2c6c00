package ingest

import (
	"testing"
	"time"
)

func TestParseISOTime(t *testing.T) {
	for _, s := range []string{"2015-05-13T23:39:43.945958Z", "2018-12-20T02:59:40", "2000-02-29T00:00:00Z",
		"1970-01-01T00:00:00Z", "2021-04-05T06:34:14.307137123Z", "2099-12-31T23:59:59.9Z", "1969-07-20T20:17:40Z"} {
		want, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", s+map[bool]string{true: "", false: "Z"}[s[len(s)-1] == 'Z'])
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ParseISOTime([]byte(s))
		if !ok || got != want.UnixNano() {
			t.Errorf("%s: %d %v, want %d", s, got, ok, want.UnixNano())
		}
	}
	for _, bad := range []string{"", "2015-05-13", "2015-13-13T23:39:43Z", "2015-02-30T00:00:00Z", "2015-05-13T23:39:43.Z", "2015-05-13T23:39:43+01:00", "2015-05-13T24:00:00Z", "x015-05-13T23:39:43Z"} {
		if _, ok := ParseISOTime([]byte(bad)); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseISOTime(f *testing.F) {
	f.Add("2015-05-13T23:39:43.945958Z")
	f.Add("2018-12-20T02:59:40")
	f.Fuzz(func(t *testing.T, s string) {
		ns, ok := ParseISOTime([]byte(s))
		if !ok {
			return
		}
		// Whatever it accepts, time.Parse reads the same instant.
		in := s
		if in[len(in)-1] != 'Z' {
			in += "Z"
		}
		in = in[:10] + "T" + in[11:]
		want, err := time.Parse("2006-01-02T15:04:05.999999999Z", in)
		if err == nil && want.UnixNano() != ns {
			t.Errorf("%q: %d, time.Parse %d", s, ns, want.UnixNano())
		}
	})
}
