package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"dev.l4case/l4case/query"
	"github.com/spf13/pflag"
)

// output is the -o flag every row-printing command has.
type output string

const (
	outTable output = "table"
	outCSV   output = "csv"
	outJSON  output = "json"
)

func (o *output) String() string { return string(*o) }
func (o *output) Type() string   { return "table|csv|json" }
func (o *output) Set(s string) error {
	switch output(s) {
	case outTable, outCSV, outJSON:
		*o = output(s)
		return nil
	}
	return fmt.Errorf("must be table, csv or json")
}

func addOutputFlag(fs *pflag.FlagSet, o *output) {
	*o = outTable
	fs.VarP(o, "output", "o", "output format: table, csv or json (JSON lines)")
}

// table accumulates rows and prints them in the chosen format.
type table struct {
	cols []string
	rows [][]any
}

func (t *table) add(vals ...any) { t.rows = append(t.rows, vals) }

func (t *table) print(w io.Writer, o output) error {
	switch o {
	case outCSV:
		cw := csv.NewWriter(w)
		cw.Write(t.cols)
		for _, r := range t.rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = query.Text(v)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	case outJSON:
		enc := json.NewEncoder(w)
		for _, r := range t.rows {
			m := make(map[string]any, len(r))
			for i, v := range r {
				m[t.cols[i]] = query.JSONValue(v)
			}
			if err := enc.Encode(orderedRow{t.cols, m}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.cols, "\t")))
	for _, r := range t.rows {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = cell(query.Text(v))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// cell keeps a table cell on one line and within reason.
func cell(s string) string {
	s = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
	if utf8.RuneCountInString(s) > 80 {
		r := []rune(s)
		s = string(r[:79]) + "…"
	}
	return s
}

// orderedRow marshals a row as a JSON object with keys in column order.
type orderedRow struct {
	cols []string
	vals map[string]any
}

func (o orderedRow) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range o.cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		v, err := json.Marshal(o.vals[c])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}
