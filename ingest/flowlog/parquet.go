package flowlog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"dev.l4case/l4case/ingest"
)

// importParquet lets DuckDB read S3 Parquet delivery itself: it already
// streams row groups and knows the types. Columns are matched by name
// (AWS writes them with underscores); unknown ones go to extra.
func importParquet(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	path := "'" + strings.ReplaceAll(src.Path, "'", "''") + "'"
	var names []string
	err := w.Do(func(c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, `SELECT name FROM parquet_schema(`+path+`) WHERE num_children IS NULL OR num_children = 0`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return err
			}
			names = append(names, n)
		}
		return rows.Err()
	})
	if err != nil {
		return "", fmt.Errorf("%s: reading Parquet schema: %w", src.Name, err)
	}
	f, err := newFormat(names, "parquet")
	if err != nil {
		return "", fmt.Errorf("%s: Parquet columns are not flow log fields: %w", src.Name, err)
	}
	if unknownShare := len(f.Unknown()); unknownShare*2 > len(f.Names) {
		return "", fmt.Errorf("%s: Parquet file, but most columns (%s) are not flow log fields", src.Name, strings.Join(f.Unknown(), ", "))
	}
	cols := []string{"evidence_id", "line"}
	exprs := []string{fmt.Sprint(src.ID), "file_row_number + 1"}
	var extra []string
	for i, name := range f.Names {
		q := `"` + strings.ReplaceAll(names[i], `"`, `""`) + `"`
		k := f.known[i]
		if k < 0 {
			extra = append(extra, fmt.Sprintf("'%s': CAST(%s AS VARCHAR)", name, q))
			continue
		}
		cols = append(cols, fields[k].column)
		switch fields[k].typ {
		case tTime:
			exprs = append(exprs, fmt.Sprintf("to_timestamp(CAST(%s AS BIGINT))", q))
		case tInt:
			exprs = append(exprs, fmt.Sprintf("CAST(%s AS INTEGER)", q))
		case tBig:
			exprs = append(exprs, fmt.Sprintf("CAST(%s AS BIGINT)", q))
		default:
			exprs = append(exprs, fmt.Sprintf("nullif(CAST(%s AS VARCHAR), '-')", q))
		}
	}
	for i, name := range f.Names {
		if name == "srcaddr" || name == "dstaddr" {
			cols = append(cols, map[string]string{"srcaddr": "src_ip", "dstaddr": "dst_ip"}[name])
			exprs = append(exprs, fmt.Sprintf(`ip_num(CAST("%s" AS VARCHAR))`, strings.ReplaceAll(names[i], `"`, `""`)))
		}
	}
	if len(extra) > 0 {
		cols = append(cols, "extra")
		exprs = append(exprs, "MAP {"+strings.Join(extra, ", ")+"}")
		for _, u := range f.Unknown() {
			w.Note(fmt.Sprintf("field %s is not one l4case knows: kept in flow_logs.extra", u))
		}
	}
	q := fmt.Sprintf("INSERT INTO flow_logs (%s) SELECT %s FROM read_parquet(%s, file_row_number = true)",
		strings.Join(cols, ", "), strings.Join(exprs, ", "), path)
	res, err := w.Exec(ctx, q)
	if err != nil {
		return "", fmt.Errorf("%s: %w", src.Name, err)
	}
	n, _ := res.RowsAffected()
	w.AddRecords(n)
	var first, last sql.NullTime
	err = w.QueryRow(ctx, `SELECT min(start_time), max(start_time) FROM flow_logs WHERE evidence_id = ?`, []any{src.ID}, &first, &last)
	if err == nil && first.Valid {
		w.SeeTime(first.Time)
		w.SeeTime(last.Time)
	}
	return fmt.Sprintf("flow log Parquet, %d fields", len(f.Names)), nil
}
