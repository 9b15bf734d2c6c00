package query

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed views/*.sql
var viewFiles embed.FS

//go:embed derive.sql
var deriveSQL string

//go:embed derive_requests.sql
var deriveRequestsSQL string

// View is a saved query: one .sql file in query/views whose header names it.
type View struct {
	Name        string
	Title       string
	Description string
	Params      []Param
	SQL         string // the body, with $param placeholders
}

// Param is a view parameter; a parameter not given is NULL, which a view
// reads as "no filter" (or its documented default).
type Param struct {
	Name string
	Type string // VARCHAR, INTEGER, DOUBLE, BOOLEAN, TIMESTAMPTZ
	Doc  string
}

var (
	headerRE = regexp.MustCompile(`^-- (name|title|description): (.*)$`)
	paramRE  = regexp.MustCompile(`^-- param: ([a-z_]+) (VARCHAR|INTEGER|DOUBLE|BOOLEAN|TIMESTAMPTZ) -- (.*)$`)
	placeRE  = regexp.MustCompile(`\$([a-z_]+)\b`)
)

var views = mustLoadViews()

func mustLoadViews() []View {
	vs, err := loadViews()
	if err != nil {
		panic(err) // a malformed view file is a build defect; TestViewsParse names it
	}
	return vs
}

func loadViews() ([]View, error) {
	entries, err := viewFiles.ReadDir("views")
	if err != nil {
		return nil, err
	}
	var out []View
	for _, e := range entries {
		b, err := viewFiles.ReadFile(path.Join("views", e.Name()))
		if err != nil {
			return nil, err
		}
		v, err := parseView(string(b))
		if err != nil {
			return nil, fmt.Errorf("query/views/%s: %w", e.Name(), err)
		}
		if v.Name+".sql" != e.Name() {
			return nil, fmt.Errorf("query/views/%s: name %q does not match the file", e.Name(), v.Name)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func parseView(text string) (View, error) {
	var v View
	var body []string
	inHeader := true
	for _, line := range strings.Split(text, "\n") {
		if inHeader {
			if m := headerRE.FindStringSubmatch(line); m != nil {
				switch m[1] {
				case "name":
					v.Name = m[2]
				case "title":
					v.Title = m[2]
				case "description":
					v.Description = m[2]
				}
				continue
			}
			if m := paramRE.FindStringSubmatch(line); m != nil {
				v.Params = append(v.Params, Param{Name: m[1], Type: m[2], Doc: m[3]})
				continue
			}
			if strings.HasPrefix(line, "-- ") {
				return v, fmt.Errorf("header line %q is not name, title, description or param", line)
			}
			inHeader = false
		}
		body = append(body, line)
	}
	v.SQL = strings.TrimSpace(strings.Join(body, "\n"))
	if v.Name == "" || v.Title == "" || v.Description == "" || v.SQL == "" {
		return v, fmt.Errorf("needs name, title, description and a query")
	}
	known := map[string]bool{}
	for _, p := range v.Params {
		known[p.Name] = true
	}
	for _, m := range placeRE.FindAllStringSubmatch(v.SQL, -1) {
		if !known[m[1]] {
			return v, fmt.Errorf("$%s is not a declared param", m[1])
		}
	}
	return v, nil
}

// Views lists the saved views.
func Views() []View { return append([]View(nil), views...) }

// LookupView finds a view by name.
func LookupView(name string) (View, error) {
	for _, v := range views {
		if v.Name == name {
			return v, nil
		}
	}
	var names []string
	for _, v := range views {
		names = append(names, v.Name)
	}
	return View{}, fmt.Errorf("no view %q (views: %s)", name, strings.Join(names, ", "))
}

// Render returns the view's SQL with its parameters as typed literals.
// Values are checked against the parameter's type; a parameter not given
// is NULL.
func (v View) Render(args map[string]string) (string, error) {
	types := map[string]string{}
	for _, p := range v.Params {
		types[p.Name] = p.Type
	}
	for k := range args {
		if _, ok := types[k]; !ok {
			var names []string
			for _, p := range v.Params {
				names = append(names, p.Name)
			}
			return "", fmt.Errorf("view %s has no parameter %q (it takes: %s)", v.Name, k, strings.Join(names, ", "))
		}
	}
	lits := map[string]string{}
	for name, typ := range types {
		val, ok := args[name]
		if !ok || val == "" {
			lits[name] = "NULL::" + typ
			continue
		}
		lit, err := literal(typ, val)
		if err != nil {
			return "", fmt.Errorf("parameter %s: %w", name, err)
		}
		lits[name] = lit
	}
	return placeRE.ReplaceAllStringFunc(v.SQL, func(s string) string { return lits[s[1:]] }), nil
}

func literal(typ, val string) (string, error) {
	switch typ {
	case "VARCHAR":
		return quoteSQL(val), nil
	case "INTEGER":
		n, err := strconv.ParseInt(val, 10, 32)
		if err != nil {
			return "", fmt.Errorf("%q is not an integer", val)
		}
		return strconv.FormatInt(n, 10), nil
	case "DOUBLE":
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return "", fmt.Errorf("%q is not a number", val)
		}
		return strconv.FormatFloat(f, 'g', -1, 64) + "::DOUBLE", nil
	case "BOOLEAN":
		b, err := strconv.ParseBool(val)
		if err != nil {
			return "", fmt.Errorf("%q is not true or false", val)
		}
		return strconv.FormatBool(b), nil
	case "TIMESTAMPTZ":
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
			if t, err := time.Parse(layout, val); err == nil {
				return "TIMESTAMPTZ '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "+00'", nil
			}
		}
		return "", fmt.Errorf("%q is not a time (RFC 3339, or 2006-01-02 15:04:05 in UTC)", val)
	}
	return "", fmt.Errorf("unknown type %s", typ)
}

// Derive rebuilds the tables computed from the flow logs and the ENI
// snapshots (flow_log_sources, flow_conversations) on a writer
// connection, in one transaction.
func Derive(ctx context.Context, db *sql.DB) error {
	var rows int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM flow_logs").Scan(&rows); err != nil {
		return err
	}
	// Pairing sorts and aggregates every flow log row, which needs more
	// than the buffer pool importers get (WriterMemoryLimit), but not the
	// whole machine: DuckDB fills what it is given.
	if err := derive(ctx, db, "derive_pending", deriveSQL, deriveMemoryMB(rows)); err != nil {
		return fmt.Errorf("deriving flow_conversations: %w", err)
	}
	return nil
}

// DeriveRequests rebuilds request_path_rows, which joins every evidence
// kind (and flow_conversations: after Derive).
func DeriveRequests(ctx context.Context, db *sql.DB) error {
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM elb_logs) + (SELECT count(*) FROM http_messages)").Scan(&n); err != nil {
		return err
	}
	err := derive(ctx, db, "requests_pending", deriveRequestsSQL, requestsMemoryMB(n))
	if isOutOfMemory(err) {
		// The estimate fell short: once more with a quarter of the machine.
		err = derive(ctx, db, "requests_pending", deriveRequestsSQL, max(machineMemoryMB()/4, 1024))
	}
	if err != nil {
		return fmt.Errorf("deriving request_path_rows: %w", err)
	}
	return nil
}

// requestsMemoryMB is the buffer pool for joining the paths of n ELB lines
// and HTTP messages, so that an import stays small where little is joined
// (the 1 GiB a capture's import is allowed). Measured on the medium bench
// case: 395 k HTTP messages alone ran out with 256 MB and fit in 512 MB;
// with 2.0 M ELB lines more, 800 MB ran out and 1 GB fit.
func requestsMemoryMB(n int64) int64 {
	return min(max(256+n*400/1_000_000, 512), max(machineMemoryMB()/4, 1024))
}

// derive runs sqlText in one transaction with DuckDB's buffer pool at
// memoryMB, marked pending in case_meta until it commits: an interrupted
// derivation runs again at the next import, whatever that import brings.
func derive(ctx context.Context, db *sql.DB, pending, sqlText string, memoryMB int64) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var limit string
	if err := conn.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&limit); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET memory_limit = '%dMB'", memoryMB)); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), "SET memory_limit = "+quoteSQL(limit))
	if _, err := conn.ExecContext(ctx, "INSERT OR REPLACE INTO case_meta VALUES (?, 'true')", pending); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, sqlText); err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM case_meta WHERE key = ?", pending); err != nil {
		conn.ExecContext(context.Background(), "ROLLBACK")
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// DerivePending reports whether a Derive was interrupted since it last
// completed, DeriveRequestsPending the same of DeriveRequests.
func DerivePending(ctx context.Context, db *sql.DB) (bool, error) {
	return isPending(ctx, db, "derive_pending")
}

func DeriveRequestsPending(ctx context.Context, db *sql.DB) (bool, error) {
	return isPending(ctx, db, "requests_pending")
}

// MarkPending records that Derive (flows) and DeriveRequests (requests)
// owe the case a run: files were imported and the import was cancelled
// before the derivation, which then runs at the next import.
func MarkPending(ctx context.Context, db *sql.DB, flows, requests bool) error {
	for key, on := range map[string]bool{"derive_pending": flows, "requests_pending": requests} {
		if !on {
			continue
		}
		if _, err := db.ExecContext(ctx, "INSERT OR REPLACE INTO case_meta VALUES (?, 'true')", key); err != nil {
			return err
		}
	}
	return nil
}

func isPending(ctx context.Context, db *sql.DB, key string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM case_meta WHERE key = ?", key).Scan(&n)
	return n > 0, err
}

// deriveMemoryMB is the buffer pool for pairing n flow log rows: 128 bytes
// a row, at least 1 GB and at most 60 % of the machine. Measured on 16.4 M rows: 512 MB runs out,
// 1 GB takes 64 s at 1.2 GB RSS, 2 GB 59 s; unbounded, DuckDB took 4 GB.
func deriveMemoryMB(n int64) int64 {
	return min(max(n*128/1_000_000, 1000), machineMemoryMB()*6/10)
}

// machineMemoryMB is the machine's memory, or 6.6 GB where /proc/meminfo
// does not say.
func machineMemoryMB() int64 {
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil && kb > 0 {
			return kb / 1000
		}
	}
	return 6666
}
