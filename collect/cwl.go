package collect

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// DefaultFlowFormat is the fields of a flow log created without a format.
const DefaultFlowFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

// ParseCWL reads cwl://LOG-GROUP (the group's name may hold slashes).
func ParseCWL(u string) (string, error) {
	g, ok := strings.CutPrefix(u, "cwl://")
	if !ok || g == "" {
		return "", fmt.Errorf("%q: want cwl://LOG-GROUP", u)
	}
	return g, nil
}

// flowFormat is the ${field} format of the flow logs delivered to a log
// group, from DescribeFlowLogs; the default format when EC2 cannot say.
// CloudWatch Logs keeps each record as a message without the header line
// S3 objects have, so the fields' names must come from the flow log.
func flowFormat(ctx context.Context, c *ec2.Client, group string) (format, note string) {
	if c == nil {
		return DefaultFlowFormat, "no EC2 client: the default format assumed"
	}
	p := ec2.NewDescribeFlowLogsPaginator(c, &ec2.DescribeFlowLogsInput{
		Filter: []ec2types.Filter{{Name: aws.String("log-group-name"), Values: []string{group}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return DefaultFlowFormat, fmt.Sprintf("DescribeFlowLogs failed (%v): the default format assumed", explain(err, "ec2:DescribeFlowLogs", group))
		}
		for _, f := range page.FlowLogs {
			if aws.ToString(f.LogGroupName) == group && aws.ToString(f.LogFormat) != "" {
				return aws.ToString(f.LogFormat), "format of " + aws.ToString(f.FlowLogId)
			}
		}
	}
	return DefaultFlowFormat, "no flow log of EC2 delivers to " + group + ": the default format assumed"
}

var fieldRE = regexp.MustCompile(`\$\{([a-z0-9-]+)\}`)

// headerOf is the header line S3 objects of that format start with.
func headerOf(format string) string {
	var names []string
	for _, m := range fieldRE.FindAllStringSubmatch(format, -1) {
		names = append(names, m[1])
	}
	return strings.Join(names, " ")
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// CollectCWL writes the flow-log records a log group holds for the window,
// one file per log stream (one per ENI) in the S3 objects' text form,
// header line first, so that they import like S3 objects. FilterLogEvents
// pages through the window; lines are written as they come.
func CollectCWL(ctx context.Context, logs *cloudwatchlogs.Client, ec2c *ec2.Client, group string, w Window, dir string, count func(events int, bytes int64)) (files []string, note string, err error) {
	format, note := flowFormat(ctx, ec2c, group)
	header := headerOf(format)
	stamp := w.Since.UTC().Format("20060102T1504Z") + "-" + w.Until.UTC().Format("20060102T1504Z")
	base := filepath.Join(dir, unsafeName.ReplaceAllString(strings.Trim(group, "/"), "_"))
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, note, err
	}
	type out struct {
		f    *os.File
		bw   *bufio.Writer
		path string
	}
	streams := map[string]*out{}
	closeAll := func() error {
		var first error
		for _, o := range streams {
			if err := o.bw.Flush(); err != nil && first == nil {
				first = err
			}
			if err := o.f.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	p := cloudwatchlogs.NewFilterLogEventsPaginator(logs, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group),
		// A record's event time is its window's start: it may start up to
		// an aggregation interval before the window and arrive after it.
		StartTime: aws.Int64(w.Since.Add(-10 * 60e9).UnixMilli()),
		EndTime:   aws.Int64(w.Until.UnixMilli()),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			closeAll()
			return nil, note, explain(err, "logs:FilterLogEvents", group)
		}
		var n int
		var b int64
		for _, e := range page.Events {
			s := aws.ToString(e.LogStreamName)
			o := streams[s]
			if o == nil {
				path := filepath.Join(base, unsafeName.ReplaceAllString(s, "_")+"_"+stamp+".log")
				f, err := os.Create(path)
				if err != nil {
					closeAll()
					return nil, note, err
				}
				o = &out{f: f, bw: bufio.NewWriter(f), path: path}
				streams[s] = o
				o.bw.WriteString(header + "\n")
			}
			msg := strings.TrimRight(aws.ToString(e.Message), "\n")
			o.bw.WriteString(msg + "\n")
			n++
			b += int64(len(msg) + 1)
		}
		if count != nil {
			count(n, b)
		}
	}
	if err := closeAll(); err != nil {
		return nil, note, err
	}
	for _, o := range streams {
		files = append(files, o.path)
	}
	sort.Strings(files)
	return files, note, nil
}
