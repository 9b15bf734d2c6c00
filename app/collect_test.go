package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"dev.l4case/l4case/gen"
	"dev.l4case/l4case/internal/fakeaws"
)

// awsEnv points the SDK's default chain at the fake server's key.
func awsEnv(t *testing.T, s *fakeaws.Server) {
	t.Helper()
	for _, kv := range s.Env(t.TempDir()) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// emptyCase is a new case, closed when the test ends.
func emptyCase(t *testing.T, name string) *Case {
	t.Helper()
	c, err := New(context.Background(), filepath.Join(t.TempDir(), "case"), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// bucketed is a generated incident's logs in S3, as AWS delivers them,
// with objects of other days, hours, regions and accounts beside them.
type bucketed struct {
	srv    *fakeaws.Server
	bundle string
	want   []string // the object paths (/BUCKET/KEY) a collection of the window must fetch
	truth  *gen.Truth
	since  time.Time
	until  time.Time
}

func bucketIncident(t *testing.T) *bucketed {
	t.Helper()
	o := gen.Defaults()
	o.Out, o.Requests, o.Duration = filepath.Join(t.TempDir(), "bundle"), 200, 20*time.Minute
	tr, err := gen.Generate(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := fakeaws.New("../testdata/aws")
	t.Cleanup(srv.Close)
	b := &bucketed{srv: srv, bundle: o.Out, truth: tr, since: o.Start, until: o.Start.Add(o.Duration)}
	put := func(bucket, key string, body []byte) {
		if err := srv.Put(bucket, key, body); err != nil {
			t.Fatal(err)
		}
	}
	for _, src := range []struct{ dir, bucket, prefix string }{{"flowlogs", "flow-logs", "prod/"}, {"elb", "elb-logs", ""}} {
		var decoyDone bool
		filepath.WalkDir(filepath.Join(o.Out, src.dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join(o.Out, src.dir), p)
			key := src.prefix + filepath.ToSlash(rel)
			put(src.bucket, key, body)
			b.want = append(b.want, "/"+src.bucket+"/"+key)
			if decoyDone {
				return nil
			}
			decoyDone = true
			// The same object on another day, at hours before and well
			// after the window, in another region, of another account.
			decoys := []string{
				strings.NewReplacer("/2021/04/05/", "/2021/04/04/", "_20210405T", "_20210404T").Replace(key),
				nameHour(key, "0420"), nameHour(key, "0935"),
				strings.ReplaceAll(key, "ap-northeast-1", "ap-southeast-2"),
				strings.ReplaceAll(key, "123456789012", "210987654321"),
			}
			for _, k := range decoys {
				if k == key {
					t.Fatalf("decoy %s is the object itself", k)
				}
				put(src.bucket, k, body)
			}
			return nil
		})
	}
	sort.Strings(b.want)
	return b
}

// nameHour moves the time stamp in an object's name to another hh:mm of
// the same day.
func nameHour(key, hhmm string) string {
	i := strings.Index(key, "_20210405T")
	return key[:i+10] + hhmm + key[i+14:]
}

func (b *bucketed) options() CollectOptions {
	return CollectOptions{
		Since: b.since, Until: b.until, Region: "ap-northeast-1", EndpointURL: b.srv.URL,
		FlowLogs: []string{"s3://flow-logs/prod"}, ELBLogs: []string{"s3://elb-logs"},
		Accounts: []string{"123456789012"},
	}
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

// Collecting a window from S3 fetches its objects and no other: not those
// of other days, hours, regions or accounts under the same prefix. The
// case then holds the same rows as one the objects were copied into by
// hand, and the trace finds the collected records.
func TestCollectS3Window(t *testing.T) {
	ctx := context.Background()
	b := bucketIncident(t)
	awsEnv(t, b.srv)
	c := emptyCase(t, "collected")

	// Two accounts deliver under the prefix: the user must pick one.
	o := b.options()
	o.Accounts = nil
	if _, err := c.Collect(ctx, o, nil); err == nil || !strings.Contains(err.Error(), "several accounts (123456789012, 210987654321): pick with --account") {
		t.Fatalf("two accounts: %v", err)
	}
	b.srv.Reset()
	rep, err := c.Collect(ctx, b.options(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := sorted(b.srv.GetObjects()); strings.Join(got, "\n") != strings.Join(b.want, "\n") {
		t.Fatalf("fetched %d objects, want the window's %d:\n%s\nwant:\n%s", len(got), len(b.want), strings.Join(got, "\n"), strings.Join(b.want, "\n"))
	}
	// Only the account level and the window's day were listed.
	for _, r := range b.srv.Requests() {
		if strings.Contains(r.Query, "list-type") && (strings.Contains(r.Query, "2021%2F04%2F04") || strings.Contains(r.Query, "ap-southeast-2") || strings.Contains(r.Query, "210987654321")) {
			t.Errorf("listed outside the window: %s?%s", r.Path, r.Query)
		}
	}
	imported, _, failed := rep.Import.Counts()
	if imported != len(b.want) || failed != 0 || rep.Collected.Downloaded != len(b.want) {
		t.Errorf("%d downloaded, %d imported, %d failed; want %d", rep.Collected.Downloaded, imported, failed, len(b.want))
	}
	for _, e := range c.Evidence() {
		if !strings.HasPrefix(e.Name, "s3://flow-logs/prod/AWSLogs/123456789012/vpcflowlogs/ap-northeast-1/2021/04/05/") &&
			!strings.HasPrefix(e.Name, "s3://elb-logs/AWSLogs/123456789012/elasticloadbalancing/ap-northeast-1/2021/04/05/") {
			t.Errorf("evidence named %s", e.Name)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(c.Dir, "collect", "s3", "*", "*")); len(left) != 0 {
		t.Errorf("staged files left after the import: %v", left)
	}
	// No credential in the case.
	filepath.WalkDir(c.Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if body, _ := os.ReadFile(p); strings.Contains(string(body), fakeaws.SecretKey) || strings.Contains(string(body), fakeaws.AccessKey) {
				t.Errorf("%s holds the credentials", p)
			}
		}
		return nil
	})

	// The same objects copied by hand (aws s3 cp --recursive) import to
	// the same rows.
	byHand := emptyCase(t, "by hand")
	if _, err := byHand.Import(ctx, []string{filepath.Join(b.bundle, "flowlogs"), filepath.Join(b.bundle, "elb")}, ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"flow_logs", "elb_logs"} {
		q := "SELECT count(*), sum(hash(COLUMNS(* EXCLUDE (evidence_id)))) FROM " + table
		a, err1 := c.Console(ctx, q, 0, 1)
		h, err2 := byHand.Console(ctx, q, 0, 1)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(a.Rows) != fmt.Sprint(h.Rows) || fmt.Sprint(a.Rows[0][0]) == "0" {
			t.Errorf("%s: collected %v, by hand %v", table, a.Rows[0][:1], h.Rows[0][:1])
		}
	}

	// With the captures and snapshots beside it, the trace uses the
	// collected records: the ELB line and the flow-log records by their URL.
	if _, err := c.Import(ctx, []string{filepath.Join(b.bundle, "pcap"), filepath.Join(b.bundle, "aws"), filepath.Join(b.bundle, "oc")}, ImportOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	var req gen.TruthRequest
	for _, r := range b.truth.Requests {
		if r.Fault == "" && r.Status == 200 {
			req = r
			break
		}
	}
	tr, err := c.Trace(ctx, TraceKey{RequestID: req.RequestID})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for _, h := range tr.Hops {
		for _, e := range h.Evidence {
			if strings.HasPrefix(e.File, "s3://") && h.Status == "ok" {
				sources[h.Source] = true
			}
		}
	}
	if !sources["elb_log"] || !sources["flow_log"] || tr.Outcome != "ok" {
		t.Errorf("trace of %s: outcome %s, hops from collected evidence %v:\n%s", req.RequestID, tr.Outcome, sources, traceText(tr))
	}
}

// A collection cut short fetches, when run again, only what it had not
// finished; once imported, nothing is fetched again.
func TestCollectS3Resumes(t *testing.T) {
	ctx := context.Background()
	b := bucketIncident(t)
	awsEnv(t, b.srv)
	c := emptyCase(t, "resumed")
	cut, cancel := context.WithCancel(ctx)
	b.srv.OnGetObject = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	o := b.options()
	o.Concurrency = 1
	rep, err := c.Collect(cut, o, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cut short: %v", err)
	}
	first := b.srv.GetObjects()
	whole := rep.Collected.Downloaded
	if whole == 0 || whole >= len(b.want) || len(c.Evidence()) != 0 {
		t.Fatalf("cut short: %d whole of %d, %d imported", whole, len(b.want), len(c.Evidence()))
	}
	b.srv.OnGetObject = nil
	b.srv.Reset()
	rep, err = c.Collect(ctx, b.options(), nil)
	if err != nil {
		t.Fatal(err)
	}
	second := b.srv.GetObjects()
	if len(second) != len(b.want)-whole || len(c.Evidence()) != len(b.want) {
		t.Errorf("resumed: fetched %d (first run %d, %d whole), case holds %d, want %d", len(second), len(first), whole, len(c.Evidence()), len(b.want))
	}
	for _, k := range second {
		for _, f := range first[:whole] {
			if k == f {
				t.Errorf("%s fetched again", k)
			}
		}
	}
	b.srv.Reset()
	rep, err = c.Collect(ctx, b.options(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(b.srv.GetObjects()); n != 0 || rep.Collected.AlreadyInCase != len(b.want) {
		t.Errorf("third run fetched %d, %d already in the case", n, rep.Collected.AlreadyInCase)
	}
}

// Refused credentials, no credentials and a missing bucket say so.
func TestCollectErrors(t *testing.T) {
	ctx := context.Background()
	b := bucketIncident(t)
	awsEnv(t, b.srv)
	c := emptyCase(t, "errors")
	o := b.options()
	o.FlowLogs, o.ELBLogs = []string{"s3://no-such-bucket/AWSLogs/"}, nil
	if _, err := c.Collect(ctx, o, nil); err == nil || !strings.Contains(err.Error(), "no-such-bucket") || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG1")
	if _, err := c.Collect(ctx, b.options(), nil); err == nil || !strings.Contains(err.Error(), "credentials were refused (InvalidAccessKeyId") {
		t.Errorf("bad key: %v", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if _, err := c.Collect(ctx, b.options(), nil); err == nil || !strings.HasPrefix(err.Error(), "no credentials: set AWS_PROFILE or run aws sso login") {
		t.Errorf("no credentials: %v", err)
	}
	if n := len(b.srv.GetObjects()); n != 0 {
		t.Errorf("%d objects fetched", n)
	}
}

// Flow logs delivered to CloudWatch Logs and the EC2 snapshot, through the
// SDK's real serializers and paginators against recorded responses.
func TestCollectCloudWatchAndEC2(t *testing.T) {
	ctx := context.Background()
	srv := fakeaws.New("../testdata/aws")
	defer srv.Close()
	awsEnv(t, srv)
	c := emptyCase(t, "cwl")
	since := time.Date(2021, 4, 5, 6, 30, 0, 0, time.UTC)
	before := time.Now().Add(-time.Second)
	rep, err := c.Collect(ctx, CollectOptions{
		Since: since, Until: since.Add(20 * time.Minute), Region: "ap-northeast-1", EndpointURL: srv.URL,
		FlowLogs: []string{"cwl:///vpc/flowlogs"}, EC2Snapshot: true, VPC: "vpc-0abc1234def567890",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for _, r := range srv.Requests() {
		calls[r.Action]++
		switch r.Action {
		case "DescribeSecurityGroups", "DescribeNetworkInterfaces", "DescribeNetworkAcls", "DescribeSubnets":
			if !strings.Contains(r.Body, "Filter.1.Name=vpc-id") || !strings.Contains(r.Body, "vpc-0abc1234def567890") {
				t.Errorf("%s without the VPC filter: %s", r.Action, r.Body)
			}
		case "DescribeSecurityGroupRules":
			if !strings.Contains(r.Body, "Filter.1.Name=group-id") || !strings.Contains(r.Body, "sg-0a1b2c3d4e5f60002") {
				t.Errorf("rules not of the VPC's groups: %s", r.Body)
			}
		case "FilterLogEvents":
			if !strings.Contains(r.Body, `"logGroupName":"/vpc/flowlogs"`) || !strings.Contains(r.Body, fmt.Sprintf(`"endTime":%d`, since.Add(20*time.Minute).UnixMilli())) {
				t.Errorf("FilterLogEvents %s", r.Body)
			}
		}
	}
	// Two pages each of security groups, ENIs and log events.
	if calls["DescribeSecurityGroups"] != 2 || calls["DescribeNetworkInterfaces"] != 2 || calls["FilterLogEvents"] != 2 ||
		calls["DescribeNetworkAcls"] != 1 || calls["DescribeSubnets"] != 1 || calls["DescribeSecurityGroupRules"] != 1 || calls["DescribeFlowLogs"] < 1 {
		t.Errorf("calls %v", calls)
	}
	if imported, _, failed := rep.Import.Counts(); imported != 8 || failed != 0 {
		t.Errorf("%d imported, %d failed: %+v", imported, failed, rep.Import.Files)
	}
	count := func(q string) string {
		p, err := c.Console(ctx, q, 0, 10)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var rows []string
		for _, r := range p.Rows {
			rows = append(rows, fmt.Sprint(r...))
		}
		return strings.Join(rows, "; ")
	}
	for q, want := range map[string]string{
		"SELECT string_agg(group_id, ' ' ORDER BY group_id) FROM security_groups":                                                                     "sg-0a1b2c3d4e5f60001 sg-0a1b2c3d4e5f60002",
		"SELECT string_agg(network_interface_id || '=' || private_ip || ' ' || coalesce(elb_name, '-'), ' ' ORDER BY network_interface_id) FROM enis": "eni-0bfcc2f9dea346d61=10.0.150.33 - eni-0d29e5dfba9cdb6aa=10.0.14.231 ad80d53241f3f98c9b7d138ecbd0ad9f",
		"SELECT count(*) FROM nacl_entries": "3",
		"SELECT count(*) FROM subnets":      "1",
		"SELECT string_agg(tcp_flags::VARCHAR || action, ' ' ORDER BY evidence_id, line) FROM flow_logs":           "2ACCEPT 2REJECT 2ACCEPT 18REJECT",
		"SELECT count(DISTINCT evidence_id) FROM flow_logs":                                                        "2",
		"SELECT count(*) FROM evidence WHERE kind = 'ec2' AND source_mtime >= TIMESTAMPTZ '2026-01-01'":            "6",
		"SELECT count(*) FROM evidence WHERE kind = 'flowlog' AND name LIKE 'cwl:///vpc/flowlogs/eni-%-all_%.log'": "2",
	} {
		if got := count(q); got != want {
			t.Errorf("%s\n got %s\nwant %s", q, got, want)
		}
	}
	if snap := rep.Collected.Snapshot; snap == nil || snap.Taken.Before(before.Truncate(time.Second)) || snap.Items["describe-security-groups.json"] != 2 {
		t.Errorf("snapshot %+v", snap)
	}
	// A log group that does not exist says so.
	_, err = c.Collect(ctx, CollectOptions{Since: since, Until: since.Add(time.Minute), Region: "ap-northeast-1", EndpointURL: srv.URL, FlowLogs: []string{"cwl://nope"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "nope not found") {
		t.Errorf("missing log group: %v", err)
	}
}
