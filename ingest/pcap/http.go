package pcap

import (
	"bytes"
	"strconv"
	"strings"
)

// httpMsg is one HTTP/1.x request or response.
type httpMsg struct {
	isReq                 bool
	method, uri, version  string
	status                int
	reason                string
	contentLength         int64 // -1: none given
	bodyBytes             int64
	headers               string   // the header lines as captured, after the start line
	keys, vals            []string // header names lower-cased, repeated ones joined
	firstTs, lastTs       int64
	firstFrame, lastFrame uint32
	incomplete            string // gap, truncated, eof, headers too large
}

func (m *httpMsg) header(name string) string {
	for i, k := range m.keys {
		if k == name {
			return m.vals[i]
		}
	}
	return ""
}

// maxHeader is the largest header block kept; a larger one ends the
// message as incomplete rather than growing memory without bound.
const maxHeader = 64 << 10

const (
	sStart = iota
	sHeaders
	sBody
	sChunkSize
	sChunkData
	sTrailer
	sUntilClose
)

// httpParser follows the HTTP/1.x messages of one direction of a TCP
// connection as its bytes arrive, in order, possibly with gaps.
type httpParser struct {
	isReq     bool
	state     int
	buf       []byte // header block, or chunk size / trailer line
	cur       *httpMsg
	remaining int64
	resync    bool // bytes were lost: look for the next message start
	emit      func(*httpMsg)
	// method returns the method of the request a response answers, so
	// that a response to HEAD is known to have no body.
	method func() string
}

var methods = [][]byte{[]byte("GET "), []byte("POST "), []byte("PUT "), []byte("DELETE "), []byte("HEAD "), []byte("OPTIONS "),
	[]byte("PATCH "), []byte("CONNECT "), []byte("TRACE "), []byte("PROPFIND "), []byte("MKCOL "), []byte("COPY "), []byte("MOVE "),
	[]byte("LOCK "), []byte("UNLOCK "), []byte("PROPPATCH "), []byte("REPORT ")}

// startsMessage says whether b begins a request line (for requests) or a
// status line (for responses), as far as b goes.
func (p *httpParser) startsMessage(b []byte) bool {
	if p.isReq {
		for _, m := range methods {
			n := min(len(b), len(m))
			if n > 0 && bytes.Equal(b[:n], m[:n]) {
				return true
			}
		}
		return false
	}
	n := min(len(b), 7)
	return n > 0 && bytes.Equal(b[:n], []byte("HTTP/1.")[:n])
}

// findStart finds the first line start in b that begins a message.
func (p *httpParser) findStart(b []byte) int {
	for i := 0; i < len(b); {
		if p.startsMessage(b[i:]) && len(b)-i >= 8 {
			return i
		}
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	return -1
}

// looksLikeHTTP says whether the first bytes of a direction are HTTP at all.
func looksLikeHTTP(b []byte, isReq bool) bool {
	p := httpParser{isReq: isReq}
	return p.startsMessage(b)
}

// feed consumes in-order bytes seen at time ts in frame.
func (p *httpParser) feed(b []byte, ts int64, frame uint32) {
	for len(b) > 0 {
		switch p.state {
		case sStart:
			i := 0
			if p.resync || !p.startsMessage(b) {
				i = p.findStart(b)
				if i < 0 {
					return // not at a message: wait for the next segment
				}
			}
			p.resync = false
			p.cur = &httpMsg{isReq: p.isReq, contentLength: -1, firstTs: ts, firstFrame: frame, lastTs: ts, lastFrame: frame}
			p.buf = p.buf[:0]
			p.state = sHeaders
			b = b[i:]
		case sHeaders:
			p.cur.lastTs, p.cur.lastFrame = ts, frame
			old := len(p.buf)
			p.buf = append(p.buf, b...)
			end := headerEnd(p.buf, max(0, old-3))
			if end < 0 {
				if len(p.buf) > maxHeader {
					p.cur.incomplete = "headers too large"
					p.finish()
					p.resync = true
				}
				return
			}
			rest := b[end-old:]
			if !p.parseHeader(p.buf[:end]) {
				// Not a message after all: drop it and look again.
				p.cur = nil
				p.state, p.resync = sStart, true
				b = rest
				continue
			}
			b = rest
		case sBody, sChunkData:
			n := min(int64(len(b)), p.remaining)
			p.remaining -= n
			p.cur.bodyBytes += n
			if p.state == sChunkData {
				p.cur.bodyBytes -= min(n, max(0, 2-p.remaining)) // the CRLF after the chunk is not body
			}
			p.cur.lastTs, p.cur.lastFrame = ts, frame
			b = b[n:]
			if p.remaining == 0 {
				if p.state == sChunkData {
					p.state = sChunkSize
					p.buf = p.buf[:0]
				} else {
					p.finish()
				}
			}
		case sChunkSize, sTrailer:
			p.cur.lastTs, p.cur.lastFrame = ts, frame
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				p.buf = append(p.buf, b...)
				if len(p.buf) > 4096 {
					p.cur.incomplete = "bad chunk"
					p.finish()
					p.resync = true
				}
				return
			}
			p.buf = append(p.buf, b[:i+1]...)
			b = b[i+1:]
			line := strings.TrimSpace(string(p.buf))
			p.buf = p.buf[:0]
			if p.state == sTrailer {
				if line == "" {
					p.finish()
				}
				continue
			}
			sz, _, _ := strings.Cut(line, ";")
			size, err := strconv.ParseInt(strings.TrimSpace(sz), 16, 64)
			if err != nil || size < 0 {
				p.cur.incomplete = "bad chunk"
				p.finish()
				p.resync = true
				continue
			}
			if size == 0 {
				p.state = sTrailer
				continue
			}
			p.state, p.remaining = sChunkData, size+2
		case sUntilClose:
			p.cur.bodyBytes += int64(len(b))
			p.cur.lastTs, p.cur.lastFrame = ts, frame
			return
		}
	}
}

// headerEnd finds the end of a header block (the blank line, CRLF or bare
// LF as lenient parsers and tshark accept) searching from from; -1 if none.
func headerEnd(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// parseHeader reads the start line and headers and chooses how the body ends.
func (p *httpParser) parseHeader(block []byte) bool {
	if !p.parseFields(block) {
		return false
	}
	p.chooseBody()
	return true
}

// parseFields reads the start line and headers of a (possibly partial)
// header block into the current message. Every string it keeps slices one
// copy of the block: a message costs one allocation, not one per header.
func (p *httpParser) parseFields(block []byte) bool {
	text := strings.TrimRight(string(block), "\r\n")
	first, rest, _ := strings.Cut(text, "\n")
	first = strings.TrimSuffix(first, "\r")
	m := p.cur
	a, bc, ok := strings.Cut(first, " ")
	b, c, three := strings.Cut(bc, " ")
	if m.isReq {
		if !ok || !three || !strings.HasPrefix(c, "HTTP/1.") {
			return false
		}
		m.method, m.uri, m.version = a, b, c
	} else {
		if !ok || !strings.HasPrefix(a, "HTTP/1.") {
			return false
		}
		st, err := strconv.Atoi(b)
		if err != nil || st < 100 || st > 999 {
			return false
		}
		m.version, m.status = a, st
		if three {
			m.reason = c
		}
	}
	m.headers = rest
	for rest != "" {
		var l string
		l, rest, _ = strings.Cut(rest, "\n")
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(m.vals) > 0 {
			m.vals[len(m.vals)-1] += " " + strings.TrimSpace(l) // obsolete line folding
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k, v = lowerName(strings.TrimSpace(k)), strings.TrimSpace(v)
		if i := indexOf(m.keys, k); i >= 0 {
			m.vals[i] += ", " + v
			continue
		}
		m.keys, m.vals = append(m.keys, k), append(m.vals, v)
	}
	return true
}

// commonNames are header names as usually spelled, lower-cased, so that
// the usual spelling costs no allocation.
var commonNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Connection",
		"Content-Length", "Content-Type", "Transfer-Encoding", "Date", "Server", "Cache-Control", "Cookie", "Set-Cookie",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto", "Forwarded", "X-Request-Id",
		"X-Request-ID", "Request-Id", "Request-ID", "X-Amzn-Trace-Id", "Location", "Authorization", "Referer", "Origin",
		"Upgrade", "Keep-Alive", "Vary", "ETag", "Last-Modified", "Content-Encoding", "Expires", "Pragma"} {
		m[n] = strings.ToLower(n)
	}
	return m
}()

// lowerName lower-cases a header name.
func lowerName(k string) string {
	if l, ok := commonNames[k]; ok {
		return l
	}
	for i := 0; i < len(k); i++ {
		if 'A' <= k[i] && k[i] <= 'Z' {
			return strings.ToLower(k)
		}
	}
	return k
}

// chooseBody decides how the body of the parsed message ends.
func (p *httpParser) chooseBody() {
	m := p.cur
	if cl := m.header("content-length"); cl != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(strings.Split(cl, ",")[0]), 10, 64); err == nil && n >= 0 {
			m.contentLength = n
		}
	}
	chunked := strings.Contains(strings.ToLower(m.header("transfer-encoding")), "chunked")
	noBody := false
	if !m.isReq {
		noBody = m.status/100 == 1 || m.status == 204 || m.status == 304
		if p.method != nil && p.method() == "HEAD" {
			noBody = true
		}
	}
	switch {
	case noBody:
		p.finish()
	case chunked:
		p.state = sChunkSize
		p.buf = p.buf[:0]
	case m.contentLength > 0:
		p.state, p.remaining = sBody, m.contentLength
	case m.contentLength == 0 || m.isReq:
		p.finish()
	default:
		p.state = sUntilClose // a response without length ends with the connection
	}
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

func (p *httpParser) finish() {
	if p.cur != nil && p.emit != nil {
		p.emit(p.cur)
	}
	p.cur = nil
	p.state = sStart
	p.buf = p.buf[:0]
}

// gap says n bytes of the direction were not captured (lost, or cut by the
// snap length: why). A body absorbs the gap; anywhere else the message ends
// incomplete and the parser looks for the next message.
func (p *httpParser) gap(n int64, why string, ts int64, frame uint32) {
	switch p.state {
	case sBody, sChunkData:
		if p.cur.incomplete == "" {
			p.cur.incomplete = why
		}
		if n <= p.remaining {
			p.remaining -= n
			if p.remaining == 0 {
				if p.state == sChunkData {
					p.state = sChunkSize
				} else {
					p.finish()
				}
			}
			return
		}
		p.finish()
	case sUntilClose:
		if p.cur.incomplete == "" {
			p.cur.incomplete = why
		}
		return
	case sStart:
	case sHeaders:
		if p.parseFields(p.buf) {
			p.cur.incomplete = why
			p.finish()
		} else {
			p.cur, p.state = nil, sStart
		}
	default:
		p.cur.incomplete = why
		p.finish()
	}
	p.resync = true
}

// end closes the direction: a message read until close is complete, any
// other message in progress is cut short.
func (p *httpParser) end() {
	switch p.state {
	case sStart:
		return
	case sHeaders:
		// Headers never finished: a message only if its start line is one.
		if !p.parseFields(p.buf) {
			p.cur = nil
			p.state = sStart
			return
		}
		p.cur.incomplete = "eof"
	case sUntilClose:
	default:
		if p.cur.incomplete == "" {
			p.cur.incomplete = "eof"
		}
	}
	p.finish()
}
