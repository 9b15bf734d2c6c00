package ingest

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// rowGroup is DuckDB's row group size: batches of exactly this many rows
// are written as whole row groups, not merged again at commit.
const rowGroup = 122880

// Table accumulates rows for one database table.
type Table struct {
	w         *Writer
	name      string
	cols      []*column
	schema    *arrow.Schema
	bld       *array.RecordBuilder
	set       []bool
	n         int
	batch     int
	total     int64
	records   bool     // rows are the file's records
	targets   []string // table columns inserted
	exprs     []string // the SELECT expression for each
	insertSQL string
	state     any // per-build insertion state
}

// SetBatch sets how many rows go to DuckDB at once (default: a row group).
func (t *Table) SetBatch(n int) { t.batch = n }

// Rows is the number of rows appended to the table so far.
func (t *Table) Rows() int64 { return t.total }

// Row ends the current row; columns not set in it are NULL.
func (t *Table) Row() {
	for i, ok := range t.set {
		if !ok {
			t.cols[i].b.AppendNull()
		}
		t.set[i] = false
	}
	t.n++
	t.total++
	if t.records {
		t.w.records.Add(1)
	}
	if t.n >= t.batch {
		t.flush()
	}
}

func (t *Table) flush() {
	if t.n == 0 {
		return
	}
	rec := t.bld.NewRecordBatch()
	t.n = 0
	t.w.jobs <- job{t: t, rec: rec}
}

// Null sets column i to NULL.
func (t *Table) Null(i int) {
	t.cols[i].b.AppendNull()
	t.set[i] = true
}

// Str sets a text column. Invalid UTF-8 is replaced (DuckDB text must be valid).
func (t *Table) Str(i int, s string) {
	c := t.cols[i]
	if c.kind != kString {
		panic(fmt.Sprintf("ingest: %s.%s is %s, not text", t.name, c.name, c.duck))
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	c.str.Append(s)
	t.set[i] = true
}

// StrOrNull sets a text column, or NULL when s is empty or "-".
func (t *Table) StrOrNull(i int, s string) {
	if s == "" || s == "-" {
		t.Null(i)
		return
	}
	t.Str(i, s)
}

// Int sets an integer (or floating) column.
func (t *Table) Int(i int, v int64) {
	c := t.cols[i]
	switch c.kind {
	case kInt8:
		c.i8.Append(int8(v))
	case kInt16:
		c.i16.Append(int16(v))
	case kInt32:
		c.i32.Append(int32(v))
	case kInt64:
		c.i64.Append(v)
	case kUint8:
		c.u8.Append(uint8(v))
	case kUint16:
		c.u16.Append(uint16(v))
	case kUint32:
		c.u32.Append(uint32(v))
	case kUint64:
		c.u64.Append(uint64(v))
	case kFloat64:
		c.f64.Append(float64(v))
	default:
		panic(fmt.Sprintf("ingest: %s.%s is %s, not a number", t.name, c.name, c.duck))
	}
	t.set[i] = true
}

// Uint sets an unsigned integer column.
func (t *Table) Uint(i int, v uint64) {
	c := t.cols[i]
	if c.kind != kUint64 {
		t.Int(i, int64(v))
		return
	}
	c.u64.Append(v)
	t.set[i] = true
}

// Float sets a DOUBLE column.
func (t *Table) Float(i int, v float64) {
	c := t.cols[i]
	if c.kind != kFloat64 {
		panic(fmt.Sprintf("ingest: %s.%s is %s, not DOUBLE", t.name, c.name, c.duck))
	}
	c.f64.Append(v)
	t.set[i] = true
}

// Bool sets a BOOLEAN column.
func (t *Table) Bool(i int, v bool) {
	c := t.cols[i]
	if c.kind != kBool {
		panic(fmt.Sprintf("ingest: %s.%s is %s, not BOOLEAN", t.name, c.name, c.duck))
	}
	c.bool.Append(v)
	t.set[i] = true
}

// Time sets a timestamp column; the zero time is NULL.
func (t *Table) Time(i int, v time.Time) {
	if v.IsZero() {
		t.Null(i)
		return
	}
	t.Nanos(i, v.UnixNano())
}

// Nanos sets a timestamp column from nanoseconds since the Unix epoch.
func (t *Table) Nanos(i int, ns int64) {
	c := t.cols[i]
	switch c.kind {
	case kTimeNS:
		c.ts.Append(arrow.Timestamp(ns))
	case kTimeUS:
		c.ts.Append(arrow.Timestamp(ns / 1000))
	default:
		panic(fmt.Sprintf("ingest: %s.%s is %s, not a timestamp", t.name, c.name, c.duck))
	}
	t.set[i] = true
}

// Map sets a MAP(VARCHAR, VARCHAR) column; nil keys is NULL.
func (t *Table) Map(i int, keys, vals []string) {
	c := t.cols[i]
	if c.kind != kMap {
		panic(fmt.Sprintf("ingest: %s.%s is %s, not a map", t.name, c.name, c.duck))
	}
	if keys == nil {
		t.Null(i)
		return
	}
	c.mapb.Append(true)
	kb := c.mapb.KeyBuilder().(*array.StringBuilder)
	vb := c.mapb.ItemBuilder().(*array.StringBuilder)
	for j, k := range keys {
		kb.Append(strings.ToValidUTF8(k, "\uFFFD"))
		vb.Append(strings.ToValidUTF8(vals[j], "\uFFFD"))
	}
	t.set[i] = true
}

// List sets a VARCHAR[] column; nil is NULL.
func (t *Table) List(i int, vals []string) {
	c := t.cols[i]
	if c.kind != kList {
		panic(fmt.Sprintf("ingest: %s.%s is %s, not a list", t.name, c.name, c.duck))
	}
	if vals == nil {
		t.Null(i)
		return
	}
	c.list.Append(true)
	vb := c.list.ValueBuilder().(*array.StringBuilder)
	for _, v := range vals {
		vb.Append(strings.ToValidUTF8(v, "\uFFFD"))
	}
	t.set[i] = true
}

type kind uint8

const (
	kString kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kUint8
	kUint16
	kUint32
	kUint64
	kFloat64
	kBool
	kTimeUS
	kTimeNS
	kMap
	kList
)

type column struct {
	name string
	duck string
	kind kind
	b    array.Builder

	str  *array.StringBuilder
	i8   *array.Int8Builder
	i16  *array.Int16Builder
	i32  *array.Int32Builder
	i64  *array.Int64Builder
	u8   *array.Uint8Builder
	u16  *array.Uint16Builder
	u32  *array.Uint32Builder
	u64  *array.Uint64Builder
	f64  *array.Float64Builder
	bool *array.BooleanBuilder
	ts   *array.TimestampBuilder
	mapb *array.MapBuilder
	list *array.ListBuilder
}

func (c *column) bind(b array.Builder) {
	c.b = b
	switch c.kind {
	case kString:
		c.str = b.(*array.StringBuilder)
	case kInt8:
		c.i8 = b.(*array.Int8Builder)
	case kInt16:
		c.i16 = b.(*array.Int16Builder)
	case kInt32:
		c.i32 = b.(*array.Int32Builder)
	case kInt64:
		c.i64 = b.(*array.Int64Builder)
	case kUint8:
		c.u8 = b.(*array.Uint8Builder)
	case kUint16:
		c.u16 = b.(*array.Uint16Builder)
	case kUint32:
		c.u32 = b.(*array.Uint32Builder)
	case kUint64:
		c.u64 = b.(*array.Uint64Builder)
	case kFloat64:
		c.f64 = b.(*array.Float64Builder)
	case kBool:
		c.bool = b.(*array.BooleanBuilder)
	case kTimeUS, kTimeNS:
		c.ts = b.(*array.TimestampBuilder)
	case kMap:
		c.mapb = b.(*array.MapBuilder)
	case kList:
		c.list = b.(*array.ListBuilder)
	}
}

// arrowType maps the DuckDB column types the schema uses to Arrow.
func arrowType(duck string) (kind, arrow.DataType, error) {
	switch duck {
	case "VARCHAR":
		return kString, arrow.BinaryTypes.String, nil
	case "TINYINT":
		return kInt8, arrow.PrimitiveTypes.Int8, nil
	case "SMALLINT":
		return kInt16, arrow.PrimitiveTypes.Int16, nil
	case "INTEGER":
		return kInt32, arrow.PrimitiveTypes.Int32, nil
	case "BIGINT":
		return kInt64, arrow.PrimitiveTypes.Int64, nil
	case "UTINYINT":
		return kUint8, arrow.PrimitiveTypes.Uint8, nil
	case "USMALLINT":
		return kUint16, arrow.PrimitiveTypes.Uint16, nil
	case "UINTEGER":
		return kUint32, arrow.PrimitiveTypes.Uint32, nil
	case "UBIGINT":
		return kUint64, arrow.PrimitiveTypes.Uint64, nil
	case "DOUBLE":
		return kFloat64, arrow.PrimitiveTypes.Float64, nil
	case "BOOLEAN":
		return kBool, arrow.FixedWidthTypes.Boolean, nil
	case "TIMESTAMP WITH TIME ZONE":
		return kTimeUS, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, nil
	case "TIMESTAMP_NS":
		return kTimeNS, &arrow.TimestampType{Unit: arrow.Nanosecond}, nil
	case "MAP(VARCHAR, VARCHAR)":
		return kMap, arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), nil
	case "VARCHAR[]":
		return kList, arrow.ListOf(arrow.BinaryTypes.String), nil
	}
	return 0, nil, fmt.Errorf("column type %s is not supported by the writer", duck)
}
