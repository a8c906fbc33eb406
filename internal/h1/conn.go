package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// bufSize is the size of each connection's read and write buffers: a request or response head
// and the start of a body fit, and fifty busy connections cost well under a megabyte.
const bufSize = 4 << 10

// conn is one keep-alive connection to a backend.
type conn struct {
	nc        net.Conn
	head      headReader // what br reads from: nc, within the head limit while a head is read
	br        *bufio.Reader
	bw        *bufio.Writer
	key       poolKey
	tls       *tls.Conn // nc, when it speaks TLS
	idleSince time.Time // when it was last put in the pool
	probe     probe     // tells whether the backend left it alone while it was idle
}

// newConn returns a conn that speaks over nc, which is raw, the TCP connection, or TLS over raw.
// The probe looks at raw: over TLS, any byte that arrives unasked while the connection is idle (an
// alert, most likely close_notify) is as much a reason to drop it as a plain-text one.
func newConn(nc, raw net.Conn, key poolKey) *conn {
	c := &conn{nc: nc, head: headReader{nc: nc, n: math.MaxInt64}, bw: bufio.NewWriterSize(nc, bufSize), key: key}
	c.br = bufio.NewReaderSize(&c.head, bufSize)
	c.tls, _ = nc.(*tls.Conn)
	c.probe.init(raw)
	return c
}

// tlsQuiet reports whether c's TLS layer holds nothing that arrived after the last response. A
// record sent right behind a response, as close_notify often is, can be read from the socket
// with the response's own and wait in the TLS layer, where the probe cannot see it: a read with
// a deadline in the past takes such records and returns at once, without a system call, when
// there are none. A TLS 1.3 session ticket found there is taken in and leaves c usable.
func (c *conn) tlsQuiet() bool {
	if c.tls == nil {
		return true
	}
	_ = c.tls.SetReadDeadline(time.Unix(1, 0))
	var b [1]byte
	n, err := c.tls.Read(b[:])
	_ = c.tls.SetReadDeadline(time.Time{})
	return n == 0 && errors.Is(err, os.ErrDeadlineExceeded)
}

// headReader reads from nc at most n more bytes, as net/http's persistConn.Read does: n is the
// head limit while a response head is read and unlimited for the body. Bytes the buffer reads
// ahead count against it too, so no head needing more than the limit is ever read.
type headReader struct {
	nc net.Conn
	n  int64
}

// errHeadLimit is what headReader returns once the limit is used up; the exchange reports
// ErrResponseHeaderTooLarge instead.
var errHeadLimit = errors.New("h1: response head limit exhausted")

func (r *headReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errHeadLimit
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n, err := r.nc.Read(p)
	r.n -= int64(n)
	return n, err
}

// interrupt makes every blocked and future read and write on c fail at once. It is how a
// cancelled request stops the exchange from another goroutine.
func (c *conn) interrupt() {
	_ = c.nc.SetDeadline(time.Unix(1, 0)) // fails only on a closed conn, which is stopped anyway
}

// setReadDeadline sets c's read deadline for an exchange under ctx; it is the only place that
// moves a deadline of c other than interrupt. An interrupt that landed just before would be
// overwritten and the exchange would wait out d (issue 11, finding 3), so ctx is looked at after
// the deadline is set, and a cancellation seen there interrupts again. One that is not seen yet
// starts its interrupt after this look, which then lands after d.
func (c *conn) setReadDeadline(ctx context.Context, d time.Time) {
	_ = c.nc.SetReadDeadline(d) // fails only on a closed conn, which the next read reports
	if ctx.Err() != nil {
		c.interrupt()
	}
}

func (c *conn) close() {
	_ = c.nc.Close() // nothing more to send or receive on it
}

// body is a response body that hands its connection back to the pool once read to the end, and
// closes it when abandoned before: draining an unwanted body could take arbitrarily long.
type body struct {
	src   io.ReadCloser // net/http's body reader, framed by Content-Length or chunked
	c     *conn
	t     *Transport
	stop  func() bool // releases the request's cancellation hook; false if it already fired
	reuse bool        // the connection may carry another request once the body is read
	done  bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.ErrClosedPipe
	}
	n, err := b.src.Read(p)
	if err != nil {
		b.release(err == io.EOF)
	}
	return n, err
}

// Close releases the connection: back to the pool if the body was read to the end, closed if not.
func (b *body) Close() error {
	if !b.done {
		b.release(false)
	}
	return nil
}

// release ends the exchange. complete reports whether the response was read to its end.
func (b *body) release(complete bool) {
	b.done = true
	cancelled := !b.stop()
	// Bytes beyond the response were never asked for: the connection is out of step.
	if complete && b.reuse && !cancelled && b.c.br.Buffered() == 0 {
		b.c.idleSince = time.Now()
		b.t.putIdle(b.c)
		return
	}
	b.c.close()
}

// defaultUserAgent is what net/http's client sends when a request has no User-Agent header at
// all; a header present with no value sends none.
const defaultUserAgent = "Go-http-client/1.1"

// writeRequest writes the head of r, a request without a body, to w as net/http's client would:
// the Host line first, then the header fields sorted by name. It refuses header fields that
// could split the request, naming the field but never its value.
func writeRequest(w *bufio.Writer, r *http.Request) error {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if !validHost(host) {
		return fmt.Errorf("h1: invalid Host %q", host)
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	target := r.URL.RequestURI()
	if !validTarget(target) {
		// The target is not quoted: its query may carry a key the client sent.
		return errors.New("h1: request target is not in origin form")
	}
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(target)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	if _, ok := r.Header["User-Agent"]; !ok {
		w.WriteString("User-Agent: " + defaultUserAgent + "\r\n")
	}
	if r.Close {
		w.WriteString("Connection: close\r\n")
	}
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		w.WriteString("Content-Length: 0\r\n") // an empty body, stated
	}

	var buf [32]string // most requests carry fewer fields: no allocation for the sort
	names := buf[:0]
	for name := range r.Header {
		switch name {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue // framing is ours to write
		case "Connection":
			if r.Close {
				continue
			}
		}
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !httpsyntax.IsToken(name) {
			return fmt.Errorf("h1: invalid header field name %s", strconv.Quote(name))
		}
		for _, v := range r.Header[name] {
			if httpsyntax.InvalidValueByte(v) >= 0 {
				return fmt.Errorf("h1: invalid header field value for %s", name)
			}
			w.WriteString(name)
			w.WriteString(": ")
			w.WriteString(textproto.TrimString(v))
			w.WriteString("\r\n")
		}
	}
	_, err := w.WriteString("\r\n")
	return err // a write error before this one sticks in w and shows here or at Flush
}

// validTarget reports whether s is an origin-form request target (RFC 9112 §3.2.1), or "*":
// it starts with a slash and holds no space or control character that would end the request
// line early. An opaque URL (mailto:x) gives neither.
func validTarget(s string) bool {
	if s != "*" && !strings.HasPrefix(s, "/") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost reports whether s may be sent as the Host field: not empty, and no space or control
// character.
func validHost(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return s != ""
}
