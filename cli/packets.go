package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"dev.l4case/l4case/app"
)

func (e *env) packetsCmd() *cobra.Command {
	var conversation, frames, since, until string
	var evidence, limit int
	var out output
	c := &cobra.Command{
		Use:   "packets CASE_DIR (--conversation EVIDENCE:STREAM | --evidence E [--frames A-B | --since T --until T]) [-o table|csv|json]",
		Short: "Decode packets from the case's copy of a capture, on demand",
		Long: `Packets reads packets back from a capture kept in the case, after checking its
SHA-256 against the manifest: one TCP stream as tshark -Y 'tcp.stream eq N' shows
it (--conversation EVIDENCE:STREAM, read from its first frame's byte offset), a
frame range or a time range of one capture. The columns are the packets view's.
SQL reads the same with capture_packets(evidence_id, stream).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var f app.PacketFilter
			switch {
			case conversation != "":
				r, err := app.ParseRef(conversation)
				if err != nil {
					return usageError{fmt.Errorf("--conversation: %w", err)}
				}
				f.Evidence, f.Stream = r.Evidence, &r.N
			case evidence > 0:
				f.Evidence = evidence
				if frames != "" {
					a, b, ok := strings.Cut(frames, "-")
					var err1, err2 error
					f.From, err1 = strconv.ParseInt(a, 10, 64)
					if ok && b != "" {
						f.To, err2 = strconv.ParseInt(b, 10, 64)
					}
					if err1 != nil || err2 != nil || f.From < 1 || (f.To != 0 && f.To < f.From) {
						return usageError{fmt.Errorf("--frames %q: want A-B (1-based, inclusive) or A-", frames)}
					}
				}
				var err error
				if since != "" {
					if f.Since, err = parseTime(since); err != nil {
						return usageError{fmt.Errorf("--since: %w", err)}
					}
				}
				if until != "" {
					if f.Until, err = parseTime(until); err != nil {
						return usageError{fmt.Errorf("--until: %w", err)}
					}
				}
			default:
				return usageError{fmt.Errorf("give --conversation EVIDENCE:STREAM, or --evidence E")}
			}
			f.Limit = limit
			c, err := app.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			page, err := c.Packets(cmd.Context(), f)
			if err != nil {
				return err
			}
			t := &table{cols: page.Columns}
			for _, r := range page.Rows {
				t.add(r...)
			}
			if err := t.print(e.stdout, out); err != nil {
				return err
			}
			if page.More {
				fmt.Fprintf(e.stderr, "first %d packets shown: --limit for more\n", len(page.Rows))
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&conversation, "conversation", "", "EVIDENCE:STREAM, the stream as tshark's tcp.stream numbers it")
	fl.IntVar(&evidence, "evidence", 0, "the capture's evidence id")
	fl.StringVar(&frames, "frames", "", "A-B: frames A to B of --evidence")
	fl.StringVar(&since, "since", "", "from this time (with --evidence)")
	fl.StringVar(&until, "until", "", "to this time (with --evidence)")
	fl.IntVar(&limit, "limit", 10000, "packets at most")
	addOutputFlag(fl, &out)
	return c
}
