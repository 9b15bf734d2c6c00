package cli

import (
	"fmt"
	"os"
	"strconv"

	"dev.l4case/l4case/app"
	"github.com/spf13/cobra"
)

func (e *env) findingsCmd() *cobra.Command {
	var out output
	var title, note, requestID, client, format, outFile string
	c := &cobra.Command{
		Use:   "findings CASE_DIR [list | add --title T [--note N] [--trace REQUEST-ID | --client IP:PORT] | rm ID | export --format md|csv [--out FILE]]",
		Short: "List, add, remove and export the case's findings (bookmarks with notes)",
		Long: `Findings are what an engineer bookmarked with a note: a request's trace, a row
of a view, or a plain note. They are stored in the case database, so they
travel inside a .l4case. The GUI makes them from the Timeline and any result
row; here, add one by hand or from a trace (--trace or --client: the
trace's outcome and hops are kept with it).`,
		Args: rangeArgs(1, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			action := "list"
			if len(args) > 1 {
				action = args[1]
			}
			ctx := cmd.Context()
			c, err := app.Open(ctx, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			switch action {
			case "list":
				fs, err := c.Findings(ctx)
				if err != nil {
					return err
				}
				t := &table{cols: []string{"finding_id", "created", "author", "kind", "ref", "title", "note"}}
				for _, f := range fs {
					t.add(f.ID, f.Created, f.Author, f.Kind, f.Ref, f.Title, f.Note)
				}
				return t.print(e.stdout, out)
			case "add":
				var f app.Finding
				switch {
				case requestID != "" && client != "":
					return usageError{fmt.Errorf("give --trace or --client, not both")}
				case requestID != "" || client != "":
					key := app.TraceKey{RequestID: requestID, Client: client}
					t, err := c.Trace(ctx, key)
					if err != nil {
						return err
					}
					f = app.TraceFinding(key, t, title, note)
				case title == "":
					return usageError{fmt.Errorf("findings add needs --title (or --trace / --client)")}
				default:
					f = app.Finding{Kind: "note", Title: title, Note: note}
				}
				id, err := c.AddFinding(ctx, f)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "added finding #%d: %s\n", id, f.Title)
				return nil
			case "rm":
				if len(args) != 3 {
					return usageError{fmt.Errorf("findings CASE rm ID")}
				}
				id, err := strconv.Atoi(args[2])
				if err != nil {
					return usageError{fmt.Errorf("finding id %q is not a number", args[2])}
				}
				if err := c.RemoveFinding(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "removed finding #%d\n", id)
				return nil
			case "export":
				w := e.stdout
				if outFile != "" && outFile != "-" {
					f, err := os.Create(outFile)
					if err != nil {
						return err
					}
					defer f.Close()
					w = f
				}
				if err := c.ExportFindings(ctx, w, format); err != nil {
					return usageError{err}
				}
				if outFile != "" && outFile != "-" {
					fmt.Fprintf(e.stderr, "wrote %s\n", outFile)
				}
				return nil
			}
			return usageError{fmt.Errorf("findings: unknown action %q (list, add, rm, export)", action)}
		},
	}
	f := c.Flags()
	f.StringVar(&title, "title", "", "add: one line saying what it is")
	f.StringVar(&note, "note", "", "add: the note")
	f.StringVar(&requestID, "trace", "", "add: bookmark the trace of the request with this request-id")
	f.StringVar(&client, "client", "", "add: bookmark the trace of the request of this client IP:PORT")
	f.StringVar(&format, "format", "md", "export: md (a Markdown report) or csv")
	f.StringVar(&outFile, "out", "", "export: write to this file instead of stdout")
	addOutputFlag(f, &out)
	return c
}
