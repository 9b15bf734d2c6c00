// Package collect fetches an incident's evidence from AWS before the
// laptop goes offline: the flow-log and ELB access-log objects of a time
// window from S3 (listing only the folders that can hold it, by AWS's key
// layouts and the time stamps in the objects' names), flow logs delivered
// to CloudWatch Logs, and a snapshot of the EC2 network configuration, all
// written as files that import like the ones an engineer copies by hand.
//
// It writes files only; the case imports them (app.Case.Collect). It never
// sees credentials: the SDK's clients come configured from the standard
// chain.
package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Options say what to collect.
type Options struct {
	Window
	FlowLogs    []string // s3://BUCKET[/PREFIX] or cwl://LOG-GROUP
	ELBLogs     []string // s3://BUCKET[/PREFIX]
	EC2Snapshot bool
	VPC         string   // the snapshot's VPC; all when empty
	Accounts    []string // the accounts whose logs to take; the one a location has when empty
	Region      string
	Concurrency int // downloads at once (default 4)
}

// Clients are the SDK clients collection uses; any may be nil when its
// sources are not asked for.
type Clients struct {
	S3   *s3.Client
	Logs *cloudwatchlogs.Client
	EC2  *ec2.Client
}

// File is one file collected, ready to import.
type File struct {
	Path string // where it was written
	URL  string // what it is: s3://..., cwl://GROUP/STREAM, ec2:describe-...
	Size int64
	ETag string // S3 objects
}

// Result is what a run collected.
type Result struct {
	Plans         []*Plan
	Files         []File
	AlreadyInCase int // objects an earlier run imported (same size and ETag)
	Downloaded    int
	Bytes         int64
	Notes         []string
	Snapshot      *Snapshot
}

// Status is collection's progress.
type Status struct {
	Phase        string // listing, downloading, cloudwatch, ec2
	Source       string
	Objects      int // done
	ObjectsTotal int
	Bytes        int64
	BytesTotal   int64
	Elapsed      time.Duration
}

// Line is the status as one line: objects, bytes, rate, ETA.
func (s Status) Line() string {
	switch s.Phase {
	case "downloading":
		line := fmt.Sprintf("downloading %d/%d objects, %s of %s", s.Objects, s.ObjectsTotal, mib(s.Bytes), mib(s.BytesTotal))
		if secs := s.Elapsed.Seconds(); secs > 0 && s.Bytes > 0 {
			rate := float64(s.Bytes) / secs
			line += fmt.Sprintf(", %s/s", mib(int64(rate)))
			if left := s.BytesTotal - s.Bytes; left > 0 {
				line += fmt.Sprintf(", ETA %s", time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second))
			}
		}
		return line
	case "cloudwatch":
		return fmt.Sprintf("reading %s: %d events, %s", s.Source, s.Objects, mib(s.Bytes))
	case "ec2":
		return "describing the EC2 network configuration"
	}
	return "listing " + s.Source
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Progress hears collection's status, from any goroutine.
type Progress interface{ Status(Status) }

// State is what earlier runs collected into a case, so that a run again
// (after an interruption, or for a longer window) fetches only the rest.
type State struct {
	path    string
	mu      sync.Mutex
	Objects map[string]Entry `json:"objects"`
}

// Entry is one object collected.
type Entry struct {
	Size     int64  `json:"size"`
	ETag     string `json:"etag"`
	Imported bool   `json:"imported"`
}

// LoadState reads the state at path; none yet is an empty state.
func LoadState(path string) (*State, error) {
	s := &State{path: path, Objects: map[string]Entry{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Objects == nil {
		s.Objects = map[string]Entry{}
	}
	return s, nil
}

// Set records an object and saves the state.
func (s *State) Set(url string, e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Objects[url] = e
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

func (s *State) get(url string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.Objects[url]
	return e, ok
}

// Run collects what o asks into dir, skipping what st says is in the case.
func Run(ctx context.Context, cl Clients, o Options, dir string, st *State, rep Progress) (*Result, error) {
	if o.Margin == 0 {
		o.Margin = DefaultMargin
	}
	if !o.Until.After(o.Since) {
		return nil, errors.New("the window is empty: --until must be after --since")
	}
	if rep == nil {
		rep = nopProgress{}
	}
	res := &Result{}
	type source struct {
		url string
		svc Service
	}
	var s3s []source
	var groups []string
	for _, u := range o.FlowLogs {
		if g, err := ParseCWL(u); err == nil {
			groups = append(groups, g)
			continue
		}
		s3s = append(s3s, source{u, FlowLogs})
	}
	for _, u := range o.ELBLogs {
		s3s = append(s3s, source{u, ELBLogs})
	}

	// S3: list each location, then download what is not in the case yet.
	var todo []Object
	for _, s := range s3s {
		loc, err := ParseS3(s.url)
		if err != nil {
			return nil, err
		}
		if cl.S3 == nil {
			return nil, errors.New("no S3 client")
		}
		rep.Status(Status{Phase: "listing", Source: loc.String()})
		plan, err := PlanS3(ctx, cl.S3, loc, s.svc, o.Window, o.Accounts, o.Region)
		if err != nil {
			return nil, err
		}
		res.Plans = append(res.Plans, plan)
		for _, obj := range plan.Objects {
			if e, ok := st.get(obj.URL()); ok && e.Imported && e.Size == obj.Size && e.ETag == obj.ETag {
				res.AlreadyInCase++
				continue
			}
			path := filepath.Join(dir, "s3", obj.Bucket, filepath.FromSlash(obj.Key))
			if e, ok := st.get(obj.URL()); ok && e.Size == obj.Size && e.ETag == obj.ETag {
				if fi, err := os.Stat(path); err == nil && fi.Size() == obj.Size {
					res.Files = append(res.Files, File{Path: path, URL: obj.URL(), Size: obj.Size, ETag: obj.ETag})
					continue // downloaded by an interrupted run, not imported yet
				}
			}
			todo = append(todo, obj)
		}
	}
	if len(todo) > 0 {
		files, err := downloadAll(ctx, cl.S3, todo, dir, o.Concurrency, st, rep)
		res.Files = append(res.Files, files...)
		res.Downloaded = len(files)
		for _, f := range files {
			res.Bytes += f.Size
		}
		if err != nil {
			return res, err
		}
	}

	// CloudWatch Logs.
	for _, g := range groups {
		if cl.Logs == nil {
			return nil, errors.New("no CloudWatch Logs client")
		}
		var events atomic.Int64
		var bytes atomic.Int64
		start := time.Now()
		files, note, err := CollectCWL(ctx, cl.Logs, cl.EC2, g, o.Window, filepath.Join(dir, "cwl"), func(n int, b int64) {
			rep.Status(Status{Phase: "cloudwatch", Source: "cwl://" + g, Objects: int(events.Add(int64(n))), Bytes: bytes.Add(b), Elapsed: time.Since(start)})
		})
		if err != nil {
			return res, err
		}
		res.Notes = append(res.Notes, "cwl://"+g+": "+note)
		for _, p := range files {
			fi, err := os.Stat(p)
			if err != nil {
				return res, err
			}
			res.Files = append(res.Files, File{Path: p, URL: "cwl://" + g + "/" + filepath.Base(p), Size: fi.Size()})
		}
	}

	// EC2.
	if o.EC2Snapshot {
		if cl.EC2 == nil {
			return nil, errors.New("no EC2 client")
		}
		rep.Status(Status{Phase: "ec2"})
		snap, err := SnapshotEC2(ctx, cl.EC2, o.VPC, filepath.Join(dir, "ec2", time.Now().UTC().Format("20060102T150405Z")))
		if err != nil {
			return res, err
		}
		res.Snapshot = snap
		for _, p := range snap.Files {
			fi, err := os.Stat(p)
			if err != nil {
				return res, err
			}
			res.Files = append(res.Files, File{Path: p, URL: "ec2:" + filepath.Base(p) + "@" + snap.Taken.Format(time.RFC3339), Size: fi.Size()})
		}
	}
	return res, nil
}

type nopProgress struct{}

func (nopProgress) Status(Status) {}

// downloadAll fetches objects, n at a time, recording each in st as it
// lands; on an error or a cancel it stops and returns what is whole.
func downloadAll(ctx context.Context, c *s3.Client, objs []Object, dir string, n int, st *State, rep Progress) ([]File, error) {
	if n <= 0 {
		n = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var total int64
	for _, o := range objs {
		total += o.Size
	}
	var bytes atomic.Int64
	var done atomic.Int64
	start := time.Now()
	status := func() Status {
		return Status{Phase: "downloading", Objects: int(done.Load()), ObjectsTotal: len(objs), Bytes: bytes.Load(), BytesTotal: total, Elapsed: time.Since(start)}
	}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				rep.Status(status())
			}
		}
	}()
	var mu sync.Mutex
	var files []File
	var firstErr error
	jobs := make(chan Object)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range jobs {
				path := filepath.Join(dir, "s3", o.Bucket, filepath.FromSlash(o.Key))
				etag, err := download(ctx, c, o, path, func(k int64) { bytes.Add(k) })
				if err == nil {
					if etag == "" {
						etag = o.ETag
					}
					err = st.Set(o.URL(), Entry{Size: o.Size, ETag: etag})
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					cancel()
				} else {
					files = append(files, File{Path: path, URL: o.URL(), Size: o.Size, ETag: etag})
				}
				mu.Unlock()
				done.Add(1)
			}
		}()
	}
	for _, o := range objs {
		select {
		case jobs <- o:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	close(stop)
	rep.Status(status())
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	// Files in the order the listing gave them.
	order := map[string]int{}
	for i, o := range objs {
		order[o.URL()] = i
	}
	sortFiles(files, order)
	return files, firstErr
}

func sortFiles(fs []File, order map[string]int) {
	slices.SortFunc(fs, func(a, b File) int { return order[a.URL] - order[b.URL] })
}
