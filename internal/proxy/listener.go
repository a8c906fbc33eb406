package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ListenerOptions configures Proxy.Listener.
type ListenerOptions struct {
	// TLS, when set, makes the listener terminate TLS with it. Clients that offer HTTP/2 in the
	// handshake get it (NextProtos is set to h2 and http/1.1 when empty). If nil, connections
	// are plain HTTP/1.1.
	TLS *tls.Config
	// HandshakeTimeout bounds a client's TLS handshake. Default 10s.
	HandshakeTimeout time.Duration
	// MaxHeaderBytes is the http.Server's MaxHeaderBytes; a request head much larger than it is
	// refused with 431 before the server reads it. Zero means http.DefaultMaxHeaderBytes.
	MaxHeaderBytes int
}

// Listener wraps ln for serving p with an http.Server. Every HTTP/1.x connection it accepts is
// checked request by request: a request head with ambiguous or malformed framing (both
// Content-Length and Transfer-Encoding, a Transfer-Encoding other than chunked, conflicting or
// malformed Content-Length, obs-fold) is answered 400 by p, never reaches a backend, and ends
// the connection. Give the server no TLSConfig of its own when opts.TLS is set.
func (p *Proxy) Listener(ln net.Listener, opts ListenerOptions) net.Listener {
	maxHead := opts.MaxHeaderBytes
	if maxHead <= 0 {
		maxHead = http.DefaultMaxHeaderBytes
	}
	// Go's server reads at most MaxHeaderBytes+4096 for a head, plus what its 4 KiB buffer
	// read ahead: a head larger than that is one it would refuse too.
	g := newGuard(p.nonce, maxHead+8192)
	if opts.TLS == nil {
		return &guardListener{Listener: ln, g: g}
	}
	conf := opts.TLS.Clone()
	if len(conf.NextProtos) == 0 {
		conf.NextProtos = []string{"h2", "http/1.1"}
	}
	timeout := opts.HandshakeTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	l := &tlsListener{
		Listener: ln, conf: conf, timeout: timeout, g: g,
		conns: make(chan net.Conn), errs: make(chan error), done: make(chan struct{}),
	}
	go l.acceptLoop()
	return l
}

// tlsStateKey is the context key under which ConnContext keeps the TLS state of a connection
// whose TLS Listener terminated itself; the value is a *tls.ConnectionState.
type tlsStateKey struct{}

// ConnContext is meant to be the http.Server's ConnContext when it serves a Listener with TLS.
// That listener terminates TLS itself and hands HTTP/1.1 connections to the server as plain
// ones, so the server cannot set their requests' TLS field; ConnContext keeps the connection's
// TLS state in ctx, and ServeHTTP sets the field from it. Other connections get ctx unchanged.
func (p *Proxy) ConnContext(ctx context.Context, c net.Conn) context.Context {
	gc, ok := c.(*guardConn)
	if !ok {
		return ctx
	}
	tc, ok := gc.Conn.(*tls.Conn)
	if !ok {
		return ctx
	}
	// One state for all requests of the connection, as Go's server shares it for *tls.Conn.
	state := tc.ConnectionState()
	return context.WithValue(ctx, tlsStateKey{}, &state)
}

// guard holds what every checked connection of one listener shares.
type guard struct {
	nonce   string
	maxHead int
	bufs    sync.Pool   // *[]byte of readBuffer bytes, lent to connections while they hold data
	budget  *headBudget // for the buffers of heads larger than readBuffer
}

// readBuffer is the size of a connection's read buffer, and of its reads from the network. A
// head that fits in it costs no more; a larger one is paid for from the head budget.
const readBuffer = 16 << 10

// maxEarly bounds what a client may send after a request that may leave HTTP before it has the
// answer: the guard holds it back meanwhile. A WebSocket or h2c client sends nothing before the
// 101 (RFC 6455 §4.1, RFC 7540 §3.2); a TLS ClientHello sent ahead of a CONNECT's answer is
// smaller.
const maxEarly = readBuffer

// errEarlyData stops a connection that sent more than maxEarly bytes after a request that may
// leave HTTP before it was answered.
var errEarlyData = errors.New("too much data before the answer to an upgrade or CONNECT")

// newGuard returns the guard of a listener whose heads may be maxHead bytes long.
func newGuard(nonce string, maxHead int) *guard {
	g := &guard{nonce: nonce, maxHead: maxHead, budget: &headBudget{}}
	g.budget.left.Store(int64(budgetHeads) * int64(maxHead))
	return g
}

// headBudget is the memory that request heads larger than readBuffer may hold in the buffers of
// one guard's connections, all together. Go's server parses a head only once the guard hands it
// over complete, so a slow client's unfinished head is held by the guard alone: without a bound,
// many slow clients sending large heads could hold maxHead bytes each. It is safe for concurrent
// use.
type headBudget struct {
	left atomic.Int64
}

// budgetHeads is a guard's head budget in heads of the largest size: 64 MiB with Go's default
// MaxHeaderBytes, enough for thousands of heads of a few tens of KiB at once.
const budgetHeads = 64

// take takes n bytes from the budget; it reports false, and takes nothing, if fewer are left.
// n may be negative, giving bytes back.
func (b *headBudget) take(n int) bool {
	if b.left.Add(-int64(n)) >= 0 || n <= 0 {
		return true
	}
	b.left.Add(int64(n))
	return false
}

// give gives n bytes back.
func (b *headBudget) give(n int) { b.left.Add(int64(n)) }

// guardListener checks the plain connections it accepts.
type guardListener struct {
	net.Listener
	g *guard
}

func (l *guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardConn{Conn: c, g: l.g}, nil
}

// guardConn hands the server the bytes of one connection, holding each request head back until
// it is complete and checked. A refused head is replaced by a small request that carries the
// listener's nonce, which the proxy answers with the refusal status; Go's server thus sends the
// answer in order after any pipelined requests before it, and closes the connection. After a
// request that may leave HTTP it hands over nothing more until the proxy hijacks the
// connection (see hijack); from then on it passes everything through.
type guardConn struct {
	net.Conn
	g        *guard
	f        framer
	back     []byte // the buffer in lives in
	in       []byte // read from the network, not yet handed to the server
	ready    int    // in[:ready] may be handed over
	scanned  int    // in[:scanned] has been looked at
	heads    int    // request heads checked and handed over
	err      error  // once set, every Read returns it
	hijacked atomic.Bool

	mu       sync.Mutex // guards reserved and closed, which Close changes from any goroutine
	reserved int        // bytes of back taken from the head budget
	closed   bool
}

func (c *guardConn) Read(p []byte) (int, error) {
	if c.hijacked.Load() && c.f.state != stPass && c.f.state != stRejected {
		// The server has let the connection go: whatever follows is the tunnel's.
		c.f.state, c.ready, c.scanned = stPass, len(c.in), len(c.in)
	}
	for c.ready == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.f.state == stPass && len(c.in) == 0 {
			return c.Conn.Read(p) // a tunnel: nothing left to follow
		}
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.in[:c.ready])
	c.in = c.in[n:]
	c.ready -= n
	c.scanned -= n
	if len(c.in) == 0 && (c.f.state == stHead || c.f.state == stAwait || c.f.state == stPass || len(c.back) != readBuffer) {
		// Between requests an idle keep-alive connection holds no buffer; a large head's
		// buffer goes back to the budget once the server has read the head and what came
		// with it.
		c.release()
	}
	return n, nil
}

func (c *guardConn) release() {
	if b := c.back; b != nil && cap(b) == readBuffer {
		c.g.bufs.Put(&b)
	} else if b != nil {
		c.giveBack()
	}
	c.back, c.in, c.ready, c.scanned = nil, nil, 0, 0
}

// giveBack returns what the connection's buffer took from the head budget.
func (c *guardConn) giveBack() {
	c.mu.Lock()
	c.g.budget.give(c.reserved)
	c.reserved = 0
	c.mu.Unlock()
}

// Close closes the connection and gives back what its buffer took from the head budget; the
// buffer itself is left to the garbage collector, since a Read may still be using it.
func (c *guardConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.giveBack()
	return c.Conn.Close()
}

// Unwrap hands a hijacked connection's tunnel the connection beneath, with the bytes the guard
// read from it and holds, which Read would have returned next (see forward.Unwrapper); from then
// on the tunnel reads the connection beneath directly, and closes c. Before the hijack, or once
// the guard refused or stopped the connection, everything must go through Read: it returns nil.
func (c *guardConn) Unwrap() (net.Conn, []byte) {
	if !c.hijacked.Load() || c.f.state == stRejected || c.err != nil {
		return nil, nil
	}
	pending := bytes.Clone(c.in)
	c.f.state = stPass
	c.release() // as Read does once it handed everything over
	return c.Conn, pending
}

// CloseWrite lets Go's server half-close the connection before closing it, so that a client
// still sending is not answered with a reset that could swallow the response.
func (c *guardConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// fill reads once from the network and scans what came.
func (c *guardConn) fill() error {
	switch {
	case c.f.state == stRejected:
		// Discard whatever the client still sends until the server closes the connection, or
		// a deadline the server set interrupts the read.
		var scratch [512]byte
		_, err := c.Conn.Read(scratch[:])
		return err
	case c.f.state == stAwait && len(c.in)-c.ready >= maxEarly:
		c.err = errEarlyData
		c.Conn.Close() // the answer could not be sent in order anyway: the client is not waiting
		return c.err
	}
	if !c.room() {
		c.reject(headVerdict{reject: "request header too large for the shared head budget", status: http.StatusRequestHeaderFieldsTooLarge})
		return nil
	}
	n, err := c.Conn.Read(c.in[len(c.in):cap(c.in)])
	c.in = c.in[:len(c.in)+n]
	c.scan()
	if c.ready > 0 {
		return nil // hand over what is ready; a read error will show again next time
	}
	return err
}

// room makes space for a read of at least 4 KiB after c.in. A connection starts with a pooled
// buffer of readBuffer bytes; a head that outgrows it takes its larger buffer from the head
// budget that all connections of the listener share, so that slow clients sending large heads
// together hold a bounded amount of memory. It reports false when the budget cannot pay.
func (c *guardConn) room() bool {
	if c.back == nil {
		if b, ok := c.g.bufs.Get().(*[]byte); ok {
			c.back = *b
		} else {
			c.back = make([]byte, readBuffer)
		}
		c.in = c.back[:0]
	}
	if cap(c.in)-len(c.in) >= 4096 {
		return true
	}
	if len(c.in)+4096 <= len(c.back) || c.f.state == stAwait {
		// Bytes held back after a request that may leave HTTP never grow the buffer: fill
		// stops the connection before they fill it.
		c.in = c.back[:copy(c.back, c.in)] // copy allows the overlap
		return true
	}
	// Only a head grows the buffer (bodies are handed over as they come), and a head larger
	// than maxHead is refused before it needs more than this.
	size := min(max(2*len(c.back), len(c.in)+4096), c.g.maxHead+4096)
	if !c.reserve(size) {
		return false
	}
	back := make([]byte, size)
	c.in = back[:copy(back, c.in)]
	if cap(c.back) == readBuffer {
		b := c.back
		c.g.bufs.Put(&b)
	}
	c.back = back
	return true
}

// reserve takes size bytes from the head budget for the connection's buffer, in place of what
// its current buffer took.
func (c *guardConn) reserve(size int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.g.budget.take(size-c.reserved) {
		return false
	}
	c.reserved = size
	return true
}

// scan advances over c.in[c.scanned:], extending c.ready over every byte the server may have.
func (c *guardConn) scan() {
	for c.scanned < len(c.in) && c.err == nil {
		switch c.f.state {
		case stHead:
			if !c.scanHead() {
				return
			}
		case stAwait:
			return // held back until the proxy hijacks the connection, or for ever
		case stPass:
			c.scanned = len(c.in)
			c.ready = c.scanned
		case stRejected:
			c.in = c.in[:c.ready] // everything after the refused head is dropped
			c.scanned = c.ready
			return
		default:
			n, err := c.f.bodyBytes(c.in[c.scanned:])
			c.scanned += n
			if err != nil {
				c.err = err
				c.scanned -= n
				return
			}
			c.ready = c.scanned
		}
	}
}

// scanHead looks for the end of the head starting at c.in[c.ready:] and checks it. It reports
// whether scanning may go on.
func (c *guardConn) scanHead() bool {
	if c.f.afterPOST && c.scanned == c.ready {
		// Go tolerates up to four stray CR/LF bytes after a POST body (RFC 9112 §2.2).
		for c.f.skipped < 4 && c.scanned < len(c.in) && (c.in[c.scanned] == '\r' || c.in[c.scanned] == '\n') {
			c.scanned++
			c.f.skipped++
			c.ready = c.scanned
		}
		if c.scanned == len(c.in) {
			return false
		}
		c.f.afterPOST = false // the head starts here
	}
	head := c.in[c.ready:]
	end := headEnd(head, c.scanned-c.ready-3)
	if end < 0 {
		c.scanned = len(c.in)
		if len(head) > c.g.maxHead {
			c.reject(headVerdict{reject: "request header too large", status: http.StatusRequestHeaderFieldsTooLarge})
			return false
		}
		return false
	}
	v := checkHead(head[:end])
	if v.reject != "" {
		c.reject(v)
		return false
	}
	c.scanned = c.ready + end
	c.ready = c.scanned
	c.heads++
	c.f.afterPOST, c.f.skipped = v.post, 0 // for the next head
	c.f.next = stHead
	if v.leave {
		c.f.next = stAwait
	}
	c.f.state, c.f.remaining = v.body, v.length
	if v.body == stHead {
		c.f.state = c.f.next
	}
	return true
}

// reject replaces the head at c.in[c.ready:] and everything after it with a request that tells
// the proxy to refuse it, and stops reading from the client.
func (c *guardConn) reject(v headVerdict) {
	line := v.line
	method, target, _ := strings.Cut(line, " ")
	target, _, _ = strings.Cut(target, " ")
	if !isToken(method) || !isPrintable(target) {
		method, target = "GET", "/"
	}
	host := v.hostHdr
	if !isPrintable(host) {
		host = ""
	}
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n")
	b.WriteString(framingHeader + ": " + c.g.nonce + " " + strconv.Itoa(v.status) + " " + v.reject + "\r\n\r\n")
	c.in = append(c.in[:c.ready], b.String()...)
	c.ready = len(c.in)
	c.scanned = c.ready
	c.f.state = stRejected
}

// isPrintable reports whether s is visible ASCII without spaces, safe to put in a request line.
func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// hijack takes the connection of w's request over from the server, for a tunnel: after a
// CONNECT, or once the backend has answered an upgrade with 101. A Listener connection that held
// back what the client sent after the request hands it over from then on, unchecked: the
// connection no longer carries HTTP. Every hijack in the proxy goes through here; a connection
// hijacked otherwise never hands over what the client sent after such a request.
func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if gc, ok := conn.(*guardConn); ok && err == nil {
		gc.hijacked.Store(true)
	}
	return conn, brw, err
}

// tlsListener terminates TLS itself, so that HTTP/1.1 connections can be checked like plain
// ones: the server then sees them as plain connections. Connections that chose HTTP/2 in the
// handshake go to the server as *tls.Conn, whose framing has no such ambiguity. Handshakes run
// in their own goroutines, so a slow client never holds up Accept.
type tlsListener struct {
	net.Listener
	conf    *tls.Config
	timeout time.Duration
	g       *guard

	conns     chan net.Conn
	errs      chan error
	done      chan struct{}
	closeOnce sync.Once
}

func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *tlsListener) Close() error {
	err := net.ErrClosed
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.Listener.Close()
	})
	return err
}

// acceptLoop accepts connections and starts their handshakes until the listener is closed. It
// hands accept errors to Accept one at a time, so the server's back-off on temporary errors
// paces it.
func (l *tlsListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case l.errs <- err:
			case <-l.done:
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		go l.handshake(c)
	}
}

// handshake runs one TLS handshake and hands the connection to Accept.
func (l *tlsListener) handshake(raw net.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	tc := tls.Server(raw, l.conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		var rh tls.RecordHeaderError
		if errors.As(err, &rh) && rh.Conn != nil && looksLikeHTTP(rh.RecordHeader[:]) {
			// As Go's server does for a plain request on a TLS port.
			_, _ = rh.Conn.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"))
		}
		raw.Close()
		return
	}
	var c net.Conn = tc
	if tc.ConnectionState().NegotiatedProtocol != "h2" {
		c = &guardConn{Conn: tc, g: l.g}
	}
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

func looksLikeHTTP(hdr []byte) bool {
	switch string(hdr) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}
