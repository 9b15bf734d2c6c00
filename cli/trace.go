package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"dev.l4case/l4case/app"
	"github.com/spf13/cobra"
)

func (e *env) traceCmd() *cobra.Command {
	var key app.TraceKey
	var elbLine, conv, flow, at, out string
	c := &cobra.Command{
		Use:   "trace CASE_DIR (--request-id ID | --client IP:PORT | --elb-line EVIDENCE:LINE | --conversation EVIDENCE:STREAM | --flow EVIDENCE:LINE) [--at TIME] [-o text|json]",
		Short: "Trace one request's path: client → load balancer → node → router pod → backend pod",
		Long: `trace finds every hop of one request that the case has evidence for — the
load balancer's access-log line, the flow-log records of its connections on
every ENI, the captured streams on the node (handshake, PROXY header, HTTP
request and response, FIN or RST), kube-proxy's DNAT'd copy to the router pod,
the router's request to the backend pod, OpFlex drops — and orders them.
Each hop says how it was matched and with what confidence; a hop no evidence
shows is listed with the reason. -o json prints the same as one JSON object
(its fields are in the README).

Start from any of: a request-id header, the client's ip:port as the load
balancer saw it, an access-log line, a capture stream (tcp.stream) or a
flow-log record; l4case views request_paths lists every request to start from.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n := 0
			for _, s := range []string{key.RequestID, key.Client, elbLine, conv, flow} {
				if s != "" {
					n++
				}
			}
			if n != 1 {
				return usageError{errors.New("trace needs exactly one of --request-id, --client, --elb-line, --conversation, --flow")}
			}
			var err error
			for _, r := range []struct {
				s   string
				dst **app.Ref
			}{{elbLine, &key.ELBLine}, {conv, &key.Conversation}, {flow, &key.Flow}} {
				if r.s != "" {
					if *r.dst, err = app.ParseRef(r.s); err != nil {
						return usageError{err}
					}
				}
			}
			if at != "" {
				if key.At, err = parseTime(at); err != nil {
					return usageError{err}
				}
			}
			if out != "text" && out != "json" {
				return usageError{fmt.Errorf("-o %q: want text or json", out)}
			}
			c, err := app.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			t, err := c.Trace(cmd.Context(), key)
			if err != nil {
				return err
			}
			if out == "json" {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(t)
			}
			return app.WriteTraceText(e.stdout, t)
		},
	}
	f := c.Flags()
	f.StringVar(&key.RequestID, "request-id", "", "the request-id (or x-request-id) header of the request")
	f.StringVar(&key.Client, "client", "", "the client's IP:PORT as the load balancer saw it (ELB log, PROXY header)")
	f.StringVar(&elbLine, "elb-line", "", "an access-log line, as EVIDENCE:LINE")
	f.StringVar(&conv, "conversation", "", "a capture's TCP stream, as EVIDENCE:STREAM (tshark's tcp.stream)")
	f.StringVar(&flow, "flow", "", "a flow-log record, as EVIDENCE:LINE")
	f.StringVar(&at, "at", "", "when several requests match, the one nearest this time (RFC 3339, or 2006-01-02 15:04:05 in UTC)")
	f.StringVarP(&out, "output", "o", "text", "output format: text or json")
	return c
}

// parseTime reads RFC 3339, or a UTC time without zone.
func parseTime(s string) (time.Time, error) { return app.ParseTime(s) }
