package collect

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"dev.l4case/l4case/internal/fakeaws"
)

var window = Window{
	Since:  time.Date(2021, 4, 5, 23, 40, 0, 0, time.UTC),
	Until:  time.Date(2021, 4, 5, 23, 55, 0, 0, time.UTC),
	Margin: 30 * time.Minute,
}

func TestWindowWantsObjects(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"AWSLogs/1/vpcflowlogs/r/2021/04/05/1_vpcflowlogs_r_fl-1_20210405T2340Z_ab.log.gz", true},
		{"AWSLogs/1/vpcflowlogs/r/2021/04/05/1_vpcflowlogs_r_fl-1_20210405T2339Z_ab.log.gz", true}, // a minute for rounding
		{"AWSLogs/1/vpcflowlogs/r/2021/04/05/1_vpcflowlogs_r_fl-1_20210405T2338Z_ab.log.gz", false},
		{"AWSLogs/1/vpcflowlogs/r/2021/04/06/1_vpcflowlogs_r_fl-1_20210406T0025Z_ab.log.gz", true}, // within the margin, next day
		{"AWSLogs/1/vpcflowlogs/r/2021/04/06/1_vpcflowlogs_r_fl-1_20210406T0026Z_ab.log.gz", false},
		{"AWSLogs/1/elasticloadbalancing/r/2021/04/05/1_elasticloadbalancing_r_app.lb.1a2b_20210405T2345Z_10.0.0.1_x.log.gz", true},
		{"AWSLogs/1/vpcflowlogs/r/2021/04/05/notes.txt", true}, // no time stamp: nothing says it is outside
	} {
		if got := window.wanted(tc.key); got != tc.want {
			t.Errorf("%s: wanted %v", tc.key, got)
		}
	}
	days := window.days()
	if len(days) != 2 || days[0] != time.Date(2021, 4, 5, 0, 0, 0, 0, time.UTC) || days[1] != time.Date(2021, 4, 6, 0, 0, 0, 0, time.UTC) {
		t.Errorf("days %v", days)
	}
	for h, want := range map[int]bool{22: false, 23: true} {
		if got := window.hourIn(time.Date(2021, 4, 5, h, 0, 0, 0, time.UTC)); got != want {
			t.Errorf("hour %d: %v", h, got)
		}
	}
	if !window.hourIn(time.Date(2021, 4, 6, 0, 0, 0, 0, time.UTC)) || window.hourIn(time.Date(2021, 4, 6, 1, 0, 0, 0, time.UTC)) {
		t.Error("the margin's hours")
	}
}

func TestParseLocations(t *testing.T) {
	for _, tc := range []struct {
		in, bucket, prefix, err string
	}{
		{"s3://logs", "logs", "", ""},
		{"s3://logs/prod", "logs", "prod/", ""},
		{"s3://logs/prod/AWSLogs/", "logs", "prod/AWSLogs/", ""},
		{"logs/prod", "", "", `"logs/prod": want s3://BUCKET[/PREFIX]`},
		{"s3:///x", "", "", `"s3:///x": no bucket`},
	} {
		l, err := ParseS3(tc.in)
		if fmt.Sprint(err) != map[bool]string{true: "<nil>", false: tc.err}[tc.err == ""] || l.Bucket != tc.bucket || l.Prefix != tc.prefix {
			t.Errorf("%s: %+v %v", tc.in, l, err)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   root
		ok     bool
	}{
		{"prod/", root{}, false},
		{"xAWSLogs/", root{}, false},
		{"AWSLogs/", root{prefix: "AWSLogs/"}, true},
		{"p/AWSLogs/123456789012/vpcflowlogs/eu-west-1/", root{prefix: "p/AWSLogs/", account: "123456789012", service: FlowLogs, region: "eu-west-1"}, true},
		{"AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/", root{prefix: "AWSLogs/", account: "123456789012", layout: Hive, service: FlowLogs}, true},
	} {
		got, ok := splitRoot(tc.prefix)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: %+v %v", tc.prefix, got, ok)
		}
	}
	if g, err := ParseCWL("cwl:///vpc/flowlogs"); g != "/vpc/flowlogs" || err != nil {
		t.Errorf("cwl: %q %v", g, err)
	}
	if hdr := headerOf(DefaultFlowFormat); hdr != "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status" {
		t.Errorf("header %q", hdr)
	}
}

// A Hive-compatible layout in hourly folders: only the window's hours are
// listed, and only its objects kept.
func TestPlanHiveHourly(t *testing.T) {
	srv := fakeaws.New("../testdata/aws")
	defer srv.Close()
	day := func(d, h int) string {
		return fmt.Sprintf("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2021/month=04/day=%02d/hour=%02d/", d, h)
	}
	name := func(d, h, m int) string {
		return fmt.Sprintf("123456789012_vpcflowlogs_eu-west-1_fl-1_202104%02dT%02d%02dZ_h.log.gz", d, h, m)
	}
	var want []string
	for _, o := range []struct {
		d, h, m int
		in      bool
	}{{5, 22, 55, false}, {5, 23, 35, false}, {5, 23, 45, true}, {5, 23, 55, true}, {6, 0, 20, true}, {6, 0, 40, false}, {6, 1, 5, false}, {4, 23, 45, false}} {
		key := day(o.d, o.h) + name(o.d, o.h, o.m)
		if err := srv.Put("b", key, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if o.in {
			want = append(want, key)
		}
	}
	c := s3.New(s3.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(fakeaws.AccessKey, fakeaws.SecretKey, "")})
	plan, err := PlanS3(context.Background(), c, Location{Bucket: "b"}, FlowLogs, window, nil, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range plan.Objects {
		got = append(got, o.Key)
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") || plan.Layout != Hive {
		t.Errorf("planned\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Query, "hour%3D22") || strings.Contains(r.Query, "hour%3D01") || strings.Contains(r.Query, "day%3D04") {
			t.Errorf("listed outside the window: %s", r.Query)
		}
	}
	// Another region than the location's says so; a location of another service too.
	if _, err := PlanS3(context.Background(), c, Location{Bucket: "b", Prefix: "AWSLogs/123456789012/elasticloadbalancing/"}, FlowLogs, window, nil, "eu-west-1"); err == nil || !strings.Contains(err.Error(), "holds elasticloadbalancing objects, not vpcflowlogs") {
		t.Errorf("service: %v", err)
	}
	if _, err := PlanS3(context.Background(), c, Location{Bucket: "b", Prefix: "AWSLogs/123456789012/vpcflowlogs/eu-west-1/"}, FlowLogs, window, nil, "us-east-1"); err == nil || !strings.Contains(err.Error(), "is region eu-west-1, not us-east-1") {
		t.Errorf("region: %v", err)
	}
	if _, err := PlanS3(context.Background(), c, Location{Bucket: "b", Prefix: "elsewhere/"}, FlowLogs, window, nil, "eu-west-1"); err == nil || !strings.Contains(err.Error(), "no AWSLogs/ACCOUNT/ folder under s3://b/elsewhere/AWSLogs/") {
		t.Errorf("empty: %v", err)
	}

}

func TestStatusLine(t *testing.T) {
	s := Status{Phase: "downloading", Objects: 3, ObjectsTotal: 12, Bytes: 4 << 20, BytesTotal: 12 << 20, Elapsed: 2 * time.Second}
	if got := s.Line(); got != "downloading 3/12 objects, 4.0 MiB of 12.0 MiB, 2.0 MiB/s, ETA 4s" {
		t.Errorf("%q", got)
	}
}
