// Package flowlog imports AWS VPC flow logs into table flow_logs.
//
// A flow log record is a line of space-separated fields whose meaning comes
// from the flow log's format, never from the number of fields. The format is
// taken, in this order, from: the header line S3 delivery writes first; the
// --flow-log-format option; the LogFormat of a describe-flow-logs snapshot
// whose FlowLogId appears in the file's path; and, for files with no header
// and no known format, the default version-2 format, but only when the
// records fit it exactly.
//
// Inputs: S3 text objects (plain or gzip), CloudWatch Logs exports (lines
// with a leading timestamp, or `aws logs filter-log-events`/`get-log-events`
// JSON) and S3 Parquet delivery (read by DuckDB itself).
package flowlog

import (
	"fmt"
	"regexp"
	"strings"
)

type fieldType uint8

const (
	tStr  fieldType = iota
	tInt            // INTEGER
	tBig            // BIGINT
	tTime           // epoch seconds -> TIMESTAMPTZ
)

// field is a flow log field l4case knows: its AWS name, its column in
// flow_logs and how to read it.
type field struct {
	name   string // AWS name, with hyphens: pkt-srcaddr
	column string // flow_logs column: pkt_srcaddr
	typ    fieldType
}

// fields lists every field AWS documents, versions 2 to 10, in the order of
// the flow_logs columns.
var fields = []field{
	{"version", "version", tInt},
	{"account-id", "account_id", tStr},
	{"interface-id", "interface_id", tStr},
	{"srcaddr", "srcaddr", tStr},
	{"dstaddr", "dstaddr", tStr},
	{"srcport", "srcport", tInt},
	{"dstport", "dstport", tInt},
	{"protocol", "protocol", tInt},
	{"packets", "packets", tBig},
	{"bytes", "bytes", tBig},
	{"start", "start_time", tTime},
	{"end", "end_time", tTime},
	{"action", "action", tStr},
	{"log-status", "log_status", tStr},
	{"vpc-id", "vpc_id", tStr},
	{"subnet-id", "subnet_id", tStr},
	{"instance-id", "instance_id", tStr},
	{"tcp-flags", "tcp_flags", tInt},
	{"type", "type", tStr},
	{"pkt-srcaddr", "pkt_srcaddr", tStr},
	{"pkt-dstaddr", "pkt_dstaddr", tStr},
	{"region", "region", tStr},
	{"az-id", "az_id", tStr},
	{"sublocation-type", "sublocation_type", tStr},
	{"sublocation-id", "sublocation_id", tStr},
	{"pkt-src-aws-service", "pkt_src_aws_service", tStr},
	{"pkt-dst-aws-service", "pkt_dst_aws_service", tStr},
	{"flow-direction", "flow_direction", tStr},
	{"traffic-path", "traffic_path", tInt},
	{"ecs-cluster-arn", "ecs_cluster_arn", tStr},
	{"ecs-cluster-name", "ecs_cluster_name", tStr},
	{"ecs-container-instance-arn", "ecs_container_instance_arn", tStr},
	{"ecs-container-instance-id", "ecs_container_instance_id", tStr},
	{"ecs-container-id", "ecs_container_id", tStr},
	{"ecs-second-container-id", "ecs_second_container_id", tStr},
	{"ecs-service-name", "ecs_service_name", tStr},
	{"ecs-task-definition-arn", "ecs_task_definition_arn", tStr},
	{"ecs-task-arn", "ecs_task_arn", tStr},
	{"ecs-task-id", "ecs_task_id", tStr},
	{"reject-reason", "reject_reason", tStr},
	{"resource-id", "resource_id", tStr},
	{"encryption-status", "encryption_status", tInt},
}

var byName = func() map[string]int {
	m := make(map[string]int, len(fields))
	for i, f := range fields {
		m[f.name] = i
	}
	return m
}()

// DefaultFormat is the version-2 format AWS uses when none is given.
const DefaultFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

// Format is the ordered list of fields of a record. A field l4case does not
// know has known < 0 and is kept in flow_logs.extra under its AWS name.
type Format struct {
	Names []string // AWS names, hyphenated
	known []int    // index into fields, or -1
	From  string   // where the format came from, for the evidence table
}

// normName makes "pkt_srcaddr", "pkt-srcaddr" and "${pkt-srcaddr}" the same.
func normName(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "${")
	s = strings.TrimSuffix(s, "}")
	s = strings.ToLower(s)
	return strings.ReplaceAll(s, "_", "-")
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

func newFormat(names []string, from string) (*Format, error) {
	f := &Format{From: from}
	seen := map[string]bool{}
	for _, n := range names {
		n = normName(n)
		if !nameRE.MatchString(n) {
			return nil, fmt.Errorf("%q is not a flow log field name", n)
		}
		if seen[n] {
			return nil, fmt.Errorf("field %s appears twice", n)
		}
		seen[n] = true
		f.Names = append(f.Names, n)
		if i, ok := byName[n]; ok {
			f.known = append(f.known, i)
		} else {
			f.known = append(f.known, -1)
		}
	}
	if len(f.Names) == 0 {
		return nil, fmt.Errorf("empty format")
	}
	return f, nil
}

// ParseFormat reads an AWS LogFormat string: "${version} ${vpc-id} ...".
// Plain space-separated names are accepted too.
func ParseFormat(s, from string) (*Format, error) {
	f, err := newFormat(strings.Fields(s), from)
	if err != nil {
		return nil, fmt.Errorf("flow log format %q: %w", s, err)
	}
	return f, nil
}

// parseHeader reads the header line S3 delivery writes. It is a header when
// every token is a field-name-like word and most are fields l4case knows:
// a record always has numbers or addresses in it.
func parseHeader(line []byte) (*Format, bool) {
	toks := strings.Fields(string(line))
	if len(toks) == 0 {
		return nil, false
	}
	known := 0
	for _, t := range toks {
		n := normName(t)
		if !nameRE.MatchString(n) {
			return nil, false
		}
		if _, ok := byName[n]; ok {
			known++
		}
	}
	if known*2 < len(toks) {
		return nil, false
	}
	f, err := newFormat(toks, "header")
	return f, err == nil
}

// Unknown lists the fields of f that l4case does not know.
func (f *Format) Unknown() []string {
	var out []string
	for i, k := range f.known {
		if k < 0 {
			out = append(out, f.Names[i])
		}
	}
	return out
}

// String is the format as space-separated AWS names.
func (f *Format) String() string {
	return strings.Join(f.Names, " ")
}

var defaultFormat, _ = ParseFormat(DefaultFormat, "default v2")
