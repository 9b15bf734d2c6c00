// Package inventory imports snapshots of the environment: `aws ec2
// describe-*` JSON (kind ec2) and `oc get pods|nodes` listings (kind oc).
// They name what every address is, and hold the security group and network
// ACL rules the diagnosis evaluates.
package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"dev.l4case/l4case/ingest"
)

// EC2 reads the JSON that `aws ec2 describe-network-interfaces`,
// `describe-security-groups`, `describe-security-group-rules`,
// `describe-network-acls`, `describe-subnets` and `describe-flow-logs`
// print. Items are decoded one at a time into aws-sdk-go-v2's types (the
// CLI's PascalCase JSON maps onto them) and flattened into tables.
type EC2 struct{}

// Kind is "ec2".
func (EC2) Kind() string { return "ec2" }

// documents maps the top-level key of each output to what it fills.
var documents = map[string]string{
	"NetworkInterfaces":  "enis",
	"SecurityGroups":     "security_groups, sg_rules",
	"SecurityGroupRules": "sg_rules",
	"NetworkAcls":        "network_acls, nacl_entries",
	"Subnets":            "subnets",
	"FlowLogs":           "flow_log_configs",
}

// Detect accepts JSON whose first key is one of the describe-* outputs.
func (EC2) Detect(name string, head []byte) error {
	dec := json.NewDecoder(bytes.NewReader(head))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	key, err := dec.Token()
	if err != nil {
		return errors.New("JSON object without keys")
	}
	k, _ := key.(string)
	if _, ok := documents[k]; !ok {
		return fmt.Errorf("JSON with %q: not a describe-* output l4case imports (%s)", k, strings.Join(documentKeys(), ", "))
	}
	return nil
}

func documentKeys() []string {
	return []string{"NetworkInterfaces", "SecurityGroups", "SecurityGroupRules", "NetworkAcls", "Subnets", "FlowLogs"}
}

// Import decodes the items of each known array in the document.
func (EC2) Import(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	rc, err := src.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	x := &ec2Writer{w: w, id: int64(src.ID)}
	// A syntax error ends the file: items before it are kept, the rest
	// cannot be found again. The error is placed at the start of the value
	// being read (encoding/json's own offsets depend on its buffering).
	syntaxAt := func(off int64, what string, err error) (string, error) {
		w.Reject(off, "byte", "", fmt.Sprintf("JSON %s: %v", what, err))
		return x.format(), nil
	}
	syntax := func(err error) (string, error) { return syntaxAt(dec.InputOffset(), "", err) }
	tok, err := dec.Token()
	if err != nil {
		return syntax(err)
	}
	if tok != json.Delim('{') {
		return "", fmt.Errorf("%s: not a JSON object", src.Name)
	}
	for dec.More() {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		t, err := dec.Token()
		if err != nil {
			return syntax(err)
		}
		key, _ := t.(string)
		if _, ok := documents[key]; !ok {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return syntax(err)
			}
			continue
		}
		if t, err := dec.Token(); err != nil {
			return syntax(err)
		} else if t != json.Delim('[') {
			return syntax(fmt.Errorf("%s is not an array", key))
		}
		for n := 1; dec.More(); n++ {
			start := dec.InputOffset()
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return syntaxAt(start, fmt.Sprintf("in %s item %d starting here", key, n), err)
			}
			if err := x.item(key, raw); err != nil {
				w.Reject(start, "byte", string(raw), fmt.Sprintf("%s item %d: %v", key, n, err))
			}
		}
		if _, err := dec.Token(); err != nil {
			return syntax(err)
		}
	}
	return x.format(), nil
}

type ec2Writer struct {
	w      *ingest.Writer
	id     int64
	tables map[string]*ingest.Table
	counts map[string]int
	order  []string
}

func (x *ec2Writer) format() string {
	var parts []string
	for _, k := range x.order {
		parts = append(parts, fmt.Sprintf("%d %s", x.counts[k], k))
	}
	if len(parts) == 0 {
		return "EC2 describe-* JSON (empty)"
	}
	return "EC2 describe-* JSON: " + strings.Join(parts, ", ")
}

// table opens a table once; the first one opened holds the file's records.
func (x *ec2Writer) table(name string, cols ...string) *ingest.Table {
	if x.tables == nil {
		x.tables = map[string]*ingest.Table{}
	}
	if t, ok := x.tables[name]; ok {
		return t
	}
	var t *ingest.Table
	var err error
	if len(x.tables) == 0 {
		t, err = x.w.Records(name, cols...)
	} else {
		t, err = x.w.Table(name, cols...)
	}
	if err != nil {
		panic(err) // a schema mismatch is a bug, caught by the tests
	}
	x.tables[name] = t
	return t
}

func (x *ec2Writer) count(key string) {
	if x.counts == nil {
		x.counts = map[string]int{}
	}
	if x.counts[key] == 0 {
		x.order = append(x.order, key)
	}
	x.counts[key]++
}

func (x *ec2Writer) item(key string, raw json.RawMessage) error {
	switch key {
	case "NetworkInterfaces":
		var v ec2types.NetworkInterface
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if v.NetworkInterfaceId == nil {
			return errors.New("no NetworkInterfaceId")
		}
		x.eni(&v)
	case "SecurityGroups":
		var v ec2types.SecurityGroup
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if v.GroupId == nil {
			return errors.New("no GroupId")
		}
		x.securityGroup(&v)
	case "SecurityGroupRules":
		var v ec2types.SecurityGroupRule
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if v.GroupId == nil {
			return errors.New("no GroupId")
		}
		x.sgRule(&v)
	case "NetworkAcls":
		var v ec2types.NetworkAcl
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if v.NetworkAclId == nil {
			return errors.New("no NetworkAclId")
		}
		x.networkACL(&v)
	case "Subnets":
		var v ec2types.Subnet
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if v.SubnetId == nil {
			return errors.New("no SubnetId")
		}
		x.subnet(&v)
	case "FlowLogs":
		var v ec2types.FlowLog
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		if v.FlowLogId == nil {
			return errors.New("no FlowLogId")
		}
		x.flowLog(&v)
	}
	x.count(key)
	return nil
}

// str writes a *string column, NULL when nil or empty.
func str(t *ingest.Table, c int, s *string) {
	if s != nil && *s != "" {
		t.Str(c, *s)
	}
}

func i32(t *ingest.Table, c int, v *int32) {
	if v != nil {
		t.Int(c, int64(*v))
	}
}

func (x *ec2Writer) eni(v *ec2types.NetworkInterface) {
	t := x.table("enis", "evidence_id", "network_interface_id", "description", "interface_type", "status", "vpc_id",
		"subnet_id", "availability_zone", "private_ip", "private_ips", "public_ip", "mac_address", "owner_id",
		"requester_id", "requester_managed", "instance_id", "security_group_ids", "elb_name")
	t.Int(0, x.id)
	str(t, 1, v.NetworkInterfaceId)
	str(t, 2, v.Description)
	if v.InterfaceType != "" {
		t.Str(3, string(v.InterfaceType))
	}
	if v.Status != "" {
		t.Str(4, string(v.Status))
	}
	str(t, 5, v.VpcId)
	str(t, 6, v.SubnetId)
	str(t, 7, v.AvailabilityZone)
	str(t, 8, v.PrivateIpAddress)
	ips := []string{}
	for _, p := range v.PrivateIpAddresses {
		if p.PrivateIpAddress != nil {
			ips = append(ips, *p.PrivateIpAddress)
		}
	}
	if len(ips) == 0 && v.PrivateIpAddress != nil {
		ips = append(ips, *v.PrivateIpAddress)
	}
	for _, p := range v.Ipv6Addresses {
		if p.Ipv6Address != nil {
			ips = append(ips, *p.Ipv6Address)
		}
	}
	t.List(9, ips)
	if v.Association != nil {
		str(t, 10, v.Association.PublicIp)
	}
	str(t, 11, v.MacAddress)
	str(t, 12, v.OwnerId)
	str(t, 13, v.RequesterId)
	if v.RequesterManaged != nil {
		t.Bool(14, *v.RequesterManaged)
	}
	if v.Attachment != nil {
		str(t, 15, v.Attachment.InstanceId)
	}
	groups := []string{}
	for _, g := range v.Groups {
		if g.GroupId != nil {
			groups = append(groups, *g.GroupId)
		}
	}
	t.List(16, groups)
	if v.Description != nil && strings.HasPrefix(*v.Description, "ELB ") {
		t.Str(17, strings.TrimPrefix(*v.Description, "ELB "))
	}
	t.Row()
}

func (x *ec2Writer) securityGroup(v *ec2types.SecurityGroup) {
	t := x.table("security_groups", "evidence_id", "group_id", "group_name", "description", "vpc_id", "owner_id")
	t.Int(0, x.id)
	str(t, 1, v.GroupId)
	str(t, 2, v.GroupName)
	str(t, 3, v.Description)
	str(t, 4, v.VpcId)
	str(t, 5, v.OwnerId)
	t.Row()
	for _, p := range v.IpPermissions {
		x.permission(*v.GroupId, "ingress", p)
	}
	for _, p := range v.IpPermissionsEgress {
		x.permission(*v.GroupId, "egress", p)
	}
}

var ruleCols = []string{"evidence_id", "group_id", "rule_id", "direction", "ip_protocol", "protocol", "from_port", "to_port",
	"cidr", "prefix_list_id", "referenced_group_id", "description"}

// permission flattens one IpPermission: a row per source it allows.
func (x *ec2Writer) permission(group, dir string, p ec2types.IpPermission) {
	type source struct{ cidr, prefix, group, desc *string }
	var srcs []source
	for _, r := range p.IpRanges {
		srcs = append(srcs, source{cidr: r.CidrIp, desc: r.Description})
	}
	for _, r := range p.Ipv6Ranges {
		srcs = append(srcs, source{cidr: r.CidrIpv6, desc: r.Description})
	}
	for _, r := range p.PrefixListIds {
		srcs = append(srcs, source{prefix: r.PrefixListId, desc: r.Description})
	}
	for _, r := range p.UserIdGroupPairs {
		srcs = append(srcs, source{group: r.GroupId, desc: r.Description})
	}
	if len(srcs) == 0 {
		srcs = append(srcs, source{})
	}
	t := x.table("sg_rules", ruleCols...)
	for _, s := range srcs {
		t.Int(0, x.id)
		t.Str(1, group)
		t.Str(3, dir)
		protocol(t, 4, p.IpProtocol)
		i32(t, 6, p.FromPort)
		i32(t, 7, p.ToPort)
		str(t, 8, s.cidr)
		str(t, 9, s.prefix)
		str(t, 10, s.group)
		str(t, 11, s.desc)
		t.Row()
	}
}

func (x *ec2Writer) sgRule(v *ec2types.SecurityGroupRule) {
	t := x.table("sg_rules", ruleCols...)
	t.Int(0, x.id)
	str(t, 1, v.GroupId)
	str(t, 2, v.SecurityGroupRuleId)
	dir := "ingress"
	if v.IsEgress != nil && *v.IsEgress {
		dir = "egress"
	}
	t.Str(3, dir)
	protocol(t, 4, v.IpProtocol)
	i32(t, 6, v.FromPort)
	i32(t, 7, v.ToPort)
	if v.CidrIpv4 != nil {
		str(t, 8, v.CidrIpv4)
	} else {
		str(t, 8, v.CidrIpv6)
	}
	str(t, 9, v.PrefixListId)
	if v.ReferencedGroupInfo != nil {
		str(t, 10, v.ReferencedGroupInfo.GroupId)
	}
	str(t, 11, v.Description)
	t.Row()
}

// protocol writes AWS's protocol text and its IANA number (NULL for all).
func protocol(t *ingest.Table, c int, p *string) {
	if p == nil {
		return
	}
	t.Str(c, *p)
	if n, ok := protoNum(*p); ok {
		t.Int(c+1, n)
	}
}

func protoNum(p string) (int64, bool) {
	switch strings.ToLower(p) {
	case "-1", "all", "":
		return 0, false
	case "tcp":
		return 6, true
	case "udp":
		return 17, true
	case "icmp":
		return 1, true
	case "icmpv6":
		return 58, true
	}
	n, err := strconv.ParseInt(p, 10, 32)
	return n, err == nil
}

func (x *ec2Writer) networkACL(v *ec2types.NetworkAcl) {
	t := x.table("network_acls", "evidence_id", "network_acl_id", "vpc_id", "is_default", "owner_id", "subnet_ids")
	t.Int(0, x.id)
	str(t, 1, v.NetworkAclId)
	str(t, 2, v.VpcId)
	if v.IsDefault != nil {
		t.Bool(3, *v.IsDefault)
	}
	str(t, 4, v.OwnerId)
	subnets := []string{}
	for _, a := range v.Associations {
		if a.SubnetId != nil {
			subnets = append(subnets, *a.SubnetId)
		}
	}
	t.List(5, subnets)
	t.Row()
	e := x.table("nacl_entries", "evidence_id", "network_acl_id", "rule_number", "egress", "protocol", "protocol_num",
		"rule_action", "cidr", "port_from", "port_to", "icmp_type", "icmp_code")
	for _, en := range v.Entries {
		e.Int(0, x.id)
		str(e, 1, v.NetworkAclId)
		i32(e, 2, en.RuleNumber)
		if en.Egress != nil {
			e.Bool(3, *en.Egress)
		}
		protocol(e, 4, en.Protocol)
		if en.RuleAction != "" {
			e.Str(6, string(en.RuleAction))
		}
		if en.CidrBlock != nil {
			str(e, 7, en.CidrBlock)
		} else {
			str(e, 7, en.Ipv6CidrBlock)
		}
		if en.PortRange != nil {
			i32(e, 8, en.PortRange.From)
			i32(e, 9, en.PortRange.To)
		}
		if en.IcmpTypeCode != nil {
			i32(e, 10, en.IcmpTypeCode.Type)
			i32(e, 11, en.IcmpTypeCode.Code)
		}
		e.Row()
	}
}

func (x *ec2Writer) subnet(v *ec2types.Subnet) {
	t := x.table("subnets", "evidence_id", "subnet_id", "vpc_id", "cidr", "ipv6_cidrs", "availability_zone", "name")
	t.Int(0, x.id)
	str(t, 1, v.SubnetId)
	str(t, 2, v.VpcId)
	str(t, 3, v.CidrBlock)
	v6 := []string{}
	for _, a := range v.Ipv6CidrBlockAssociationSet {
		if a.Ipv6CidrBlock != nil {
			v6 = append(v6, *a.Ipv6CidrBlock)
		}
	}
	t.List(4, v6)
	str(t, 5, v.AvailabilityZone)
	for _, tag := range v.Tags {
		if tag.Key != nil && *tag.Key == "Name" {
			str(t, 6, tag.Value)
		}
	}
	t.Row()
}

func (x *ec2Writer) flowLog(v *ec2types.FlowLog) {
	t := x.table("flow_log_configs", "evidence_id", "flow_log_id", "resource_id", "traffic_type", "log_format", "destination", "creation_time")
	t.Int(0, x.id)
	str(t, 1, v.FlowLogId)
	str(t, 2, v.ResourceId)
	if v.TrafficType != "" {
		t.Str(3, string(v.TrafficType))
	}
	str(t, 4, v.LogFormat)
	if v.LogDestination != nil {
		str(t, 5, v.LogDestination)
	} else {
		str(t, 5, v.LogGroupName)
	}
	if v.CreationTime != nil {
		t.Time(6, *v.CreationTime)
	}
	t.Row()
}
