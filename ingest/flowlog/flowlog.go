package flowlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"dev.l4case/l4case/ingest"
)

// Importer reads VPC flow logs.
type Importer struct{}

// Kind is "flowlog".
func (Importer) Kind() string { return "flowlog" }

var (
	parquetMagic = []byte("PAR1")
	flowLogIDRE  = regexp.MustCompile(`fl-[0-9a-f]{8,17}`)
)

// Detect accepts Parquet, CloudWatch Logs JSON exports whose first message
// is a flow log record, text whose first line is a flow log header or a
// default-format record (optionally after a CloudWatch export timestamp),
// and header-less text in the S3 layout of a flow log whose format must
// come from describe-flow-logs or --flow-log-format.
func (Importer) Detect(name string, head []byte) error {
	if bytes.HasPrefix(head, parquetMagic) {
		return nil
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) == 0 {
		return errors.New("empty")
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		msg, err := firstJSONMessage(trimmed)
		if err != nil {
			return err
		}
		if reason := fitsDefault(strings.Fields(msg)); reason != "" {
			return fmt.Errorf("JSON events, but the first message is not a version-2 flow log record: %s", reason)
		}
		return nil
	}
	line, _, _ := bytes.Cut(trimmed, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	if _, ok := parseHeader(line); ok {
		return nil
	}
	toks := strings.Fields(string(line))
	if len(toks) > 0 && isExportTimestamp(toks[0]) {
		toks = toks[1:]
	}
	reason := fitsDefault(toks)
	if reason == "" {
		return nil
	}
	if strings.Contains(name, "vpcflowlogs") || flowLogIDRE.MatchString(name) {
		// Header-less delivery in a custom format: the format must come
		// from describe-flow-logs or --flow-log-format; Import says so.
		return nil
	}
	return fmt.Errorf("line 1 is neither a flow log header nor a version-2 record: %s", reason)
}

// fitsDefault says why tokens are not a default-format (v2) record, or "".
func fitsDefault(toks []string) string {
	if len(toks) != 14 {
		return fmt.Sprintf("%d fields, version 2 has 14", len(toks))
	}
	if _, err := strconv.Atoi(toks[0]); err != nil {
		return fmt.Sprintf("version %q is not a number", toks[0])
	}
	if toks[2] != "-" && !strings.HasPrefix(toks[2], "eni-") {
		return fmt.Sprintf("interface-id %q is not eni-...", toks[2])
	}
	switch toks[12] {
	case "ACCEPT", "REJECT", "-":
	default:
		return fmt.Sprintf("action %q is not ACCEPT or REJECT", toks[12])
	}
	switch toks[13] {
	case "OK", "NODATA", "SKIPDATA":
	default:
		return fmt.Sprintf("log-status %q is not OK, NODATA or SKIPDATA", toks[13])
	}
	return ""
}

func isExportTimestamp(s string) bool {
	if len(s) < 20 || s[4] != '-' || s[10] != 'T' {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// Import reads one flow log file.
func (Importer) Import(ctx context.Context, src *ingest.Source, w *ingest.Writer) (string, error) {
	rc, err := src.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	head, _ := br.Peek(4)
	if bytes.Equal(head, parquetMagic) {
		return importParquet(ctx, src, w)
	}
	p, err := newParser(w)
	if err != nil {
		return "", err
	}
	for {
		b, err := br.Peek(1)
		if err != nil || (b[0] != ' ' && b[0] != '\n' && b[0] != '\r' && b[0] != '\t') {
			break
		}
		br.ReadByte()
	}
	if b, _ := br.Peek(1); len(b) == 1 && (b[0] == '{' || b[0] == '[') {
		return p.json(ctx, src, br)
	}
	return p.text(ctx, src, br)
}

// formatFor finds the format of a header-less file.
func formatFor(src *ingest.Source) (*Format, error) {
	if src.Opts.FlowLogFormat != "" {
		return ParseFormat(src.Opts.FlowLogFormat, "--flow-log-format")
	}
	for _, id := range flowLogIDRE.FindAllString(src.Name, -1) {
		if lf, ok := src.Opts.FlowLogFormats[id]; ok {
			return ParseFormat(lf, "describe-flow-logs "+id)
		}
	}
	return defaultFormat, nil
}

type parser struct {
	w      *ingest.Writer
	t      *ingest.Table
	f      *Format
	id     int64
	toks   [][]byte
	ints   []int64
	null   []bool
	extraK []string
	extraV []string
	col    []int // table column of each format field
	colExt int   // extra, or -1
	colSrc int   // first of src_hi, src_lo, dst_hi, dst_lo, or -1
	srcAt  int   // format position of srcaddr, or -1
	dstAt  int
}

func newParser(w *ingest.Writer) (*parser, error) {
	return &parser{w: w, id: int64(w.Source().ID)}, nil
}

// setFormat fixes the record layout and opens the table with just the
// columns the format has: DuckDB's cost grows with every column inserted,
// even all-NULL ones.
func (p *parser) setFormat(f *Format) error {
	p.f = f
	p.ints = make([]int64, len(f.Names))
	p.null = make([]bool, len(f.Names))
	p.col = make([]int, len(f.Names))
	p.colExt, p.colSrc, p.srcAt, p.dstAt = -1, -1, -1, -1
	cols := []string{"evidence_id", "line"}
	for j, k := range f.known {
		if k < 0 {
			continue
		}
		p.col[j] = len(cols)
		cols = append(cols, fields[k].column)
		switch fields[k].name {
		case "srcaddr":
			p.srcAt = j
		case "dstaddr":
			p.dstAt = j
		}
	}
	if len(f.Unknown()) > 0 {
		p.colExt = len(cols)
		cols = append(cols, "extra")
	}
	if p.srcAt >= 0 && p.dstAt >= 0 {
		p.colSrc = len(cols)
		cols = append(cols, "src_hi:UBIGINT", "src_lo:UBIGINT", "dst_hi:UBIGINT", "dst_lo:UBIGINT")
	}
	if p.w == nil {
		return nil // fuzzing: parse only
	}
	t, err := p.w.Records("flow_logs", cols...)
	if err != nil {
		return err
	}
	if p.colSrc >= 0 {
		t.Derive("src_ip", "(src_hi::UHUGEINT << 64) + src_lo")
		t.Derive("dst_ip", "(dst_hi::UHUGEINT << 64) + dst_lo")
	}
	p.t = t
	for _, u := range f.Unknown() {
		p.w.Note(fmt.Sprintf("field %s is not one l4case knows: kept in flow_logs.extra", u))
	}
	return nil
}

func (p *parser) text(ctx context.Context, src *ingest.Source, r io.Reader) (string, error) {
	lr := ingest.NewLineReader(r)
	stripTS := false
	first := true
	err := lr.Each(ctx, src.Name, func(line []byte, n int64) error {
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		if first {
			first = false
			if f, ok := parseHeader(line); ok {
				return p.setFormat(f)
			}
			f, err := formatFor(src)
			if err != nil {
				return err
			}
			toks := strings.Fields(string(line))
			if len(toks) == len(f.Names)+1 && isExportTimestamp(toks[0]) {
				stripTS = true
				toks = toks[1:]
			}
			if f == defaultFormat {
				if reason := fitsDefault(toks); reason != "" {
					return fmt.Errorf("%s: header-less flow log whose records do not fit the default version-2 format (%s); "+
						"give its format with --flow-log-format '${version} ...' or import the describe-flow-logs output that has its FlowLogId", src.Name, reason)
				}
				f = &Format{Names: f.Names, known: f.known, From: "default v2 (no header)"}
			}
			if err := p.setFormat(f); err != nil {
				return err
			}
		}
		if lr.Long {
			p.w.Reject(n, "line", string(line), fmt.Sprintf("line longer than %d bytes", ingest.MaxLine))
			return nil
		}
		rec := line
		if stripTS {
			if i := bytes.IndexAny(rec, " \t"); i > 0 && isExportTimestamp(string(rec[:i])) {
				rec = rec[i+1:]
			}
		}
		if reason := p.record(rec, n); reason != "" {
			p.w.Reject(n, "line", string(line), reason)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if p.f == nil {
		return "flow log text (empty)", nil
	}
	from := p.f.From
	if stripTS {
		from += ", CloudWatch export timestamps"
	}
	return fmt.Sprintf("flow log text, %d fields (%s)", len(p.f.Names), from), nil
}

// record parses one record and appends it, or says why it cannot.
func (p *parser) record(line []byte, n int64) string {
	if reason := p.parse(line); reason != "" {
		return reason
	}
	p.emit(n)
	return ""
}

// parse splits and validates a record into the parser's staging fields
// without touching the table: a row is appended whole or not at all.
func (p *parser) parse(line []byte) string {
	p.toks = ingest.Fields(p.toks, line)
	f := p.f
	if len(p.toks) != len(f.Names) {
		return fmt.Sprintf("%d fields, the format has %d (%s)", len(p.toks), len(f.Names), f.String())
	}
	p.extraK, p.extraV = p.extraK[:0], p.extraV[:0]
	for j, tok := range p.toks {
		k := f.known[j]
		p.null[j] = len(tok) == 1 && tok[0] == '-'
		if k < 0 {
			p.extraK = append(p.extraK, f.Names[j])
			p.extraV = append(p.extraV, string(tok))
			continue
		}
		if p.null[j] {
			continue
		}
		switch fields[k].typ {
		case tInt:
			v, err := strconv.ParseInt(unsafeString(tok), 10, 32)
			if err != nil {
				return fmt.Sprintf("field %s: %q is not a 32-bit integer", f.Names[j], tok)
			}
			p.ints[j] = v
		case tBig, tTime:
			v, err := strconv.ParseInt(unsafeString(tok), 10, 64)
			if err != nil {
				return fmt.Sprintf("field %s: %q is not an integer", f.Names[j], tok)
			}
			if fields[k].typ == tTime && (v < 0 || v > 1<<36) {
				return fmt.Sprintf("field %s: %d is not a Unix time in seconds", f.Names[j], v)
			}
			p.ints[j] = v
		}
	}
	return ""
}

// emit appends the parsed record as row of line n.
func (p *parser) emit(n int64) {
	f, t := p.f, p.t
	t.Int(0, p.id)
	t.Int(1, n)
	for j, tok := range p.toks {
		k := f.known[j]
		if k < 0 || p.null[j] {
			continue
		}
		col := p.col[j]
		switch fields[k].typ {
		case tStr:
			t.Str(col, unsafeString(tok))
		case tInt, tBig:
			t.Int(col, p.ints[j])
		case tTime:
			t.Nanos(col, p.ints[j]*1e9)
			if fields[k].name == "start" {
				p.w.SeeTime(time.Unix(p.ints[j], 0))
			}
		}
	}
	if len(p.extraK) > 0 {
		t.Map(p.colExt, p.extraK, p.extraV)
	}
	if p.colSrc >= 0 {
		for i, at := range []int{p.srcAt, p.dstAt} {
			if p.null[at] {
				continue
			}
			if hi, lo, ok := ingest.IPNumber(unsafeString(p.toks[at])); ok {
				t.Uint(p.colSrc+2*i, hi)
				t.Uint(p.colSrc+2*i+1, lo)
			}
		}
	}
	t.Row()
}

// unsafeString views b as a string without copying; the writer copies it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// cwEvent is one event of `aws logs filter-log-events` / `get-log-events`.
type cwEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
}

// json reads CloudWatch Logs JSON: {"events": [{"message": "2 123 eni-..."}, ...], ...}
// or a bare array of events. Each event's message is one record, numbered
// by its position in the events array.
func (p *parser) json(ctx context.Context, src *ingest.Source, r io.Reader) (string, error) {
	dec := json.NewDecoder(r)
	pos := func(err error) error {
		return &ingest.PosError{ErrorPos: ingest.ErrorPos{File: src.Name, Unit: "byte", N: dec.InputOffset()}, Err: err}
	}
	if err := seekEvents(dec); err != nil {
		return "", pos(err)
	}
	f, err := formatFor(src)
	if err != nil {
		return "", err
	}
	if err := p.setFormat(f); err != nil {
		return "", err
	}
	var n int64
	for dec.More() {
		n++
		if n&0x3fff == 0 && ctx.Err() != nil {
			return "", ctx.Err()
		}
		var ev cwEvent
		if err := dec.Decode(&ev); err != nil {
			return "", pos(fmt.Errorf("event %d: %w", n, err))
		}
		if reason := p.record([]byte(ev.Message), n); reason != "" {
			p.w.Reject(n, "event", ev.Message, reason)
		}
	}
	return fmt.Sprintf("flow log CloudWatch Logs JSON, %d fields (%s)", len(f.Names), f.From), nil
}

// seekEvents moves dec inside the events array.
func seekEvents(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == json.Delim('[') {
		return nil
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("expected a JSON object with events, found %v", tok)
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		if key == "events" {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if tok != json.Delim('[') {
				return errors.New(`"events" is not an array`)
			}
			return nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return errors.New(`no "events" array`)
}

// firstJSONMessage finds the first event message in the head of a JSON file.
func firstJSONMessage(head []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(head))
	if err := seekEvents(dec); err != nil {
		return "", fmt.Errorf("JSON but not CloudWatch Logs events: %v", err)
	}
	if !dec.More() {
		return "", errors.New("CloudWatch Logs JSON with no events")
	}
	var ev cwEvent
	if err := dec.Decode(&ev); err != nil {
		return "", fmt.Errorf("JSON events: %v", err)
	}
	return ev.Message, nil
}
