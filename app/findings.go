package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"dev.l4case/l4case/query"
)

// Finding is a bookmark with a note, kept in the case.
type Finding = query.Finding

// AddFinding stores a finding in the case and returns its number. Created
// and Author are filled in when empty.
func (c *Case) AddFinding(ctx context.Context, f Finding) (int, error) {
	if f.Created.IsZero() {
		f.Created = time.Now().UTC().Truncate(time.Second)
	}
	if f.Author == "" {
		f.Author = userName()
	}
	if f.Kind == "" {
		f.Kind = "note"
	}
	var id int
	err := c.write(ctx, func(db *sql.DB) error {
		var err error
		id, err = query.AddFinding(ctx, db, f)
		return err
	})
	return id, err
}

// RemoveFinding deletes a finding.
func (c *Case) RemoveFinding(ctx context.Context, id int) error {
	return c.write(ctx, func(db *sql.DB) error { return query.RemoveFinding(ctx, db, id) })
}

// Findings lists the case's findings.
func (c *Case) Findings(ctx context.Context) ([]Finding, error) {
	c.use.RLock()
	defer c.use.RUnlock()
	db, err := c.Reader()
	if err != nil {
		return nil, err
	}
	return query.Findings(ctx, db)
}

// ExportFindings writes the findings as csv or md (Markdown).
func (c *Case) ExportFindings(ctx context.Context, w io.Writer, format string) error {
	fs, err := c.Findings(ctx)
	if err != nil {
		return err
	}
	switch format {
	case "csv":
		return query.WriteFindingsCSV(w, fs)
	case "md", "markdown":
		return query.WriteFindingsMarkdown(w, c.Name(), fs)
	}
	return fmt.Errorf("findings format %q: use csv or md", format)
}

// write runs f on the case's writer: queries wait, and the reader is
// closed first (a process holds one kind of handle on the file); the
// manifest records that the database changed.
func (c *Case) write(ctx context.Context, f func(*sql.DB) error) error {
	c.use.Lock()
	defer c.use.Unlock()
	if err := c.closeReader(); err != nil {
		return err
	}
	db, err := query.OpenWriter(ctx, c.DBPath())
	if err != nil {
		return err
	}
	if err := errors.Join(f(db), checkpointClose(context.Background(), db)); err != nil {
		return err
	}
	c.mmu.Lock()
	defer c.mmu.Unlock()
	c.manifest.Modified = time.Now().UTC().Truncate(time.Second)
	c.manifest.Database = nil
	return writeManifest(c.Dir, c.manifest)
}

func userName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return n
	}
	return "unknown"
}

// TraceFinding is a finding that bookmarks a trace: how to trace it again,
// and what it showed.
func TraceFinding(key TraceKey, t *Trace, title, note string) Finding {
	if title == "" {
		title = strings.TrimSpace(fmt.Sprintf("%s %s %s: %s", t.Request.Method, t.Request.URI, statusWord(t.Request.Status), t.Outcome))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", t.Outcome, t.Why)
	for _, l := range t.Lanes {
		if l.Addr != "" || l.Label != "" {
			fmt.Fprintf(&b, "%-8s %s %s\n", l.ID, l.Addr, l.Label)
		}
	}
	for _, h := range t.Hops {
		if h.Status == "missing" {
			fmt.Fprintf(&b, "%s %s missing: %s\n", h.Step, h.Source, h.Reason)
			continue
		}
		fmt.Fprintf(&b, "%s %s %s: %s\n", h.Step, h.Source, h.Status, h.Summary)
	}
	return Finding{Kind: "trace", Ref: key.String(), Title: title, Note: note, Data: strings.TrimRight(b.String(), "\n")}
}

func statusWord(s int) string {
	if s == 0 {
		return ""
	}
	return fmt.Sprintf("→ %d", s)
}

// RowFinding is a finding that bookmarks one row of a view or a query.
func RowFinding(source string, columns, values []string, title, note string) Finding {
	row := map[string]string{}
	for i, c := range columns {
		if i < len(values) {
			row[c] = values[i]
		}
	}
	data, _ := json.Marshal(row)
	if title == "" {
		title = "a row of " + source
	}
	return Finding{Kind: "row", Ref: source, Title: title, Note: note, Data: string(data)}
}
