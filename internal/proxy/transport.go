package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/h1"
)

// TransportOptions tunes the connections to backends. A zero field takes the default named in its
// comment.
type TransportOptions struct {
	// DialTimeout bounds connecting to a backend (Skipper's -timeout-backend). Default 10s.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake with an https backend. Default 10s.
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a backend's response headers after the request
	// was sent; when it passes the client gets 504. Default 60s, as Skipper's
	// -response-header-timeout-backend. It does not limit a streaming response body.
	ResponseHeaderTimeout time.Duration
	// ExpectContinueTimeout is how long a request carrying "Expect: 100-continue" waits for the
	// backend's 100 Continue before its body is sent anyway. Default 1s.
	ExpectContinueTimeout time.Duration
	// IdleConnsPerHost is how many idle keep-alive connections are kept to each backend.
	// Default 64, as Skipper's -idle-conns-num; Go's own default of 2 would make a busy
	// sidecar open and close a connection for most requests.
	IdleConnsPerHost int
	// MaxIdleConns caps the idle keep-alive connections to all backends together. Zero means no
	// limit, as Skipper's -max-idle-connection-backend.
	MaxIdleConns int
	// IdleConnTimeout closes keep-alive connections unused for this long. Default 90s.
	IdleConnTimeout time.Duration
	// CloseIdleConnsPeriod is how often Run closes every idle connection, so that a backend whose
	// DNS name moved is reached at its new address (Skipper's -close-idle-conns-period). Zero
	// means never.
	CloseIdleConnsPeriod time.Duration
	// MaxResponseHeaderBytes caps the size of a backend's response head, interim responses
	// included, on every transport (plain HTTP/1.1, https, h2c, the forward proxy's); a backend
	// that sends more gets its client a 502. Default 10 MiB, as net/http's.
	MaxResponseHeaderBytes int64
	// RootCAs verifies the certificates of https backends. If nil, the system roots are used.
	// SystemRootsWith builds a pool of the system roots plus a CA bundle.
	RootCAs *x509.CertPool
	// ClientCert, if set, gives every connection to an https backend this client identity
	// (Skipper's -client-tls-cert); a route's own (tlsClientCertFromSecrets) takes its place.
	// Its connections and TLS sessions are kept apart from those without it, and are replaced
	// when it rotates (see Run).
	ClientCert filters.ClientCertifier
}

func (o TransportOptions) withDefaults() TransportOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.DialTimeout, 10*time.Second)
	def(&o.TLSHandshakeTimeout, 10*time.Second)
	def(&o.ResponseHeaderTimeout, 60*time.Second)
	def(&o.ExpectContinueTimeout, time.Second)
	def(&o.IdleConnTimeout, 90*time.Second)
	if o.IdleConnsPerHost <= 0 {
		o.IdleConnsPerHost = 64
	}
	if o.MaxResponseHeaderBytes <= 0 {
		o.MaxResponseHeaderBytes = h1.DefaultMaxResponseHeaderBytes
	}
	return o
}

// Transport carries every request to every backend, so that keep-alive connections are pooled
// across routes. Requests without a body, most of a sidecar's traffic, take package h1's client
// over HTTP/1.1, to http:// and https:// backends alike: it needs neither of the two goroutines
// net/http's keeps per connection, and over TLS a pool of HTTP/1.1 connections costs both sides
// less CPU than HTTP/2's framing and flow control on one shared connection. The rest take
// net/http's: HTTP/1.1 to http:// backends, HTTP/2 or HTTP/1.1 (as the backend's TLS handshake
// chooses) to https:// backends, so gRPC keeps its HTTP/2, and HTTP/2 with prior knowledge to
// h2c:// backends. An https backend that refuses HTTP/1.1 in its handshake gets every request
// through net/http from then on. It is safe for concurrent use.
//
// A request that goes with a client certificate (TransportOptions.ClientCert, or a route's)
// goes through a transport of that identity's own, made on first use, whose connections and TLS
// sessions no other identity, and no request without one, ever shares (see forIdentity).
//
// It never consults HTTP_PROXY and friends: a proxy that honoured them for its own backends
// would loop through itself when a service points those variables at it. It asks for no
// compression and unpacks nothing, so clients and backends negotiate encodings end to end.
type Transport struct {
	opts      TransportOptions // with defaults, ClientCert cleared: for the identities' transports
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)
	global    filters.ClientCertifier // Options.ClientCert; nil: none
	ids       identities              // the transports of client identities, global or routes'
	open      *atomic.Int64           // open connections; nil but for an identity's transport
	plain     *h1.Transport           // http backends, requests that h1.Handles
	http1     *http.Transport         // http and https backends
	h2c       *http.Transport         // h2c backends: unencrypted HTTP/2 only
	proxied   *http.Transport         // requests of backendIsProxy routes, through their proxy
	closeIdle time.Duration
	noHTTP1   hostSet // https backends that refused HTTP/1.1: all their requests take http1
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport configured by opts.
func NewTransport(opts TransportOptions) *Transport {
	return newTransport(opts, nil)
}

// newTransport returns a Transport configured by opts that opens connections with dial, or with a
// net.Dialer bounded by opts.DialTimeout when dial is nil.
func newTransport(opts TransportOptions, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *Transport {
	o := opts.withDefaults()
	if dial == nil {
		dial = (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	global := o.ClientCert
	o.ClientCert = nil
	t := build(o, dial, nil)
	t.global = global
	return t
}

// build returns a Transport configured by o, which has its defaults, that opens connections with
// dial and presents certs, if any, to https backends.
func build(o TransportOptions, dial func(ctx context.Context, network, addr string) (net.Conn, error), certs []tls.Certificate) *Transport {
	t := &Transport{
		opts: o,
		dial: dial,
		plain: h1.New(h1.Options{
			DialContext:           dial,
			ResponseHeaderTimeout: o.ResponseHeaderTimeout,
			IdleConnTimeout:       o.IdleConnTimeout,
			MaxIdleConnsPerHost:   o.IdleConnsPerHost,
			MaxIdleConns:          o.MaxIdleConns,

			MaxResponseHeaderBytes: o.MaxResponseHeaderBytes,
			TLSClientConfig:        backendTLS(o, certs),
			TLSHandshakeTimeout:    o.TLSHandshakeTimeout,
		}),
		http1:     newHTTPTransport(o, dial, certs),
		h2c:       newHTTPTransport(o, dial, nil),
		proxied:   newHTTPTransport(o, dial, nil),
		closeIdle: o.CloseIdleConnsPeriod,
	}
	t.proxied.Proxy = proxyOf
	t.http1.ForceAttemptHTTP2 = true // a custom dialer and TLS config would otherwise turn HTTP/2 off
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true) // and not HTTP1: the transport then uses HTTP/2 for http:// URLs
	t.h2c.Protocols = &h2c
	return t
}

// backendTLS returns the TLS configuration for https backends: the roots of opts, the client
// certificates, and a session cache of its own, so that new connections resume their sessions
// and a session never crosses from one client identity to another (a resumed session carries
// the identity of the handshake that made it).
func backendTLS(o TransportOptions, certs []tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: o.RootCAs, Certificates: certs, ClientSessionCache: tls.NewLRUClientSessionCache(0)}
}

func newHTTPTransport(o TransportOptions, dial func(ctx context.Context, network, addr string) (net.Conn, error), certs []tls.Certificate) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		TLSClientConfig:       backendTLS(o, certs),
		TLSHandshakeTimeout:   o.TLSHandshakeTimeout,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: o.ExpectContinueTimeout,
		MaxIdleConns:          o.MaxIdleConns,
		MaxIdleConnsPerHost:   o.IdleConnsPerHost,
		IdleConnTimeout:       o.IdleConnTimeout,
		DisableCompression:    true,

		MaxResponseHeaderBytes: o.MaxResponseHeaderBytes, // also HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE
	}
}

// proxyKey is the context key of the proxy a backendIsProxy request goes through.
type proxyKey struct{}

// withProxy returns out aimed at dest through the proxy at out's current scheme and host, as
// Skipper's backendIsProxy sends it: net/http's transport writes an http destination's request
// in absolute form to the proxy, and opens a CONNECT tunnel through it to an https one. The
// Host the destination sees is its own, so that the absolute URI and the Host header agree.
func withProxy(out *http.Request, scheme, dest string) *http.Request {
	via := &url.URL{Scheme: out.URL.Scheme, Host: out.URL.Host}
	out = out.WithContext(context.WithValue(out.Context(), proxyKey{}, via))
	u := *out.URL
	u.Scheme, u.Host = scheme, dest
	out.URL = &u
	out.Host = hostHeader(scheme, dest)
	return out
}

// proxyOf returns the proxy that withProxy gave r, nil if none; it is the proxied transport's
// Proxy function.
func proxyOf(r *http.Request) (*url.URL, error) {
	u, _ := r.Context().Value(proxyKey{}).(*url.URL)
	return u, nil
}

// RoundTrip sends one request. A request for an h2c:// URL goes out as http:// over HTTP/2 with
// prior knowledge (RFC 9113 §3.3); every other scheme goes to an HTTP/1.1 transport.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if u, _ := proxyOf(r); u != nil {
		// Before the client identity: a backendIsProxy route's requests never bypass its proxy
		// (and such routes take no credential filter, tlsClientCertFromSecrets included).
		return t.proxied.RoundTrip(r)
	}
	if t.global != nil && r.URL.Scheme == "https" {
		it, err := t.forIdentity(t.global)
		if err != nil {
			return nil, err
		}
		return it.RoundTrip(r)
	}
	if t.viaH1(r) {
		res, err := t.plain.RoundTrip(r)
		if !errors.Is(err, h1.ErrNoHTTP1) {
			return res, err
		}
		t.noHTTP1.add(r.URL.Host) // and send it over HTTP/2: nothing of it went out
	}
	if r.URL.Scheme != "h2c" {
		return t.http1.RoundTrip(r)
	}
	out := r.WithContext(r.Context()) // a shallow copy: a RoundTripper must not change its request
	u := *r.URL
	u.Scheme = "http"
	out.URL = &u
	return t.h2c.RoundTrip(out)
}

// viaH1 reports whether r takes package h1's client. An https request whose client takes
// trailers ("TE: trailers", as every gRPC client sends) goes to net/http instead, so that the
// backend can answer over HTTP/2, where trailers need no chunked framing: over HTTP/1.1 a server
// may drop them from a response it sends with a Content-Length, as Go's does.
func (t *Transport) viaH1(r *http.Request) bool {
	if !h1.Handles(r) {
		return false
	}
	if r.URL.Scheme != "https" {
		return true
	}
	return !acceptsTrailers(r.Header) && !t.noHTTP1.has(r.URL.Host)
}

// hostSet is a set of backend hosts that is read on every request and rarely written: reads
// take no lock, a write copies it. It is bounded, since a forward proxy reaches hosts that
// clients choose: full, it starts again empty, and a host it forgot costs one more handshake.
type hostSet struct {
	mu    sync.Mutex // serializes writers
	hosts atomic.Pointer[map[string]struct{}]
}

const maxHostSet = 4096

func (s *hostSet) has(host string) bool {
	m := s.hosts.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[host]
	return ok
}

func (s *hostSet) add(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make(map[string]struct{})
	if old := s.hosts.Load(); old != nil && len(*old) < maxHostSet {
		maps.Copy(next, *old)
	}
	next[host] = struct{}{}
	s.hosts.Store(&next)
}

// CloseIdleConnections closes the keep-alive connections that carry no request now, those of
// the client identities' transports too.
func (t *Transport) CloseIdleConnections() {
	t.plain.CloseIdleConnections()
	t.http1.CloseIdleConnections()
	t.h2c.CloseIdleConnections()
	t.proxied.CloseIdleConnections()
	t.ids.closeIdle()
}

// Run closes the idle connections every CloseIdleConnsPeriod until ctx is done. Every
// identityCheckEvery it also looks at the client identities in use: the connections of one that
// rotated, became unusable or went unused for the idle timeout are closed, those carrying a
// request as soon as it is done. It returns nil.
func (t *Transport) Run(ctx context.Context) error {
	var closeIdle <-chan time.Time
	if t.closeIdle > 0 {
		tick := time.NewTicker(t.closeIdle)
		defer tick.Stop()
		closeIdle = tick.C
	}
	check := time.NewTicker(identityCheckEvery)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-closeIdle:
			t.CloseIdleConnections()
		case <-check.C:
			t.ids.check(t.opts.IdleConnTimeout)
		}
	}
}

// SystemRootsWith returns the system's root certificates plus those in the PEM file caFile, for
// backends whose certificates a private CA signed. An empty caFile returns the system roots.
func SystemRootsWith(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool() // no system roots here: the bundle alone
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caFile)
	}
	return pool, nil
}
