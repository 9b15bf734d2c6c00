package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"dev.l4case/l4case/app"
	"dev.l4case/l4case/query"
	"github.com/spf13/cobra"
)

func (e *env) newCmd() *cobra.Command {
	var name string
	c := &cobra.Command{
		Use:   "new CASE_DIR [--name NAME]",
		Short: "Create an empty case",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := app.New(cmd.Context(), args[0], name)
			if err != nil {
				return err
			}
			defer c.Close()
			fmt.Fprintf(e.stderr, "created case %q in %s\n", c.Name(), c.Dir)
			return nil
		},
	}
	c.Flags().StringVar(&name, "name", "", "case name (default: the folder's name)")
	return c
}

func (e *env) importCmd() *cobra.Command {
	var opts app.ImportOptions
	var out output
	var quiet bool
	progress, packets := "text", "none"
	c := &cobra.Command{
		Use:   "import CASE_DIR PATH...",
		Short: "Import evidence files and folders; kinds are detected from content",
		Long: `Import copies each file into the case (read-only, hashed) and reads it into the
case database, one transaction per file: Ctrl-C leaves the case as it was
before the file being imported. Folders are walked; files in them that are not
evidence are skipped. Records that cannot be parsed are kept in ingest_errors.

Kinds: ` + strings.Join(app.Kinds(), ", "),
		Args: minArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := app.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			if quiet {
				progress = "none"
			}
			if !slices.Contains(progressModes, progress) {
				return usageError{fmt.Errorf("--progress %q: want one of %s", progress, strings.Join(progressModes, ", "))}
			}
			if packets != "all" && packets != "none" {
				return usageError{fmt.Errorf("--packets %q: want none or all", packets)}
			}
			opts.Packets = packets
			rep := newImportDisplay(e.stderr, progress)
			report, err := c.Import(cmd.Context(), args[1:], opts, rep)
			rep.finish()
			if err != nil {
				return err
			}
			if err := printImport(e.stdout, report, out); err != nil {
				return err
			}
			imported, skipped, failed := report.Counts()
			if progress != "json" {
				fmt.Fprintf(e.stderr, "%d imported, %d skipped, %d failed\n", imported, skipped, failed)
			}
			if cmd.Context().Err() != nil {
				return fmt.Errorf("interrupted: the file being imported was rolled back; the case holds the %d files before it", imported)
			}
			if failed > 0 {
				for _, f := range report.Files {
					if f.Err != nil && progress != "json" {
						fmt.Fprintf(e.stderr, "error: %v\n", f.Err)
					}
				}
				return fmt.Errorf("%d file(s) failed", failed)
			}
			return nil
		},
	}
	c.Flags().StringVar(&opts.Kind, "kind", "", "force the importer instead of detecting it ("+strings.Join(app.Kinds(), ", ")+")")
	c.Flags().StringVar(&opts.Node, "node", "", "node the captures were taken on (default: NODE in .../pcap/NODE/file)")
	c.Flags().StringVar(&opts.FlowLogFormat, "flow-log-format", "", "format of header-less flow logs, as AWS writes it: '${version} ${vpc-id} ...'")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress on stderr (--progress none)")
	c.Flags().StringVar(&progress, "progress", progress, "progress on stderr: text, json (one object per tick, per file and at the end) or none")
	c.Flags().StringVar(&packets, "packets", packets, "captures: none (conversations, HTTP and PROXY; packets read back from the capture on demand: l4case packets, capture_packets) or all (also a packet_data row per packet, for SQL over every packet)")
	addOutputFlag(c.Flags(), &out)
	return c
}

// printImport prints what became of each file of an import.
func printImport(w io.Writer, report *app.ImportReport, out output) error {
	t := &table{cols: []string{"file", "kind", "evidence_id", "rows", "rejected", "result"}}
	for _, f := range report.Files {
		switch {
		case f.Err != nil:
			t.add(f.Name, f.Kind, nil, nil, nil, "error: "+firstLine(f.Err.Error()))
		case f.Evidence != nil:
			t.add(f.Name, f.Kind, f.Evidence.ID, f.Evidence.Rows, f.Evidence.Rejected, "imported")
		default:
			t.add(f.Name, f.Kind, nil, nil, nil, "skipped: "+f.Skipped)
		}
	}
	return t.print(w, out)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func (e *env) evidenceCmd() *cobra.Command {
	var out output
	c := &cobra.Command{
		Use:   "evidence CASE_DIR",
		Short: "List the evidence files in a case, with their hashes",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := app.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			t := &table{cols: []string{"id", "kind", "file", "size", "sha256", "rows", "rejected", "format", "node", "imported_at"}}
			for _, ev := range c.Evidence() {
				t.add(ev.ID, ev.Kind, ev.Name, ev.Size, ev.SHA256, ev.Rows, ev.Rejected, ev.Format, ev.Node, ev.ImportedAt)
			}
			return t.print(e.stdout, out)
		},
	}
	addOutputFlag(c.Flags(), &out)
	return c
}

func (e *env) errorsCmd() *cobra.Command {
	var out output
	var limit int
	c := &cobra.Command{
		Use:   "errors CASE_DIR",
		Short: "List the records import rejected, with file and line or offset",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.printQuery(cmd.Context(), args[0], app.IngestErrorsSQL(limit), out, limit)
		},
	}
	c.Flags().IntVar(&limit, "limit", 100, "rows to show")
	addOutputFlag(c.Flags(), &out)
	return c
}

func (e *env) queryCmd() *cobra.Command {
	var out output
	var limit int
	c := &cobra.Command{
		Use:   `query CASE_DIR "SQL"`,
		Short: "Run SQL over the case (read-only, sandboxed)",
		Long: `Run SQL over the case database. The SQL can read every table and view of the
case and nothing else: no files, no network, no extensions, no writes.

With -o table the first --limit rows are shown; -o csv and -o json stream the
whole result with DuckDB's own writer (timestamps in RFC 3339 UTC).`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.printQuery(cmd.Context(), args[0], args[1], out, limit)
		},
	}
	c.Flags().IntVar(&limit, "limit", 1000, "rows to show with -o table")
	addOutputFlag(c.Flags(), &out)
	return c
}

// printQuery prints the result of SQL over a case in the chosen format.
func (e *env) printQuery(ctx context.Context, dir, sqlText string, out output, limit int) error {
	c, err := app.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer c.Close()
	if out == outCSV || out == outJSON {
		f := query.CSV
		if out == outJSON {
			f = query.JSON
		}
		n, err := c.ExportTo(ctx, sqlText, e.stdout, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "%d rows\n", n)
		return nil
	}
	p, err := c.Console(ctx, sqlText, 0, limit)
	if err != nil {
		return err
	}
	t := &table{cols: p.Columns, rows: p.Rows}
	if err := t.print(e.stdout, outTable); err != nil {
		return err
	}
	if p.More {
		fmt.Fprintf(e.stderr, "(first %d rows; use --limit N, or -o csv for all)\n", limit)
	} else {
		fmt.Fprintf(e.stderr, "(%s)\n", plural(len(p.Rows), "row"))
	}
	return nil
}

func (e *env) packCmd() *cobra.Command {
	var outFile string
	var noEvidence bool
	c := &cobra.Command{
		Use:   "pack CASE_DIR --out FILE.l4case [--no-evidence]",
		Short: "Pack a case into one .l4case file to send to someone",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if outFile == "" {
				return usageError{fmt.Errorf("pack needs --out FILE.l4case")}
			}
			c, err := app.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Pack(cmd.Context(), outFile, noEvidence, e.byteProgress("packing")); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "\npacked %s into %s (%d evidence files%s)\n", c.Name(), outFile, len(c.Evidence()),
				map[bool]string{true: ", not included", false: ""}[noEvidence])
			return nil
		},
	}
	c.Flags().StringVar(&outFile, "out", "", "the .l4case file to write")
	c.Flags().BoolVar(&noEvidence, "no-evidence", false, "leave the evidence files out; send only the database and the manifest")
	return c
}

func (e *env) openCmd() *cobra.Command {
	var outDir string
	c := &cobra.Command{
		Use:   "open FILE.l4case --out CASE_DIR",
		Short: "Verify a .l4case file and unpack it into a case folder",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if outDir == "" {
				return usageError{fmt.Errorf("open needs --out CASE_DIR")}
			}
			c, err := app.OpenPack(cmd.Context(), args[0], outDir, app.DefaultLimits, e.byteProgress("verifying"))
			if err != nil {
				return err
			}
			defer c.Close()
			fmt.Fprintf(e.stderr, "\nverified and opened case %q in %s (%d evidence files)\n", c.Name(), outDir, len(c.Evidence()))
			return nil
		},
	}
	c.Flags().StringVar(&outDir, "out", "", "folder to unpack the case into")
	return c
}

func (e *env) verifyCmd() *cobra.Command {
	var out output
	c := &cobra.Command{
		Use:   "verify FILE.l4case|CASE_DIR",
		Short: "Recompute every hash against the manifest",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			checks, err := app.Verify(cmd.Context(), args[0], app.DefaultLimits)
			t := &table{cols: []string{"member", "status", "sha256"}}
			for _, c := range checks {
				sum := c.Got
				if sum == "" {
					sum = c.Want
				}
				t.add(c.Path, c.Status, sum)
			}
			if perr := t.print(e.stdout, out); perr != nil {
				return perr
			}
			if err == nil {
				fmt.Fprintf(e.stderr, "%s: all %d members match the manifest\n", args[0], len(checks))
			}
			return err
		},
	}
	addOutputFlag(c.Flags(), &out)
	return c
}

func (e *env) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print versions",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := app.VersionInfo(cmd.Context())
			fmt.Fprintf(e.stdout, "l4case %s\nschema %d\nduckdb %s\ngo %s\ninsert path %s\n",
				v.L4case, v.Schema, v.DuckDB, v.Go, v.InsertPath)
			return nil
		},
	}
}

// byteProgress prints "packing 45% 1.2 GiB/2.6 GiB" on stderr.
func (e *env) byteProgress(verb string) app.Progress {
	return func(done, total int64) {
		pct := 100.0
		if total > 0 {
			pct = float64(done) * 100 / float64(total)
		}
		fmt.Fprintf(e.stderr, "\r%s %5.1f%% %s/%s", verb, pct, app.SizeText(done), app.SizeText(total))
	}
}

// plural says "1 row", "2 rows".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
