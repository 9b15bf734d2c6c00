package collect

import (
	"strings"
	"testing"
)

// Object keys and prefixes come from a bucket anyone may write to: reading
// them never panics, and what a key's name says agrees with wanted.
func FuzzKeys(f *testing.F) {
	for _, s := range []string{
		"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2021/04/05/123456789012_vpcflowlogs_eu-west-1_fl-1_20210405T2340Z_ab.log.gz",
		"p/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2021/month=04/day=05/hour=23/",
		"AWSLogs/", "_20219999T9999Z_", "AWSLogs//", "x/AWSLogs/1/2/3/4",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if tm, ok := objectTime(key); ok {
			in := !tm.Before(window.first()) && !tm.After(window.last())
			if window.wanted(key) != in {
				t.Errorf("%q: time %v, wanted %v", key, tm, window.wanted(key))
			}
		} else if !window.wanted(key) {
			t.Errorf("%q: no time, not wanted", key)
		}
		if r, ok := splitRoot(key); ok && !strings.HasSuffix(r.prefix, "AWSLogs/") {
			t.Errorf("%q: root %q", key, r.prefix)
		}
		if h, ok := hourOf("", key); ok && (h < 0 || h > 23) {
			t.Errorf("%q: hour %d", key, h)
		}
		accountOf(key)
		ParseS3(key)
		ParseCWL(key)
	})
}
