package gen

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// Truth is what really happened in a generated incident: the topology, every
// request's path, every injected fault with the verdict a correct diagnosis
// gives, and what each capture file holds. Tests derive their expectations
// from it, never from l4case's own output.
type Truth struct {
	Seed  uint64    `json:"seed"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	LB    string    `json:"load_balancer"` // classic, alb or nlb
	Skew  TruthSkew `json:"skew"`
	// AggregationS is the flow logs' aggregation interval in seconds.
	AggregationS int            `json:"flow_log_aggregation_s"`
	Topology     TruthTopology  `json:"topology"`
	RequestCount int            `json:"request_count"`
	Requests     []TruthRequest `json:"requests"`
	// RequestsFile names a JSON-lines file holding the requests instead,
	// for runs too large to hold them in truth.json.
	RequestsFile string         `json:"requests_file,omitempty"`
	Faults       []TruthFault   `json:"faults"`
	Captures     []TruthCapture `json:"captures"`
	FlowLogs     TruthFiles     `json:"flow_logs"`
	ELBLogs      TruthFiles     `json:"elb_logs"`
	OpFlex       TruthFiles     `json:"opflex"`
	Snapshots    []string       `json:"snapshots"`
}

// TruthSkew is how far each source's clock was off (added to true time).
type TruthSkew struct {
	ELB      string `json:"elb"`
	FlowLogs string `json:"flow_logs"`
	Node2    string `json:"second_router_node"`
	// FlowDelay is the most a flow-log record's window trails its packets.
	FlowDelay string `json:"flow_delay,omitempty"`
}

// TruthTopology names every address.
type TruthTopology struct {
	Account        string            `json:"account"`
	Region         string            `json:"region"`
	VPC            string            `json:"vpc"`
	ELB            string            `json:"elb"`
	NodePorts      map[string]int    `json:"node_ports"`
	Addresses      map[string]string `json:"addresses"`       // ip -> "elb eni-...", "node NAME", "router NS/POD", "pod NS/POD"
	ENIs           map[string]string `json:"enis"`            // eni id -> ip
	SecurityGroups map[string]string `json:"security_groups"` // sg id -> role
	NetworkACLs    map[string]string `json:"network_acls"`    // acl id -> role
}

// TruthRequest is one request's full path.
type TruthRequest struct {
	N          int       `json:"n"`
	RequestID  string    `json:"request_id"`
	Method     string    `json:"method"`
	URI        string    `json:"uri"`
	Host       string    `json:"host"`
	Client     string    `json:"client"`             // ip:port as the ELB saw it
	ELBNode    string    `json:"elb_node"`           // ELB ENI private ip
	ELBSource  string    `json:"elb_source"`         // ELB ENI ip:ephemeral port towards the node (NLB: the client's, preserved)
	TraceID    string    `json:"trace_id,omitempty"` // ALB: X-Amzn-Trace-Id
	Node       string    `json:"node"`               // node name
	NodePort   string    `json:"node_port"`          // node ip:NodePort
	RouterPod  string    `json:"router_pod"`         // namespace/name
	Router     string    `json:"router"`             // router pod ip:port (DNAT target)
	RouterSrc  string    `json:"router_src"`         // router ip:port towards the backend
	BackendPod string    `json:"backend_pod"`        // namespace/name
	Backend    string    `json:"backend"`            // backend pod ip:port
	Status     int       `json:"status"`
	Fault      string    `json:"fault,omitempty"` // networkpolicy_drop, backend_5xx, slow, loss, port_reuse
	ClientSYN  time.Time `json:"client_syn"`
	ELBTime    time.Time `json:"elb_log_time"`    // true time of the ELB log line (before skew)
	NodeSYN    time.Time `json:"node_syn"`        // ELB -> node SYN
	Request    time.Time `json:"request_at_node"` // HTTP request reaches the node
	BackendReq time.Time `json:"backend_request"` // router forwards it
	BackendRsp time.Time `json:"backend_response,omitzero"`
	Response   time.Time `json:"response_at_node"` // router answers the ELB
	Closed     time.Time `json:"closed"`
	ReqBytes   int       `json:"request_bytes"`
	RspBytes   int       `json:"response_bytes"`
}

// TruthFault is one injected fault: the flow log conversation(s) it shows
// as, and the verdict a correct diagnosis gives.
type TruthFault struct {
	Kind     string   `json:"kind"`    // scanner, sg_block, nacl_return, not_listening, networkpolicy_drop, backend_5xx, slow
	Verdict  string   `json:"verdict"` // sg_inbound, nacl_outbound, not_listening, networkpolicy_drop, backend_error, slow_backend
	ENI      string   `json:"eni,omitempty"`
	Src      string   `json:"src,omitempty"`
	Dst      string   `json:"dst,omitempty"`
	Protocol int      `json:"protocol,omitempty"`
	Ports    []int    `json:"dst_ports,omitempty"`
	Flows    []string `json:"flows,omitempty"` // "src:port>dst:port" on ENI, each a rejected (or unanswered) conversation
	Rule     string   `json:"rule,omitempty"`  // the rule responsible, in words
	Requests []string `json:"requests,omitempty"`
	Clients  []string `json:"clients,omitempty"` // client ip:port at the load balancer, when the fault has one
	Count    int      `json:"count"`
}

// TruthCapture is what one pcap file holds, counted as tshark counts.
type TruthCapture struct {
	File               string   `json:"file"`
	Node               string   `json:"node"`
	LinkType           string   `json:"link_type"`
	Packets            int64    `json:"packets"`
	TCPConversations   int      `json:"tcp_conversations"`
	HTTPRequestsWithID int      `json:"http_requests_with_request_id"`
	ProxyV1Sources     []string `json:"proxy_v1_sources"`
}

// TruthFiles lists generated log files and their record counts.
type TruthFiles struct {
	Files   []string `json:"files"`
	Records int64    `json:"records"`
	Other   int64    `json:"other_lines,omitempty"`
}

func writeJSON(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadTruth loads a truth.json.
func ReadTruth(path string) (*Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	if t.RequestsFile != "" {
		f, err := os.Open(filepath.Join(filepath.Dir(path), t.RequestsFile))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		dec := json.NewDecoder(bufio.NewReader(f))
		for dec.More() {
			var r TruthRequest
			if err := dec.Decode(&r); err != nil {
				return nil, err
			}
			t.Requests = append(t.Requests, r)
		}
	}
	return &t, nil
}
