package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
)

// MaxLine is the longest line a line-oriented importer takes whole; a longer
// one is returned cut, with Long set, so that it can be rejected and the
// rest of the file still read.
const MaxLine = 1 << 20

// LineReader reads lines without holding more than one in memory.
type LineReader struct {
	br   *bufio.Reader
	buf  []byte
	n    int64
	Long bool // the last line was longer than MaxLine and was cut
}

// NewLineReader reads lines from r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{br: bufio.NewReaderSize(r, 256<<10)}
}

// Next returns the next line without its line ending (\n or \r\n) and its
// 1-based number. The slice is valid until the next call. At the end it
// returns io.EOF; a final line without a newline is still returned.
func (l *LineReader) Next() ([]byte, int64, error) {
	l.Long = false
	b, err := l.br.ReadSlice('\n')
	if err == nil || (errors.Is(err, io.EOF) && len(b) > 0) {
		l.n++
		return trimEOL(b), l.n, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return nil, l.n, err
	}
	l.buf = append(l.buf[:0], b...)
	for {
		b, err = l.br.ReadSlice('\n')
		if len(l.buf) < MaxLine {
			room := MaxLine - len(l.buf)
			if len(b) > room {
				l.Long = true
				l.buf = append(l.buf, b[:room]...)
			} else {
				l.buf = append(l.buf, b...)
			}
		} else {
			l.Long = true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, l.n, err
		}
		l.n++
		return trimEOL(l.buf), l.n, nil
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// Fields splits b at runs of spaces and tabs into dst (reused), without
// copying: the results alias b.
func Fields(dst [][]byte, b []byte) [][]byte {
	dst = dst[:0]
	i := 0
	for i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		if i == len(b) {
			break
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' {
			j++
		}
		dst = append(dst, b[i:j])
		i = j
	}
	return dst
}

// Each calls fn with every line and its number until the end, checking ctx
// every 16384 lines. A read error comes back as a PosError naming file and
// the line being read; an error from fn ends the loop and comes back as is.
func (l *LineReader) Each(ctx context.Context, file string, fn func(line []byte, n int64) error) error {
	for {
		line, n, err := l.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &PosError{ErrorPos: ErrorPos{File: file, Unit: "line", N: n + 1}, Err: err}
		}
		if n&0x3fff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fn(line, n); err != nil {
			return err
		}
	}
}
