package query

import (
	"context"
	"database/sql"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// StreamReader reads one TCP stream of a capture back from the evidence:
// rows in the packets view's columns.
type StreamReader func(ctx context.Context, evidenceID int, stream int64) (*Page, error)

// capturePacketsMax is how many rows capture_packets returns at most: it
// holds one stream's rows while DuckDB reads them.
const capturePacketsMax = 2_000_000

// capturePacketTypes are the packets view's column types.
var capturePacketTypes = map[string]duckdb.Type{
	"evidence_id": duckdb.TYPE_INTEGER, "ts": duckdb.TYPE_TIMESTAMP_NS, "direction": duckdb.TYPE_VARCHAR,
	"src": duckdb.TYPE_VARCHAR, "dst": duckdb.TYPE_VARCHAR, "truncated": duckdb.TYPE_BOOLEAN, "decode_error": duckdb.TYPE_VARCHAR,
}

// RegisterCapturePackets makes capture_packets(evidence_id, stream) a
// table function of db: one stream's packets decoded from the kept capture
// on demand, like tshark -Y 'tcp.stream eq N', with the packets view's
// columns. DuckDB's sandbox does not apply to what Go reads, so read is
// the case's own reader: it opens only the case's evidence, by id.
func RegisterCapturePackets(ctx context.Context, db *sql.DB, columns []string, read StreamReader) error {
	var infos []duckdb.ColumnInfo
	for _, c := range columns {
		t, ok := capturePacketTypes[c]
		if !ok {
			t = duckdb.TYPE_BIGINT
		}
		ti, err := duckdb.NewTypeInfo(t)
		if err != nil {
			return err
		}
		infos = append(infos, duckdb.ColumnInfo{Name: c, T: ti})
	}
	intType, err := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	if err != nil {
		return err
	}
	// A chunk source: DataChunk.SetValue takes nil for NULL, where a row
	// source's SetRowValue panics on a nil number (duckdb-go v2.10505).
	f := duckdb.ChunkTableFunction{
		Config: duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{intType, intType}},
		BindArgumentsContext: func(ctx context.Context, _ map[string]any, args ...any) (duckdb.ChunkTableSource, error) {
			ev, ok1 := args[0].(int64)
			stream, ok2 := args[1].(int64)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("capture_packets(evidence_id, stream): two integers, not %v", args)
			}
			page, err := read(ctx, int(ev), stream)
			if err != nil {
				return nil, err
			}
			return &packetSource{infos: infos, page: page}, nil
		},
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return duckdb.RegisterTableUDF(conn, "capture_packets", f)
}

type packetSource struct {
	infos []duckdb.ColumnInfo
	page  *Page
	next  int
}

func (s *packetSource) ColumnInfos() []duckdb.ColumnInfo { return s.infos }
func (s *packetSource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(len(s.page.Rows)), Exact: true}
}
func (s *packetSource) Init() {}

func (s *packetSource) FillChunk(chunk duckdb.DataChunk) error {
	n := 0
	for max := duckdb.GetDataChunkCapacity(); n < max && s.next < len(s.page.Rows); n++ {
		for i, v := range s.page.Rows[s.next] {
			if err := chunk.SetValue(i, n, v); err != nil {
				return fmt.Errorf("capture_packets: column %s: %w", s.infos[i].Name, err)
			}
		}
		s.next++
	}
	return chunk.SetSize(n)
}

// CapturePacketsSQL is the query that shows one stream's packets.
func CapturePacketsSQL(evidenceID int, stream int64) string {
	return fmt.Sprintf("SELECT * FROM capture_packets(%d, %d)", evidenceID, stream)
}
