package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Span is where a capture's TCP conversation lies in its file.
type Span struct {
	Stream      int64
	Offset      int64 // byte offset of its first frame's record; 0 when the case predates offsets
	First, Last int64 // frames
	A, B        string
	APort       int
	BPort       int
}

const spanCols = `conv_id, coalesce(first_offset, 0), first_frame, last_frame, a_addr, a_port, b_addr, b_port`

func scanSpans(rows *sql.Rows) ([]Span, error) {
	defer rows.Close()
	var out []Span
	for rows.Next() {
		var s Span
		if err := rows.Scan(&s.Stream, &s.Offset, &s.First, &s.Last, &s.A, &s.APort, &s.B, &s.BPort); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ErrNoStream is returned for a stream a capture does not have.
var ErrNoStream = errors.New("no such TCP stream")

// ConversationSpan is one stream of a capture.
func ConversationSpan(ctx context.Context, db *sql.DB, evidenceID int, stream int64) (Span, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+spanCols+` FROM tcp_conversations WHERE evidence_id = ? AND conv_id = ?`, evidenceID, stream)
	if err != nil {
		return Span{}, err
	}
	ss, err := scanSpans(rows)
	if err != nil {
		return Span{}, err
	}
	if len(ss) == 0 {
		return Span{}, fmt.Errorf("evidence %d: stream %d: %w", evidenceID, stream, ErrNoStream)
	}
	return ss[0], nil
}

// SpansBetween are the streams of a capture with frames between from and
// to, in order of first frame: what frames read back belong to.
func SpansBetween(ctx context.Context, db *sql.DB, evidenceID int, from, to int64) ([]Span, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+spanCols+` FROM tcp_conversations
		WHERE evidence_id = ? AND first_frame <= ? AND last_frame >= ? ORDER BY first_frame`, evidenceID, to, from)
	if err != nil {
		return nil, err
	}
	return scanSpans(rows)
}

// FramesAt is the first frame of the capture's streams still open at since
// (where reading from that time on may start, at its offset) and the last
// frame of those started by until; ok is false when no stream spans the
// time.
func FramesAt(ctx context.Context, db *sql.DB, evidenceID int, since, until time.Time) (start Span, last int64, ok bool, err error) {
	rows, err := db.QueryContext(ctx, `SELECT `+spanCols+` FROM tcp_conversations
		WHERE evidence_id = ? AND last_time >= ? AND first_time <= ? ORDER BY first_frame LIMIT 1`, evidenceID, since, until)
	if err != nil {
		return Span{}, 0, false, err
	}
	ss, err := scanSpans(rows)
	if err != nil || len(ss) == 0 {
		return Span{}, 0, false, err
	}
	err = db.QueryRowContext(ctx, `SELECT max(last_frame) FROM tcp_conversations WHERE evidence_id = ? AND first_time <= ?`, evidenceID, until).Scan(&last)
	return ss[0], last, err == nil, err
}
