package inventory

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"dev.l4case/l4case/ingest"
	"dev.l4case/l4case/ingest/ingesttest"
)

const aws = "../../testdata/aws-cli/"
const oc = "../../testdata/oc/"

func TestNetworkInterfaces(t *testing.T) {
	r := ingesttest.Import(t, EC2{}, aws+"ec2_describe-network-interfaces.example1.json", ingest.Options{})
	if r.Err != nil || r.Records != 2 || r.Rejected != 0 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT network_interface_id, description, status, vpc_id, subnet_id, availability_zone, private_ip,
		private_ips, public_ip, mac_address, instance_id, security_group_ids, requester_managed, elb_name FROM enis ORDER BY network_interface_id`)
	want := [][]string{
		{"eni-e5aa89a3", "my network interface", "in-use", "vpc-a01106c2", "subnet-b61f49f0", "us-east-1d", "10.0.1.17",
			"[10.0.1.17]", "203.0.113.12", "02:2f:8f:b0:cf:75", "i-1234567890abcdef0", "[sg-8637d3e3]", "false", "NULL"},
		{"eni-f9ba99bf", "Primary network interface", "in-use", "vpc-a01106c2", "subnet-b61f49f0", "us-east-1d", "10.0.1.149",
			"[10.0.1.149]", "198.51.100.0", "02:58:f5:ef:4b:06", "i-0598c7d356eba48d7", "[sg-8637d3e3]", "false", "NULL"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestSecurityGroupsAndRules(t *testing.T) {
	r := ingesttest.Import(t, EC2{}, aws+"ec2_describe-security-groups.output1.fixed.json", ingest.Options{})
	if r.Err != nil || r.Records != 1 || r.Rejected != 0 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT group_id, direction, ip_protocol, protocol, from_port, to_port, cidr, referenced_group_id, description
		FROM sg_rules ORDER BY direction, ip_protocol`)
	want := [][]string{
		{"sg-903004f8", "egress", "-1", "NULL", "NULL", "NULL", "0.0.0.0/0", "NULL", "NULL"},
		{"sg-903004f8", "ingress", "-1", "NULL", "NULL", "NULL", "NULL", "sg-903004f8", "NULL"},
		{"sg-903004f8", "ingress", "tcp", "6", "22", "22", "203.0.113.0/24", "NULL", "Access from NY office"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	// The documented output as printed (trailing comma): a JSON error with its offset, nothing invented.
	r = ingesttest.Import(t, EC2{}, aws+"ec2_describe-security-groups.output1.INVALID-JSON.txt", ingest.Options{})
	if r.Err != nil || r.Records != 0 || r.Rejected != 1 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	e := ingesttest.Rows(t, r.DB, `SELECT unit, line_or_offset, reason FROM ingest_errors`)
	if want := []string{"byte", "34", "JSON in SecurityGroups item 1 starting here: invalid character '}' looking for beginning of object key string"}; !reflect.DeepEqual(e[0], want) {
		t.Errorf("error %q", e[0])
	}

	r = ingesttest.Import(t, EC2{}, aws+"ec2_describe-security-group-rules.example1.json", ingest.Options{})
	if r.Err != nil || r.Records != 3 {
		t.Fatalf("%v: %d records", r.Err, r.Records)
	}
	got = ingesttest.Rows(t, r.DB, `SELECT rule_id, group_id, direction, ip_protocol, from_port, to_port, cidr, referenced_group_id FROM sg_rules ORDER BY rule_id`)
	want = [][]string{
		{"sgr-abcdef01234567890", "sg-1234567890abcdef0", "ingress", "-1", "-1", "-1", "NULL", "sg-1234567890abcdef0"},
		{"sgr-bcdef01234567890a", "sg-1234567890abcdef0", "egress", "-1", "-1", "-1", "::/0", "NULL"},
		{"sgr-cdef01234567890ab", "sg-1234567890abcdef0", "egress", "-1", "-1", "-1", "0.0.0.0/0", "NULL"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestNetworkACLsSubnetsFlowLogs(t *testing.T) {
	r := ingesttest.Import(t, EC2{}, aws+"ec2_describe-network-acls.example1.json", ingest.Options{})
	if r.Err != nil || r.Records != 2 {
		t.Fatalf("%v: %d records", r.Err, r.Records)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT network_acl_id, is_default, subnet_ids FROM network_acls ORDER BY 1`)
	want := [][]string{{"acl-0e2a78e4e2EXAMPLE", "true", "[]"}, {"acl-0ea1f54ca7EXAMPLE", "true", "[subnet-0931fc2fa5EXAMPLE]"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("acls %q", got)
	}
	got = ingesttest.Rows(t, r.DB, `SELECT rule_number, egress, protocol, protocol_num, rule_action, cidr FROM nacl_entries
		WHERE network_acl_id = 'acl-0ea1f54ca7EXAMPLE' ORDER BY egress, rule_number`)
	want = [][]string{{"100", "false", "-1", "NULL", "allow", "0.0.0.0/0"}, {"32767", "false", "-1", "NULL", "deny", "0.0.0.0/0"},
		{"100", "true", "-1", "NULL", "allow", "0.0.0.0/0"}, {"32767", "true", "-1", "NULL", "deny", "0.0.0.0/0"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries %q", got)
	}
	r = ingesttest.Import(t, EC2{}, aws+"ec2_describe-subnets.example1.json", ingest.Options{})
	if r.Err != nil || r.Records != 1 {
		t.Fatalf("%v: %d records", r.Err, r.Records)
	}
	got = ingesttest.Rows(t, r.DB, `SELECT subnet_id, vpc_id, cidr, availability_zone FROM subnets`)
	if want := [][]string{{"subnet-8EXAMPLE", "vpc-3EXAMPLE", "172.31.80.0/20", "us-east-1d"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("subnets %q", got)
	}
	r = ingesttest.Import(t, EC2{}, aws+"ec2_describe-flow-logs.example1.json", ingest.Options{})
	if r.Err != nil || r.Records != 2 {
		t.Fatalf("%v: %d records", r.Err, r.Records)
	}
	got = ingesttest.Rows(t, r.DB, `SELECT flow_log_id, resource_id, traffic_type, destination, creation_time, log_format LIKE '${version} ${vpc-id}%' FROM flow_log_configs ORDER BY 1`)
	want = [][]string{
		{"fl-01234567890123456", "vpc-00112233445566778", "ACCEPT", "arn:aws:s3:::my-flow-log-bucket/custom", "2020-02-04T15:22:29.986Z", "true"},
		{"fl-aabbccdd112233445", "subnet-12345678901234567", "ALL", "FlowLogGroup", "2018-02-21T13:22:12.644Z", "false"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flow logs %q", got)
	}
}

func TestDetectEC2(t *testing.T) {
	b, _ := os.ReadFile(aws + "ec2_describe-vpcs.example1.json")
	err := (EC2{}).Detect("vpcs.json", b)
	if err == nil || !strings.HasPrefix(err.Error(), `JSON with "Vpcs": not a describe-* output l4case imports`) {
		t.Errorf("vpcs: %v", err)
	}
	b, _ = os.ReadFile(aws + "ec2_describe-network-acls.example1.json")
	if err := (EC2{}).Detect("acls.json", b); err != nil {
		t.Error(err)
	}
}

func TestPodListings(t *testing.T) {
	r := ingesttest.Import(t, OC{}, oc+"seed-001-get-pods-owide.txt", ingest.Options{})
	if r.Err != nil || r.Records != 2 || r.Rejected != 0 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT namespace, name, ready, status, restarts, age, ip, node, nominated_node, readiness_gates FROM pods ORDER BY name`)
	want := [][]string{
		{"NULL", "test-1", "1/1", "Running", "1 (20h ago)", "20h", "10.2.0.229", "ocp413-worker2", "NULL", "NULL"},
		{"NULL", "web", "1/1", "Running", "0", "12m", "10.2.0.195", "ocp413-worker1", "NULL", "NULL"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	r = ingesttest.Import(t, OC{}, oc+"seed-000-get-pod-o-wide.txt", ingest.Options{})
	if r.Err != nil || r.Records != 2 {
		t.Fatalf("%v: %d records", r.Err, r.Records)
	}
	got = ingesttest.Rows(t, r.DB, `SELECT name, restarts, ip, node FROM pods ORDER BY name`)
	want = [][]string{{"router-default-56589566bc-nb52j", "0", "10.128.2.7", "ip-10-0-134-187.ap-northeast-1.compute.internal"},
		{"router-default-56589566bc-tghb9", "1", "10.129.2.10", "ip-10-0-198-72.ap-northeast-1.compute.internal"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}

func TestMisalignedRowsAndJSON(t *testing.T) {
	f := ingesttest.File(t, "nodes.txt", "NAME    STATUS   ROLES    AGE   VERSION   INTERNAL-IP   EXTERNAL-IP   OS-IMAGE   KERNEL-VERSION   CONTAINER-RUNTIME\n"+
		"w1  Ready  worker  4d  v1.20  10.0.0.5  <none>  RHCOS 47 (Ootpa)  4.18.0  cri-o://1.20\n"+
		"broken row\n")
	r := ingesttest.Import(t, OC{}, f, ingest.Options{})
	if r.Err != nil || r.Records != 1 || r.Rejected != 1 {
		t.Fatalf("%v: %d records %d rejected", r.Err, r.Records, r.Rejected)
	}
	got := ingesttest.Rows(t, r.DB, `SELECT name, roles, internal_ip, external_ip, os_image FROM nodes`)
	if want := [][]string{{"w1", "worker", "10.0.0.5", "NULL", "RHCOS 47 (Ootpa)"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	j := ingesttest.File(t, "pods.json", `{"apiVersion": "v1", "items": [{"apiVersion": "v1", "kind": "Pod",
		"metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}}, "spec": {"nodeName": "w1"},
		"status": {"phase": "Running", "podIP": "10.128.2.15", "containerStatuses": [{"ready": true, "restartCount": 2}]}}], "kind": "List"}`)
	if err := ingesttest.Detect(t, OC{}, j); err != nil {
		t.Fatal(err)
	}
	r = ingesttest.Import(t, OC{}, j, ingest.Options{})
	if r.Err != nil || r.Records != 1 {
		t.Fatalf("%v: %d records", r.Err, r.Records)
	}
	got = ingesttest.Rows(t, r.DB, `SELECT namespace, name, ready, status, restarts, ip, node, labels['app'] FROM pods`)
	if want := [][]string{{"shop", "web", "1/1", "Running", "2", "10.128.2.15", "w1", "web"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}

func FuzzCut(f *testing.F) {
	f.Add("NAME     READY   STATUS    RESTARTS      AGE   IP           NODE             NOMINATED NODE   READINESS GATES", "test-1   1/1     Running   1 (20h ago)   20h   10.2.0.229   ocp413-worker2   <none>           <none>")
	f.Fuzz(func(t *testing.T, head, row string) {
		_, offs, err := header(head)
		if err != nil {
			return
		}
		vals, err := cut(row, offs)
		if err == nil && len(vals) != len(offs) {
			t.Fatalf("%d values for %d columns", len(vals), len(offs))
		}
	})
}
