package collect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Object is an S3 object to collect.
type Object struct {
	Bucket, Key string
	Size        int64
	ETag        string
	Modified    time.Time // LastModified: the staged file's time, as aws s3 cp leaves it
}

// URL names the object as evidence.
func (o Object) URL() string { return "s3://" + o.Bucket + "/" + o.Key }

// Plan is what a listing found for one location: the objects that can
// hold the window's records, and how many it passed over.
type Plan struct {
	Location Location
	Service  Service
	Objects  []Object
	Listed   int // objects listed in the window's folders
	Accounts []string
	Layout   Layout
}

// listing is one level of a bucket: its subfolders and objects.
type listing struct {
	dirs    []string
	objects []Object
}

// list lists one folder level (delimiter /), or everything under prefix.
func list(ctx context.Context, c *s3.Client, bucket, prefix string, deep bool) (listing, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if !deep {
		in.Delimiter = aws.String("/")
	}
	var out listing
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, explain(err, "s3:ListBucket", bucket)
		}
		for _, d := range page.CommonPrefixes {
			out.dirs = append(out.dirs, aws.ToString(d.Prefix))
		}
		for _, o := range page.Contents {
			out.objects = append(out.objects, Object{Bucket: bucket, Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag), Modified: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// PlanS3 lists, under a location, only the folders that can hold records
// of the window for the given accounts (all the location has when empty:
// then it must hold one) and region, and keeps the objects whose names'
// time stamps fall in it. It lists the account level once, then each day
// of the window (and the hours of hourly folders): other days, hours,
// regions and accounts are never listed nor fetched.
func PlanS3(ctx context.Context, c *s3.Client, loc Location, svc Service, w Window, accounts []string, region string) (*Plan, error) {
	plan := &Plan{Location: loc, Service: svc}
	r, ok := splitRoot(loc.Prefix)
	if !ok {
		r = root{prefix: loc.Prefix + "AWSLogs/"}
	}
	if r.service != "" && r.service != svc {
		return nil, fmt.Errorf("%s holds %s objects, not %s", loc, r.service, svc)
	}
	if r.region != "" {
		if region != "" && region != r.region {
			return nil, fmt.Errorf("%s is region %s, not %s", loc, r.region, region)
		}
		region = r.region
	}
	if region == "" {
		return nil, errors.New("no region: give --region or set AWS_REGION (the logs' folders are per region)")
	}
	type acct struct {
		id     string
		layout Layout
	}
	var accts []acct
	if r.account != "" {
		accts = []acct{{r.account, r.layout}}
	} else {
		top, err := list(ctx, c, loc.Bucket, r.prefix, false)
		if err != nil {
			return nil, err
		}
		var found []string
		for _, d := range top.dirs {
			id, layout, ok := accountOf(strings.TrimPrefix(d, r.prefix))
			if !ok {
				continue
			}
			found = append(found, id)
			if len(accounts) == 0 || slices.Contains(accounts, id) {
				accts = append(accts, acct{id, layout})
			}
		}
		switch {
		case len(found) == 0:
			return nil, fmt.Errorf("no AWSLogs/ACCOUNT/ folder under s3://%s/%s: is this where the logs are delivered?", loc.Bucket, r.prefix)
		case len(accounts) == 0 && len(accts) > 1:
			return nil, fmt.Errorf("s3://%s/%s holds the logs of several accounts (%s): pick with --account", loc.Bucket, r.prefix, strings.Join(found, ", "))
		case len(accts) == 0:
			return nil, fmt.Errorf("s3://%s/%s holds no logs of account %s (it has %s)", loc.Bucket, r.prefix, strings.Join(accounts, ", "), strings.Join(found, ", "))
		}
	}
	for _, a := range accts {
		plan.Accounts = append(plan.Accounts, a.id)
		plan.Layout = a.layout
		for _, day := range w.days() {
			dp := a.layout.dayPrefix(r.prefix, a.id, svc, region, day)
			l, err := list(ctx, c, loc.Bucket, dp, false)
			if err != nil {
				return nil, err
			}
			objs := l.objects
			for _, d := range l.dirs {
				h, ok := hourOf(dp, d)
				if !ok || !w.hourIn(day.Add(time.Duration(h)*time.Hour)) {
					continue
				}
				hl, err := list(ctx, c, loc.Bucket, d, true)
				if err != nil {
					return nil, err
				}
				objs = append(objs, hl.objects...)
			}
			plan.Listed += len(objs)
			for _, o := range objs {
				if w.wanted(o.Key) {
					plan.Objects = append(plan.Objects, o)
				}
			}
		}
	}
	return plan, nil
}

// download writes an object to path, through path.part so that a file
// at path is always whole. It returns the object's ETag as served.
func download(ctx context.Context, c *s3.Client, o Object, path string, count func(int64)) (string, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key)})
	if err != nil {
		return "", explain(err, "s3:GetObject", o.URL())
	}
	defer out.Body.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	part := path + ".part"
	f, err := os.Create(part)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, &countingReader{r: out.Body, count: count})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && out.ContentLength != nil && n != *out.ContentLength {
		err = fmt.Errorf("%s: %d of %d bytes", o.URL(), n, *out.ContentLength)
	}
	if err != nil {
		os.Remove(part)
		return "", err
	}
	if !o.Modified.IsZero() {
		os.Chtimes(part, o.Modified, o.Modified)
	}
	return aws.ToString(out.ETag), os.Rename(part, path)
}

type countingReader struct {
	r     io.Reader
	count func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.count(int64(n))
	}
	return n, err
}
