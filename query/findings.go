package query

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
)

// Finding is a bookmark an engineer made with a note: a trace, a result
// row, or a plain note. Findings live in the case database, so they travel
// inside a .l4case.
type Finding struct {
	ID      int       `json:"finding_id"`
	Created time.Time `json:"created"`
	Author  string    `json:"author"`
	Kind    string    `json:"kind"` // trace, row, note
	Ref     string    `json:"ref"`
	Title   string    `json:"title"`
	Note    string    `json:"note"`
	Data    string    `json:"data"`
}

// AddFinding stores f under the next number, on a writer, and returns it.
func AddFinding(ctx context.Context, db *sql.DB, f Finding) (int, error) {
	if strings.TrimSpace(f.Title) == "" {
		return 0, fmt.Errorf("a finding needs a title")
	}
	var id int
	err := db.QueryRowContext(ctx, `INSERT INTO findings
		SELECT coalesce(max(finding_id), 0) + 1, ?, ?, ?, ?, ?, ?, ? FROM findings RETURNING finding_id`,
		f.Created.UTC(), f.Author, f.Kind, f.Ref, f.Title, f.Note, f.Data).Scan(&id)
	return id, err
}

// RemoveFinding deletes finding id; it says when there is none.
func RemoveFinding(ctx context.Context, db *sql.DB, id int) error {
	res, err := db.ExecContext(ctx, `DELETE FROM findings WHERE finding_id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no finding #%d in the case", id)
	}
	return nil
}

// Findings lists the case's findings in order.
func Findings(ctx context.Context, db *sql.DB) ([]Finding, error) {
	rows, err := db.QueryContext(ctx, `SELECT finding_id, created, coalesce(author, ''), coalesce(kind, ''), coalesce(ref, ''),
		coalesce(title, ''), coalesce(note, ''), coalesce(data, '') FROM findings ORDER BY finding_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		if err := rows.Scan(&f.ID, &f.Created, &f.Author, &f.Kind, &f.Ref, &f.Title, &f.Note, &f.Data); err != nil {
			return nil, err
		}
		f.Created = f.Created.UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// WriteFindingsCSV writes findings as RFC 4180 CSV with a header row.
func WriteFindingsCSV(w io.Writer, fs []Finding) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"finding_id", "created", "author", "kind", "ref", "title", "note", "data"})
	for _, f := range fs {
		cw.Write([]string{fmt.Sprint(f.ID), f.Created.Format(time.RFC3339), f.Author, f.Kind, f.Ref, f.Title, f.Note, f.Data})
	}
	cw.Flush()
	return cw.Error()
}

// WriteFindingsMarkdown writes findings as a Markdown report: a section
// per finding, its note as written, what it points at and what was seen.
func WriteFindingsMarkdown(w io.Writer, caseName string, fs []Finding) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Findings: %s\n\n", caseName)
	if len(fs) == 0 {
		b.WriteString("No findings yet.\n")
	}
	for _, f := range fs {
		fmt.Fprintf(&b, "## %d. %s\n\n", f.ID, f.Title)
		fmt.Fprintf(&b, "*%s, %s, %s*", f.Kind, f.Author, f.Created.Format("2006-01-02 15:04 MST"))
		if f.Ref != "" {
			fmt.Fprintf(&b, " — `%s`", strings.ReplaceAll(f.Ref, "`", "'"))
		}
		b.WriteString("\n\n")
		if f.Note != "" {
			b.WriteString(f.Note + "\n\n")
		}
		if f.Data != "" {
			b.WriteString("```\n" + strings.ReplaceAll(f.Data, "```", "'''") + "\n```\n\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
