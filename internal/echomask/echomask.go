// Package echomask hides credentials that a backend echoes back: every occurrence of a value in
// a response's header fields or body is replaced with as many '*' as it has bytes, so lengths,
// Content-Length and framing stay as they were.
//
// Bodies are masked as they stream: each value's reader holds back at most len(value)-1 bytes,
// the longest prefix of an occurrence that the next read could complete, and never buffers a
// whole body. The result is exactly that of applying bytes.ReplaceAll with each value in the
// order Values returns, to the whole body at once; a differential fuzz test holds it to that.
//
// NewBlockingReader uses the same readers to refuse a body instead: it fails at the first
// occurrence of any value, having returned only bytes from before it.
package echomask

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Values returns the values to mask, in the order they are applied: without empty ones or
// duplicates, longest first, so that a value containing another is masked whole.
func Values(vs [][]byte) [][]byte {
	out := make([][]byte, 0, len(vs))
	for _, v := range vs {
		if len(v) > 0 && !slices.ContainsFunc(out, func(o []byte) bool { return bytes.Equal(o, v) }) {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b []byte) int { return len(b) - len(a) })
	return out
}

// Header masks every value in h's field values, in place.
func Header(h http.Header, values [][]byte) {
	for _, vv := range h {
		for i, v := range vv {
			vv[i] = String(v, values)
		}
	}
}

// String returns s with every value masked; s itself if none occurs.
func String(s string, values [][]byte) string {
	for _, v := range values {
		if strings.Contains(s, string(v)) {
			s = strings.ReplaceAll(s, string(v), strings.Repeat("*", len(v)))
		}
	}
	return s
}

// NewReader returns a reader of what src yields with every value masked, values as Values
// returns them. Closing it closes src if src is an io.Closer.
func NewReader(src io.Reader, values [][]byte) io.ReadCloser {
	return newChain(src, values, nil)
}

// NewBlockingReader returns a reader of what src yields that fails with blocked as soon as an
// occurrence of any of values (as Values returns them) is complete. What it returned before is
// a prefix of src's bytes that ends before the first occurrence begins: no byte of one is ever
// returned, however src splits them. Closing it closes src if src is an io.Closer.
func NewBlockingReader(src io.Reader, values [][]byte, blocked error) io.ReadCloser {
	return newChain(src, values, blocked)
}

func newChain(src io.Reader, values [][]byte, blocked error) io.ReadCloser {
	closer, _ := src.(io.Closer)
	r := src
	var masks []*reader
	for _, v := range values {
		m := &reader{src: r, pat: v, blocked: blocked}
		masks = append(masks, m)
		r = m
	}
	return &chain{Reader: r, masks: masks, src: closer}
}

// chain is the readers of every value, the last reading from the one before.
type chain struct {
	io.Reader
	masks []*reader
	src   io.Closer
}

// Close releases the buffers and closes the source.
func (c *chain) Close() error {
	for _, m := range c.masks {
		m.release()
	}
	c.masks = nil
	if c.src != nil {
		return c.src.Close()
	}
	return nil
}

// chunk is how much a reader reads from its source at a time.
const chunk = 32 * 1024

// pooledPat is the longest value whose reader takes its buffer from the pool.
const pooledPat = 1024

var bufs = sync.Pool{New: func() any { b := make([]byte, chunk+pooledPat); return &b }}

// reader masks one value in what src yields. buf[start:ready] is final and not yet returned,
// buf[ready:end] read but perhaps the start of an occurrence; no occurrence begins before scan.
// With blocked set, an occurrence ends the stream with that error instead of being masked.
type reader struct {
	src               io.Reader
	pat               []byte
	blocked           error
	buf               *[]byte
	start, ready, end int
	scan              int
	err               error
}

func (m *reader) Read(p []byte) (int, error) {
	for m.ready == m.start {
		if m.err != nil {
			return 0, m.err
		}
		m.fill()
	}
	n := copy(p, (*m.buf)[m.start:m.ready])
	m.start += n
	return n, nil
}

// fill reads once from src and masks what it can decide.
func (m *reader) fill() {
	if m.buf == nil {
		if len(m.pat) <= pooledPat {
			m.buf = bufs.Get().(*[]byte)
		} else {
			b := make([]byte, chunk+len(m.pat))
			m.buf = &b
		}
	}
	buf := *m.buf
	if m.start > 0 { // what is left is shorter than the value
		copy(buf, buf[m.start:m.end])
		m.end -= m.start
		m.ready -= m.start
		m.scan -= m.start
		m.start = 0
	}
	n, err := m.src.Read(buf[m.end:])
	m.end += n
	for {
		i := bytes.Index(buf[m.scan:m.end], m.pat)
		if i < 0 {
			break
		}
		i += m.scan
		if m.blocked != nil {
			m.block()
			return
		}
		for j := i; j < i+len(m.pat); j++ {
			buf[j] = '*'
		}
		m.scan = i + len(m.pat)
	}
	if err != nil {
		if m.blocked != nil && err == m.blocked { // a reader before this one blocked
			m.block()
			return
		}
		m.err = err
		m.ready = m.end
		return
	}
	// The last len(pat)-1 bytes could begin an occurrence that the next read completes.
	m.ready = max(m.end-(len(m.pat)-1), m.scan, m.ready)
	m.scan = max(m.scan, m.ready)
}

// block ends the stream with the blocked error and drops what is held: part of it could begin
// an occurrence that the bytes now dropped would have completed.
func (m *reader) block() {
	m.err = m.blocked
	m.start, m.ready, m.end, m.scan = 0, 0, 0, 0
}

func (m *reader) release() {
	if m.buf != nil && len(*m.buf) == chunk+pooledPat {
		bufs.Put(m.buf)
	}
	m.buf = nil
	m.start, m.ready, m.end, m.scan = 0, 0, 0, 0
	if m.err == nil {
		m.err = io.ErrClosedPipe
	}
}
