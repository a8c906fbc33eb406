// Package h1 is an HTTP/1.1 client for the requests a sidecar proxy forwards most: requests
// without a body, to http:// and https:// backends. It writes the request and reads the response
// head on the caller's goroutine, over pooled keep-alive connections.
//
// net/http's Transport gives every connection a reading and a writing goroutine and hands each
// request and response between them over channels; under load that scheduling costs more CPU
// than the proxying itself. Without a request body there is nothing to stream while the response
// arrives, so one goroutine can do the whole exchange. Everything else (bodies, upgrades,
// HTTP/2) stays with net/http: Handles says which requests this package takes.
//
// Over TLS it offers HTTP/1.1 alone in ALPN, so that a backend which would pick HTTP/2 for
// net/http speaks HTTP/1.1 here, and it resumes TLS sessions for new connections.
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
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// Options configures a Transport. A zero field takes the default named in its comment.
type Options struct {
	// DialContext opens connections. Default: a net.Dialer with a 10s timeout.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// ResponseHeaderTimeout bounds the wait for the response head once the request is written;
	// its expiry is a net.Error whose Timeout method reports true. Zero means no limit.
	ResponseHeaderTimeout time.Duration
	// IdleConnTimeout is how long an unused keep-alive connection is still taken for a request.
	// Default 90s.
	IdleConnTimeout time.Duration
	// MaxIdleConnsPerHost caps the idle connections kept per backend address. Default 64.
	MaxIdleConnsPerHost int
	// MaxIdleConns caps the idle connections kept in all. Zero means no limit.
	MaxIdleConns int
	// MaxResponseHeaderBytes caps the bytes read for a response head, interim (1xx) responses
	// included; a longer one fails with ErrResponseHeaderTooLarge. Default 10 MiB, as net/http's
	// Transport.
	MaxResponseHeaderBytes int64
	// TLSClientConfig is the TLS configuration for https:// backends: roots and client
	// certificates. Nil means the system's roots. Each connection takes a copy whose ServerName
	// is the request's host, as net/http's, and whose NextProtos is "http/1.1"; one without a
	// ClientSessionCache shares a cache of the Transport's own.
	TLSClientConfig *tls.Config
	// TLSHandshakeTimeout bounds the TLS handshake with an https:// backend. Default 10s.
	TLSHandshakeTimeout time.Duration
}

// DefaultMaxResponseHeaderBytes is the head limit when Options names none: net/http's.
const DefaultMaxResponseHeaderBytes = 10 << 20

// ErrResponseHeaderTooLarge is returned when a response head, interim responses included, does
// not fit in Options.MaxResponseHeaderBytes; it is wrapped with the limit.
var ErrResponseHeaderTooLarge = errors.New("h1: response head too large")

// ErrNoHTTP1 is returned when an https:// backend refuses HTTP/1.1 in its TLS handshake (a
// no_application_protocol alert: it speaks HTTP/2 alone). Nothing of the request was sent, so it
// can go to an HTTP/2 client instead.
var ErrNoHTTP1 = errors.New("h1: the backend refuses HTTP/1.1 over TLS")

// Transport is an http.RoundTripper for the requests that Handles accepts. It is safe for
// concurrent use.
type Transport struct {
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	headerTimeout time.Duration
	idleTimeout   time.Duration
	maxPerHost    int
	maxIdle       int
	maxHead       int64
	tlsConf       *tls.Config // NextProtos and the session cache set; ServerName per connection
	tlsTimeout    time.Duration

	mu    sync.Mutex
	idle  map[poolKey][]*conn // most recently used last
	nidle int
}

var _ http.RoundTripper = (*Transport)(nil)

// New returns a Transport configured by opts.
func New(opts Options) *Transport {
	t := &Transport{
		dial:          opts.DialContext,
		headerTimeout: opts.ResponseHeaderTimeout,
		idleTimeout:   opts.IdleConnTimeout,
		maxPerHost:    opts.MaxIdleConnsPerHost,
		maxIdle:       opts.MaxIdleConns,
		maxHead:       opts.MaxResponseHeaderBytes,
		tlsConf:       newTLSConfig(opts.TLSClientConfig),
		tlsTimeout:    opts.TLSHandshakeTimeout,
		idle:          make(map[poolKey][]*conn),
	}
	if t.dial == nil {
		t.dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	if t.idleTimeout <= 0 {
		t.idleTimeout = 90 * time.Second
	}
	if t.maxPerHost <= 0 {
		t.maxPerHost = 64
	}
	if t.maxHead <= 0 {
		t.maxHead = DefaultMaxResponseHeaderBytes
	}
	if t.tlsTimeout <= 0 {
		t.tlsTimeout = 10 * time.Second
	}
	return t
}

// Handles reports whether RoundTrip can send r: an http:// or https:// request with no body, no
// trailers, no Expect and no Upgrade.
func Handles(r *http.Request) bool {
	return (r.URL.Scheme == "http" || r.URL.Scheme == "https") &&
		(r.Body == nil || r.Body == http.NoBody) && r.ContentLength == 0 &&
		r.Trailer == nil && r.Header["Upgrade"] == nil && r.Header["Expect"] == nil
}

// ErrUnsupported is returned for a request that Handles does not accept.
var ErrUnsupported = errors.New("h1: request needs net/http's transport")

// RoundTrip sends r and returns the backend's response, whose Body the caller must close.
//
// A pooled connection is looked at before it is used, and one the backend closed, half-closed or
// wrote to while it was idle is dropped, as net/http's background read would have dropped it.
// When one is closed in the moment between that look and the request, the request is sent again
// on another connection if nothing of it can have been acted on: it was not fully written, or
// its method is idempotent and no byte of an answer came back (net/http's rule).
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !Handles(r) {
		return nil, ErrUnsupported
	}
	ctx := r.Context()
	for {
		c, reused, err := t.conn(ctx, r)
		if err != nil {
			return nil, err
		}
		res, err := t.exchange(ctx, c, r)
		if err == nil {
			return res, nil
		}
		c.close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("h1: %w", context.Cause(ctx))
		}
		if !reused || !retryable(r, err) {
			return nil, err
		}
	}
}

// exchange writes r on c and reads the response head. On success c belongs to the response body,
// which returns it to the pool when read to the end; on failure the caller closes c.
func (t *Transport) exchange(ctx context.Context, c *conn, r *http.Request) (*http.Response, error) {
	stop := context.AfterFunc(ctx, c.interrupt)
	res, err := t.send(ctx, c, r)
	if err != nil {
		stop()
		return nil, err
	}
	// As net/http: no reuse after a status below 200, which no request of this package asks
	// for; a switch of protocols hands over the rest of the connection as the body (and the
	// proxy refuses a switch nobody asked for).
	b := &body{src: res.Body, c: c, t: t, stop: stop,
		reuse: !res.Close && !r.Close && res.StatusCode >= 200}
	if res.StatusCode == http.StatusSwitchingProtocols && res.Header.Get("Upgrade") != "" &&
		httpsyntax.HasToken(res.Header["Connection"], "upgrade") {
		b.src = io.NopCloser(c.br)
		res.Body = b
		return res, nil
	}
	if res.Body == http.NoBody {
		b.release(true)
		return res, nil
	}
	res.Body = b
	return res, nil
}

// send writes r on c and reads the response head, within the response-header timeout and the
// head limit. A cancellation of ctx interrupts it.
func (t *Transport) send(ctx context.Context, c *conn, r *http.Request) (*http.Response, error) {
	if err := writeRequest(c.bw, r); err != nil {
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, &writeError{err: err}
	}
	if t.headerTimeout > 0 {
		c.setReadDeadline(ctx, time.Now().Add(t.headerTimeout))
	}
	// Wait for the first byte apart: net/http reports a connection closed before it and one
	// closed mid-head alike (io.ErrUnexpectedEOF), and only the first is safe to retry.
	c.head.n = t.maxHead
	if _, err := c.br.Peek(1); err != nil {
		return nil, fmt.Errorf("h1: no response: %w", err)
	}
	res, err := readResponse(c.br, r)
	if err != nil {
		if c.head.n <= 0 {
			return nil, fmt.Errorf("%w: over %d bytes", ErrResponseHeaderTooLarge, t.maxHead)
		}
		return nil, err
	}
	c.head.n = math.MaxInt64 // no limit for the body
	if t.headerTimeout > 0 {
		c.setReadDeadline(ctx, time.Time{})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return res, nil
}

// readResponse reads the final response to r from br, skipping interim (1xx) responses other than
// 101 Switching Protocols. As in net/http, their number is not limited: the head limit covers
// them all together.
func readResponse(br *bufio.Reader, r *http.Request) (*http.Response, error) {
	for {
		res, err := http.ReadResponse(br, r)
		if err != nil {
			return nil, err
		}
		if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols || res.StatusCode < 100 {
			return res, nil
		}
	}
}

// writeError is a failure to write the request: the backend cannot have received all of it.
type writeError struct{ err error }

func (e *writeError) Error() string { return "h1: writing request: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// retryable reports whether r may be sent again after err on a pooled connection.
func retryable(r *http.Request, err error) bool {
	if errors.As(err, new(*writeError)) {
		return true // a request without a body that was not fully written was not acted on
	}
	if !idempotent(r) {
		return false
	}
	// io.EOF: the connection closed before the first byte of a response (one cut off later is
	// io.ErrUnexpectedEOF).
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// idempotent reports whether r may be repeated without changing its effect, by the methods and
// header net/http uses for the same decision.
func idempotent(r *http.Request) bool {
	switch r.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	// Present is enough, even with no value (which sends nothing): net/http's Header.has.
	_, key := r.Header["Idempotency-Key"]
	_, xKey := r.Header["X-Idempotency-Key"]
	return key || xKey
}

// hostPort returns host with the scheme's default port added when it names none.
func hostPort(host, scheme string) string {
	if _, port, err := net.SplitHostPort(host); err == nil && port != "" {
		return host
	}
	port := "80"
	if scheme == "https" {
		port = "443"
	}
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		return host + ":" + port
	}
	return net.JoinHostPort(host, port)
}

// poolKey names the pool of connections that can carry a request: the backend's address, and
// whether they speak TLS, since the same address may serve both.
type poolKey struct {
	addr string // host:port
	tls  bool
}

func keyOf(u *url.URL) poolKey {
	return poolKey{addr: hostPort(u.Host, u.Scheme), tls: u.Scheme == "https"}
}

// conn returns an idle connection fit to carry r, or a new one. reused reports which. An idle
// connection is fit when its probe, and over TLS its TLS layer, find it as it was left; one that
// cannot be probed is fit only for an idempotent request, which the retry rule covers.
func (t *Transport) conn(ctx context.Context, r *http.Request) (c *conn, reused bool, err error) {
	key := keyOf(r.URL)
	for c := t.takeIdle(key); c != nil; c = t.takeIdle(key) {
		ok, known := c.probe.usable()
		if !c.tlsQuiet() {
			c.close()
			continue
		}
		if ok || (!known && idempotent(r)) {
			return c, true, nil
		}
		if !known {
			t.putIdle(c) // for the next idempotent request
			break
		}
		c.close()
	}
	nc, err := t.dial(ctx, "tcp", key.addr)
	if err != nil {
		return nil, false, err
	}
	if !key.tls {
		return newConn(nc, nc, key), false, nil
	}
	tc, err := t.handshake(ctx, nc, r.URL.Hostname())
	if err != nil {
		nc.Close()
		return nil, false, err
	}
	return newConn(tc, nc, key), false, nil
}

// takeIdle removes and returns the most recently used idle connection of the pool key, closing
// those idle for longer than the idle timeout, or returns nil.
func (t *Transport) takeIdle(key poolKey) *conn {
	var stale []*conn
	defer func() {
		for _, c := range stale {
			c.close()
		}
	}()
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := t.idle[key]
	for len(cs) > 0 {
		c := cs[len(cs)-1]
		cs[len(cs)-1] = nil
		cs = cs[:len(cs)-1]
		t.nidle--
		if time.Since(c.idleSince) <= t.idleTimeout {
			t.idle[key] = cs
			return c
		}
		stale = append(stale, c)
	}
	delete(t.idle, key)
	return nil
}

// putIdle keeps c for the next request to its address, or closes it when the pool is full.
func (t *Transport) putIdle(c *conn) {
	t.mu.Lock()
	if len(t.idle[c.key]) >= t.maxPerHost || (t.maxIdle > 0 && t.nidle >= t.maxIdle) {
		t.mu.Unlock()
		c.close()
		return
	}
	t.idle[c.key] = append(t.idle[c.key], c)
	t.nidle++
	t.mu.Unlock()
}

// CloseIdleConnections closes the connections that carry no request now.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = make(map[poolKey][]*conn)
	t.nidle = 0
	t.mu.Unlock()
	for _, cs := range idle {
		for _, c := range cs {
			c.close()
		}
	}
}

// IdleConns returns how many idle connections the pool holds.
func (t *Transport) IdleConns() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nidle
}
