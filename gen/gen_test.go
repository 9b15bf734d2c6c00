package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// small is a scenario that still rotates captures and shows every fault,
// small enough for tshark to read in a few seconds.
func small(out string) Options {
	o := Defaults()
	o.Out = out
	o.Requests = 500
	o.Duration = 12 * time.Minute
	return o
}

var cached struct {
	dir   string
	truth *Truth
}

// bundle generates the small scenario once per test binary.
func bundle(t *testing.T) (string, *Truth) {
	t.Helper()
	if cached.truth == nil {
		dir, err := os.MkdirTemp("", "l4case-gen-test-*")
		if err != nil {
			t.Fatal(err)
		}
		tr, err := Generate(context.Background(), small(dir))
		if err != nil {
			t.Fatal(err)
		}
		cached.dir, cached.truth = dir, tr
	}
	return cached.dir, cached.truth
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cached.dir != "" {
		os.RemoveAll(cached.dir)
	}
	os.Exit(code)
}

func TestSameSeedSameBytes(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if _, err := Generate(context.Background(), small(a)); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), small(b)); err != nil {
		t.Fatal(err)
	}
	files := 0
	filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, _ := os.ReadFile(p)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with the same seed", rel)
		}
		files++
		return nil
	})
	if files < 20 {
		t.Errorf("only %d files written", files)
	}
	// Another seed gives another incident.
	c := t.TempDir()
	o := small(c)
	o.Seed = 2
	Generate(context.Background(), o)
	x, _ := os.ReadFile(filepath.Join(a, "truth.json"))
	y, _ := os.ReadFile(filepath.Join(c, "truth.json"))
	if bytes.Equal(x, y) {
		t.Error("seed 2 wrote the same truth as seed 1")
	}
}

func TestTruthIsConsistent(t *testing.T) {
	dir, tr := bundle(t)
	if tr.RequestCount != 500 || len(tr.Requests) != 500 {
		t.Errorf("requests %d/%d", tr.RequestCount, len(tr.Requests))
	}
	kinds := map[string]int{}
	for _, f := range tr.Faults {
		kinds[f.Kind] += f.Count
	}
	for _, k := range []string{"scanner", "sg_block", "nacl_return", "not_listening", "networkpolicy_drop"} {
		if kinds[k] == 0 {
			t.Errorf("no %s fault in the default scenario", k)
		}
	}
	if len(tr.Captures) != 4 {
		t.Errorf("%d capture files, want 4 (2 nodes x 2 rotations)", len(tr.Captures))
	}
	links := map[string]bool{}
	for _, c := range tr.Captures {
		links[c.LinkType] = true
		if !strings.HasPrefix(c.File, "pcap/ip-10-0-") || !strings.Contains(c.File, "/tcpdump_20210405_06") {
			t.Errorf("capture path %s", c.File)
		}
	}
	if !links["LINUX_SLL"] || !links["LINUX_SLL2"] {
		t.Errorf("link types %v, want both SLL and SLL2", links)
	}
	// Every request has a full path.
	for _, r := range tr.Requests {
		if r.Client == "" || r.ELBSource == "" || r.NodePort == "" || r.Router == "" || r.Backend == "" || r.RequestID == "" {
			t.Fatalf("incomplete request %+v", r)
		}
	}
	rt, err := ReadTruth(filepath.Join(dir, "truth.json"))
	if err != nil || rt.RequestCount != tr.RequestCount {
		t.Fatalf("ReadTruth: %v", err)
	}
}

// TestSnapshotsDecodeIntoSDKTypes decodes the describe-* files the way
// l4case and the aws CLI's users do, into aws-sdk-go-v2's output types, and
// checks them against the truth.
func TestSnapshotsDecodeIntoSDKTypes(t *testing.T) {
	dir, tr := bundle(t)
	read := func(name string, v any) {
		b, err := os.ReadFile(filepath.Join(dir, "aws", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var enis ec2.DescribeNetworkInterfacesOutput
	read("describe-network-interfaces.json", &enis)
	if len(enis.NetworkInterfaces) != len(tr.Topology.ENIs) {
		t.Errorf("%d ENIs, truth has %d", len(enis.NetworkInterfaces), len(tr.Topology.ENIs))
	}
	elb := 0
	for _, ni := range enis.NetworkInterfaces {
		if tr.Topology.ENIs[*ni.NetworkInterfaceId] != *ni.PrivateIpAddress {
			t.Errorf("ENI %s has %s, truth says %s", *ni.NetworkInterfaceId, *ni.PrivateIpAddress, tr.Topology.ENIs[*ni.NetworkInterfaceId])
		}
		if ni.Description != nil && *ni.Description == "ELB "+tr.Topology.ELB {
			elb++
		}
	}
	if elb != 2 {
		t.Errorf("%d ENIs described as ELB %s, want 2", elb, tr.Topology.ELB)
	}
	var sgs ec2.DescribeSecurityGroupsOutput
	read("describe-security-groups.json", &sgs)
	for _, g := range sgs.SecurityGroups {
		if tr.Topology.SecurityGroups[*g.GroupId] == "" {
			t.Errorf("security group %s not in truth", *g.GroupId)
		}
		if tr.Topology.SecurityGroups[*g.GroupId] == "worker" {
			for _, p := range g.IpPermissions {
				if p.FromPort != nil && *p.FromPort <= 30443 && *p.ToPort >= 30443 && len(p.IpRanges) > 0 {
					t.Errorf("worker SG allows 30443 from a CIDR: the sg_block fault would not happen")
				}
			}
		}
	}
	var acls ec2.DescribeNetworkAclsOutput
	read("describe-network-acls.json", &acls)
	deny90 := false
	for _, a := range acls.NetworkAcls {
		for _, e := range a.Entries {
			if *e.RuleNumber == 90 && *e.Egress && string(e.RuleAction) == "deny" && *e.CidrBlock == "198.51.100.0/24" {
				deny90 = true
			}
		}
	}
	if !deny90 {
		t.Error("no outbound deny rule 90 for the nacl_return fault")
	}
	var fls ec2.DescribeFlowLogsOutput
	read("describe-flow-logs.json", &fls)
	if len(fls.FlowLogs) != 2 || !strings.Contains(*fls.FlowLogs[1].LogFormat, "${tcp-flags}") {
		t.Errorf("flow logs %+v", fls.FlowLogs)
	}
	var subs ec2.DescribeSubnetsOutput
	read("describe-subnets.json", &subs)
	if len(subs.Subnets) != 4 {
		t.Errorf("%d subnets", len(subs.Subnets))
	}
}

// TestTsharkReadsEveryCapture checks every generated pcap with tshark: no
// malformed packet, and tshark's counts equal the truth's.
func TestTsharkReadsEveryCapture(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tshark is required in CI (./run test installs it)")
		}
		t.Skip("tshark not installed")
	}
	dir, tr := bundle(t)
	for _, c := range tr.Captures {
		t.Run(filepath.Base(filepath.Dir(c.File))+"/"+filepath.Base(c.File), func(t *testing.T) {
			f := filepath.Join(dir, c.File)
			tshark := func(args ...string) string {
				out, err := exec.Command("tshark", append([]string{"-n", "-r", f}, args...)...).Output()
				if err != nil {
					t.Fatalf("tshark %v: %v", args, err)
				}
				return string(out)
			}
			if n := lines(tshark("-Y", "_ws.malformed || _ws.expert.severity >= warning")); n != 0 {
				t.Errorf("%d malformed or warned packets", n)
			}
			if n := lines(tshark("-T", "fields", "-e", "frame.number")); n != int(c.Packets) {
				t.Errorf("tshark reads %d packets, truth wrote %d", n, c.Packets)
			}
			convs := strings.Count(tshark("-q", "-z", "conv,tcp"), "<->")
			if convs != c.TCPConversations {
				t.Errorf("tshark sees %d TCP conversations, truth %d", convs, c.TCPConversations)
			}
			reqs := lines(tshark("-Y", `http.request and http contains "request-id:"`))
			if reqs != c.HTTPRequestsWithID {
				t.Errorf("tshark sees %d HTTP requests with request-id, truth %d", reqs, c.HTTPRequestsWithID)
			}
			// PROXY v1 lines, on the NodePort and on the DNAT'd copy alike.
			var srcs []string
			for _, hexPayload := range strings.Fields(tshark("-Y", `tcp.payload[0:6] == "PROXY "`, "-T", "fields", "-e", "tcp.payload")) {
				var b []byte
				fmt.Sscanf(hexPayload, "%x", &b)
				f := strings.Fields(string(b))
				if len(f) >= 6 {
					srcs = append(srcs, f[2]+":"+f[4])
				}
			}
			want := append([]string(nil), c.ProxyV1Sources...)
			sort.Strings(srcs)
			sort.Strings(want)
			if strings.Join(srcs, ",") != strings.Join(want, ",") {
				t.Errorf("PROXY v1 sources: tshark %d, truth %d", len(srcs), len(want))
			}
		})
	}
}

func lines(s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}
