// Package fakeaws is an AWS endpoint on loopback for tests of collection
// through the real aws-sdk-go-v2 clients: S3 is gofakes3 (an in-process S3
// server), EC2's Query protocol and CloudWatch Logs' JSON protocol answer
// with the responses recorded under testdata/aws (page by page, following
// NextToken). It checks the access key every request is signed with, as
// AWS does, and keeps a log of the requests for tests to count.
package fakeaws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// AccessKey is the only access key the server accepts.
const AccessKey = "AKIAIOSFODNN7EXAMPLE"

// SecretKey goes with AccessKey.
const SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

// Request is one request as the server saw it.
type Request struct {
	Method, Path, Query string
	Action              string // EC2 Action or CloudWatch Logs target operation
	Body                string // EC2 and CloudWatch Logs
}

// Server is the fake endpoint.
type Server struct {
	*httptest.Server
	S3       *gofakes3.GoFakeS3
	backend  *s3mem.Backend
	recorded string // testdata/aws

	mu       sync.Mutex
	requests []Request
	// OnGetObject, when set, is called after each object served (tests
	// interrupt a collection with it).
	OnGetObject func(n int)
	gets        int
	polls       map[string]int // GetQueryExecution calls per query
}

// New starts a server answering EC2 and CloudWatch Logs from the files
// under recorded (testdata/aws).
func New(recorded string) *Server {
	s := &Server{backend: s3mem.New(), recorded: recorded}
	s.S3 = gofakes3.New(s.backend)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Requests is what the server has seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// GetObjects are the keys of the objects served (GETs of an object, not
// listings), in order.
func (s *Server) GetObjects() []string {
	var out []string
	for _, r := range s.Requests() {
		if r.Method == http.MethodGet && r.Action == "" && strings.Count(strings.TrimPrefix(r.Path, "/"), "/") >= 1 && !strings.Contains(r.Query, "list-type") {
			out = append(out, r.Path)
		}
	}
	return out
}

// Reset forgets the requests seen.
func (s *Server) Reset() {
	s.mu.Lock()
	s.requests, s.gets = nil, 0
	s.mu.Unlock()
}

// Env is the environment that points the SDK's default chain at the
// server's credentials and nothing else (no profile, no IMDS).
func (s *Server) Env(dir string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_REGION=ap-northeast-1",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "no-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PROFILE=", "AWS_SESSION_TOKEN=",
	}
}

// Put stores an object.
func (s *Server) Put(bucket, key string, body []byte) error {
	if err := s.backend.CreateBucket(bucket); err != nil && !gofakes3.HasErrorCode(err, gofakes3.ErrBucketAlreadyExists) {
		return err
	}
	_, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil)
	return err
}

var credential = regexp.MustCompile(`Credential=([A-Z0-9]+)/`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	target := r.Header.Get("X-Amz-Target")
	form, _ := url.ParseQuery(string(body))
	switch {
	case target != "":
		req.Action, req.Body = target[strings.LastIndex(target, ".")+1:], string(body)
	case r.Method == http.MethodPost && form.Get("Action") != "":
		req.Action, req.Body = form.Get("Action"), string(body)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	if m := credential.FindStringSubmatch(r.Header.Get("Authorization")); m == nil || m[1] != AccessKey {
		s.refuse(w, req)
		return
	}
	switch {
	case strings.HasPrefix(target, "AmazonAthena."):
		s.athena(w, req.Action, body)
	case target != "":
		s.recordedJSON(w, req.Action, body)
	case req.Action != "":
		s.recordedXML(w, req.Action, form)
	default:
		s.S3.Server().ServeHTTP(w, r)
		if r.Method == http.MethodGet && !strings.Contains(r.URL.RawQuery, "list-type") && strings.Count(strings.TrimPrefix(r.URL.Path, "/"), "/") >= 1 {
			s.mu.Lock()
			s.gets++
			n, f := s.gets, s.OnGetObject
			s.mu.Unlock()
			if f != nil {
				f(n)
			}
		}
	}
}

// refuse answers as each service does for an unknown access key.
func (s *Server) refuse(w http.ResponseWriter, req Request) {
	switch {
	case strings.HasPrefix(req.Body, "{") || strings.Contains(req.Action, "LogEvents"):
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`)
	case req.Action != "":
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials</Message></Error></Errors><RequestID>7f1c9b2e-0000-4000-8000-000000000000</RequestID></Response>`)
	default:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`)
	}
}

// page is the recorded page a request asks for: 1 without a token, else
// the page after the one whose token it carries.
func (s *Server) page(dir, action, token string) (int, error) {
	if token == "" {
		return 1, nil
	}
	for p := 1; ; p++ {
		b, err := os.ReadFile(filepath.Join(s.recorded, dir, fmt.Sprintf("%s-%d.%s", action, p, map[string]string{"ec2": "xml", "logs": "json", "athena": "json"}[dir])))
		if err != nil {
			return 0, fmt.Errorf("no page after token %q", token)
		}
		if bytes.Contains(b, []byte(token)) {
			return p + 1, nil
		}
	}
}

func (s *Server) recordedXML(w http.ResponseWriter, action string, form url.Values) {
	p, err := s.page("ec2", action, form.Get("NextToken"))
	var b []byte
	if err == nil {
		b, err = os.ReadFile(filepath.Join(s.recorded, "ec2", fmt.Sprintf("%s-%d.xml", action, p)))
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InvalidAction</Code><Message>%s: no recorded response (%v)</Message></Error></Errors><RequestID>0</RequestID></Response>`, action, err)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Write(b)
}

// athena answers Athena's JSON protocol from testdata/aws/athena: a query
// whose SQL holds FAIL fails; any other goes QUEUED, RUNNING, SUCCEEDED on
// successive GetQueryExecution calls (GetQueryExecution-N.json) and has
// paged results.
func (s *Server) athena(w http.ResponseWriter, action string, body []byte) {
	var in struct {
		QueryString      string
		QueryExecutionId string
		NextToken        string
	}
	json.Unmarshal(body, &in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	file := ""
	switch action {
	case "StartQueryExecution":
		file = "StartQueryExecution-1.json"
		if strings.Contains(in.QueryString, "FAIL") {
			file = "StartQueryExecution-fail.json"
		}
	case "GetQueryExecution":
		if in.QueryExecutionId == "q-fail" {
			file = "GetQueryExecution-fail.json"
			break
		}
		s.mu.Lock()
		if s.polls == nil {
			s.polls = map[string]int{}
		}
		s.polls[in.QueryExecutionId]++
		n := s.polls[in.QueryExecutionId]
		s.mu.Unlock()
		for ; n > 1; n-- {
			if _, err := os.Stat(filepath.Join(s.recorded, "athena", fmt.Sprintf("GetQueryExecution-%d.json", n))); err == nil {
				break
			}
		}
		file = fmt.Sprintf("GetQueryExecution-%d.json", n)
	case "GetQueryResults":
		p, err := s.page("athena", action, in.NextToken)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"InvalidRequestException","Message":%q}`, err.Error())
			return
		}
		file = fmt.Sprintf("GetQueryResults-%d.json", p)
	case "StopQueryExecution":
		w.Write([]byte("{}"))
		return
	}
	b, err := os.ReadFile(filepath.Join(s.recorded, "athena", file))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"InvalidRequestException","Message":"%s: no recorded response"}`, action)
		return
	}
	w.Write(b)
}

func (s *Server) recordedJSON(w http.ResponseWriter, action string, body []byte) {
	var in struct {
		NextToken    string `json:"nextToken"`
		LogGroupName string `json:"logGroupName"`
	}
	json.Unmarshal(body, &in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	p, err := s.page("logs", action, in.NextToken)
	var b []byte
	if err == nil {
		b, err = os.ReadFile(filepath.Join(s.recorded, "logs", fmt.Sprintf("%s-%d.json", action, p)))
	}
	if err == nil && in.LogGroupName != "" && in.LogGroupName != "/vpc/flowlogs" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}`)
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"InvalidOperationException","message":%q}`, err.Error())
		return
	}
	w.Write(b)
}
