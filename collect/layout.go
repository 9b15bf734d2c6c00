package collect

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Service is an AWSLogs service folder: what delivers the objects.
type Service string

const (
	FlowLogs Service = "vpcflowlogs"          // VPC flow logs
	ELBLogs  Service = "elasticloadbalancing" // Classic, ALB and NLB access logs
)

// Window is the time the case is about, and how far after it objects may
// still hold its records: flow logs aggregate up to 10 minutes and are
// delivered in 5-minute files, up to several minutes late; ELB logs are
// written at the end of each 5 (or 60) minute interval.
type Window struct {
	Since, Until time.Time
	Margin       time.Duration
}

// DefaultMargin covers a 10-minute aggregation window, the 5-minute
// delivery interval and AWS's documented delivery delay, twice over.
const DefaultMargin = 30 * time.Minute

// last is the latest object time that can hold the window's records.
func (w Window) last() time.Time { return w.Until.Add(w.Margin) }

// first is the earliest: an object is written after the records it holds
// end (a minute for clocks rounded to the minute).
func (w Window) first() time.Time { return w.Since.Add(-time.Minute) }

// days are the UTC dates whose folders can hold the window's objects.
func (w Window) days() []time.Time {
	var out []time.Time
	d := w.first().UTC().Truncate(24 * time.Hour)
	for end := w.last().UTC(); !d.After(end); d = d.Add(24 * time.Hour) {
		out = append(out, d)
	}
	return out
}

// hourIn says whether the hour starting at h can hold the window's objects.
func (w Window) hourIn(h time.Time) bool {
	return !h.Add(time.Hour).Before(w.first()) && !h.After(w.last())
}

// objectTime is the time stamp AWS puts in an object's name: the end of
// the interval it covers (ELB) or when it was written (flow logs), as
// _YYYYMMDDTHHmmZ_. ok is false for a name without one.
var nameTime = regexp.MustCompile(`_(\d{8}T\d{4}Z)_`)

func objectTime(key string) (time.Time, bool) {
	base := key[strings.LastIndex(key, "/")+1:]
	m := nameTime.FindStringSubmatch(base)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T1504Z", m[1])
	return t, err == nil
}

// wanted says whether an object of that name can hold records of the
// window. A name without a time stamp is kept: nothing says it cannot.
func (w Window) wanted(key string) bool {
	t, ok := objectTime(key)
	if !ok {
		return true
	}
	return !t.Before(w.first()) && !t.After(w.last())
}

// Layout is how a destination arranges its objects under AWSLogs/: AWS's
// default (ACCOUNT/SERVICE/REGION/YYYY/MM/DD/), or the Hive-compatible one
// flow logs can use (aws-account-id=ACCOUNT/aws-service=SERVICE/
// aws-region=REGION/year=YYYY/month=MM/day=DD/); either may end in hourly
// folders (HH/ or hour=HH/).
type Layout int

const (
	Plain Layout = iota
	Hive
)

// accountDir is the folder of an account under AWSLogs/, and the account a
// folder names.
func (l Layout) accountDir(account string) string {
	if l == Hive {
		return "aws-account-id=" + account + "/"
	}
	return account + "/"
}

var accountRE = regexp.MustCompile(`^(?:aws-account-id=)?(\d{12})/$`)

// AccountOf reads the account out of a folder under AWSLogs/.
func accountOf(dir string) (string, Layout, bool) {
	m := accountRE.FindStringSubmatch(dir)
	if m == nil {
		return "", Plain, false
	}
	if strings.HasPrefix(dir, "aws-account-id=") {
		return m[1], Hive, true
	}
	return m[1], Plain, true
}

// dayPrefix is the folder of one day's objects of an account, service and
// region.
func (l Layout) dayPrefix(root, account string, s Service, region string, day time.Time) string {
	if l == Hive {
		return fmt.Sprintf("%saws-account-id=%s/aws-service=%s/aws-region=%s/year=%04d/month=%02d/day=%02d/",
			root, account, s, region, day.Year(), day.Month(), day.Day())
	}
	return fmt.Sprintf("%s%s/%s/%s/%04d/%02d/%02d/", root, account, s, region, day.Year(), day.Month(), day.Day())
}

var hourRE = regexp.MustCompile(`(?:^|/)(?:hour=)?(\d{2})/$`)

// hourOf reads the hour of an hourly folder under a day's.
func hourOf(dayPrefix, dir string) (int, bool) {
	m := hourRE.FindStringSubmatch(strings.TrimPrefix(dir, dayPrefix))
	if m == nil {
		return 0, false
	}
	var h int
	fmt.Sscanf(m[1], "%d", &h)
	return h, h < 24
}

// Location is an s3://BUCKET/PREFIX.
type Location struct{ Bucket, Prefix string }

func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Prefix }

// ParseS3 reads s3://BUCKET[/PREFIX].
func ParseS3(u string) (Location, error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok || rest == "" {
		return Location{}, fmt.Errorf("%q: want s3://BUCKET[/PREFIX]", u)
	}
	b, p, _ := strings.Cut(rest, "/")
	if b == "" {
		return Location{}, fmt.Errorf("%q: no bucket", u)
	}
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return Location{Bucket: b, Prefix: p}, nil
}

// root is where AWSLogs/ is under the location, and what the location
// already fixes below it (an account, a service, a region), from its path.
type root struct {
	prefix  string // ends in AWSLogs/
	account string
	layout  Layout
	service Service
	region  string
}

// splitRoot reads a prefix that reaches into AWSLogs/, or says it does not.
func splitRoot(prefix string) (root, bool) {
	i := strings.Index(prefix, "AWSLogs/")
	if i < 0 || (i > 0 && prefix[i-1] != '/') {
		return root{}, false
	}
	r := root{prefix: prefix[:i+len("AWSLogs/")]}
	parts := strings.Split(strings.TrimSuffix(prefix[i+len("AWSLogs/"):], "/"), "/")
	if len(parts) > 0 && parts[0] != "" {
		acc, layout, ok := accountOf(parts[0] + "/")
		if ok {
			r.account, r.layout = acc, layout
		}
	}
	if len(parts) > 1 {
		r.service = Service(strings.TrimPrefix(parts[1], "aws-service="))
	}
	if len(parts) > 2 {
		r.region = strings.TrimPrefix(parts[2], "aws-region=")
	}
	return r, true
}
