package collect

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// document writes {"KEY": [items...]} as `aws ec2 describe-*` prints it
// (PascalCase fields: aws-sdk-go-v2's types marshal to the CLI's names),
// an item at a time as the pages come, and returns how many it wrote.
func document[T any](path, key string, pages func(emit func([]T) error) error) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(f)
	bw.WriteString("{\n    \"" + key + "\": [")
	n := 0
	err = pages(func(items []T) error {
		for _, it := range items {
			b, err := json.MarshalIndent(it, "        ", "    ")
			if err != nil {
				return err
			}
			if n > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n        ")
			bw.Write(b)
			n++
		}
		return nil
	})
	bw.WriteString("\n    ]\n}\n")
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return n, err
}

// pager is what the SDK's paginators share.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*ec2.Options)) (O, error)
}

func drain[O any, T any](ctx context.Context, p pager[O], items func(O) []T, action string) func(func([]T) error) error {
	return func(emit func([]T) error) error {
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return explain(err, action, "the account")
			}
			if err := emit(items(page)); err != nil {
				return err
			}
		}
		return nil
	}
}

// Snapshot is an EC2 snapshot written as evidence files.
type Snapshot struct {
	Taken time.Time
	Files []string
	Items map[string]int // per file name
}

// SnapshotEC2 describes the security groups, their rules, the network
// ACLs, the ENIs, the subnets and the flow logs (of one VPC when vpc is
// set), paging through each, into dir as the aws CLI's JSON, each file
// stamped with the time the snapshot was taken (its modification time:
// the diagnosis compares it with the incident).
func SnapshotEC2(ctx context.Context, c *ec2.Client, vpc string, dir string) (*Snapshot, error) {
	s := &Snapshot{Taken: time.Now().UTC().Truncate(time.Second), Items: map[string]int{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var byVPC []ec2types.Filter
	if vpc != "" {
		byVPC = []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}
	}
	var groups []string
	steps := []struct {
		file string
		run  func(path string) (int, error)
	}{
		{"describe-security-groups.json", func(path string) (int, error) {
			p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{Filters: byVPC})
			return document(path, "SecurityGroups", func(emit func([]ec2types.SecurityGroup) error) error {
				return drain(ctx, p, func(o *ec2.DescribeSecurityGroupsOutput) []ec2types.SecurityGroup { return o.SecurityGroups }, "ec2:DescribeSecurityGroups")(
					func(items []ec2types.SecurityGroup) error {
						for _, g := range items {
							groups = append(groups, aws.ToString(g.GroupId))
						}
						return emit(items)
					})
			})
		}},
		{"describe-security-group-rules.json", func(path string) (int, error) {
			return document(path, "SecurityGroupRules", func(emit func([]ec2types.SecurityGroupRule) error) error {
				// The rules of the VPC's groups: the API takes up to 200
				// group ids per filter.
				var chunks [][]ec2types.Filter
				if vpc == "" {
					chunks = [][]ec2types.Filter{nil}
				}
				for i := 0; i < len(groups); i += 200 {
					chunks = append(chunks, []ec2types.Filter{{Name: aws.String("group-id"), Values: groups[i:min(i+200, len(groups))]}})
				}
				for _, f := range chunks {
					p := ec2.NewDescribeSecurityGroupRulesPaginator(c, &ec2.DescribeSecurityGroupRulesInput{Filters: f})
					if err := drain(ctx, p, func(o *ec2.DescribeSecurityGroupRulesOutput) []ec2types.SecurityGroupRule {
						return o.SecurityGroupRules
					}, "ec2:DescribeSecurityGroupRules")(emit); err != nil {
						return err
					}
				}
				return nil
			})
		}},
		{"describe-network-acls.json", func(path string) (int, error) {
			p := ec2.NewDescribeNetworkAclsPaginator(c, &ec2.DescribeNetworkAclsInput{Filters: byVPC})
			return document(path, "NetworkAcls", drain(ctx, p, func(o *ec2.DescribeNetworkAclsOutput) []ec2types.NetworkAcl { return o.NetworkAcls }, "ec2:DescribeNetworkAcls"))
		}},
		{"describe-network-interfaces.json", func(path string) (int, error) {
			p := ec2.NewDescribeNetworkInterfacesPaginator(c, &ec2.DescribeNetworkInterfacesInput{Filters: byVPC})
			return document(path, "NetworkInterfaces", drain(ctx, p, func(o *ec2.DescribeNetworkInterfacesOutput) []ec2types.NetworkInterface { return o.NetworkInterfaces }, "ec2:DescribeNetworkInterfaces"))
		}},
		{"describe-subnets.json", func(path string) (int, error) {
			p := ec2.NewDescribeSubnetsPaginator(c, &ec2.DescribeSubnetsInput{Filters: byVPC})
			return document(path, "Subnets", drain(ctx, p, func(o *ec2.DescribeSubnetsOutput) []ec2types.Subnet { return o.Subnets }, "ec2:DescribeSubnets"))
		}},
		{"describe-flow-logs.json", func(path string) (int, error) {
			p := ec2.NewDescribeFlowLogsPaginator(c, &ec2.DescribeFlowLogsInput{})
			return document(path, "FlowLogs", drain(ctx, p, func(o *ec2.DescribeFlowLogsOutput) []ec2types.FlowLog { return o.FlowLogs }, "ec2:DescribeFlowLogs"))
		}},
	}
	for _, st := range steps {
		path := filepath.Join(dir, st.file)
		n, err := st.run(path)
		if err != nil {
			return nil, err
		}
		if err := os.Chtimes(path, s.Taken, s.Taken); err != nil {
			return nil, err
		}
		s.Files = append(s.Files, path)
		s.Items[st.file] = n
	}
	return s, nil
}
