package query

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Text renders a value the driver returned for display and CSV: NULL as
// empty, times as RFC 3339 UTC, maps and lists as DuckDB prints them.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return `\x` + hex.EncodeToString(x)
	case bool:
		return strconv.FormatBool(x)
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		return fmt.Sprint(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case *big.Int:
		return x.String()
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case duckdb.Map:
		keys := make([]string, 0, len(x))
		byKey := map[string]any{}
		for k, v := range x {
			ks := Text(k)
			keys = append(keys, ks)
			byKey[ks] = v
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + Text(byKey[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Text(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + Text(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case duckdb.Interval:
		d := time.Duration(x.Micros) * time.Microsecond
		s := d.String()
		if x.Days != 0 || x.Months != 0 {
			s = fmt.Sprintf("%dmon %dd %s", x.Months, x.Days, s)
		}
		return s
	}
	return fmt.Sprint(v)
}

// JSONValue converts a driver value into something encoding/json renders
// faithfully: times as RFC 3339 UTC, big integers as numbers, maps with
// string keys.
func JSONValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case *big.Int:
		return jsonNumber(x.String())
	case duckdb.Map:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[Text(k)] = JSONValue(v)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = JSONValue(e)
		}
		return out
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = JSONValue(v)
		}
		return m
	case duckdb.Interval, []byte:
		return Text(x)
	}
	return v
}

type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }
