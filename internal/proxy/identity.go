package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

// identityCheckEvery is how often Run looks for client identities that rotated, so that the
// connections made with an old certificate are closed within a second of the new one being
// read, even when no request comes to replace them.
const identityCheckEvery = 250 * time.Millisecond

// maxIdentities bounds the client identities with a transport of their own; one more retires
// the one unused the longest. Routes name identities, so a table with more is unusual.
const maxIdentities = 1024

// identities holds a transport per client identity, each with its own connection pools and TLS
// session caches, created on first use. A connection is never shared between two identities,
// nor between an identity and none: a request goes to the transport of its identity, and a
// rotated identity gets a new transport while the old one is retired.
type identities struct {
	mu      sync.Mutex // serializes writers
	live    atomic.Pointer[map[string]*identity]
	retired []*Transport // under mu: retired transports with connections still open
}

// identity is the transport of one ClientIdentity.
type identity struct {
	id   *filters.ClientIdentity
	src  filters.ClientCertifier
	t    *Transport
	used atomic.Int64 // unix nanos of the last request
}

// clientTransport returns the transport that sends out, a request of route to go through base:
// for an https request of a route with a client certificate, the transport of the
// certificate's current identity made from base (with base's dialer, so the forward proxy's
// guard still applies); else base.
func clientTransport(route *routing.Route, out *http.Request, base http.RoundTripper) (http.RoundTripper, error) {
	c := route.Settings.ClientCert
	if c == nil || out.URL.Scheme != "https" {
		return base, nil
	}
	t, ok := base.(*Transport)
	if !ok {
		return nil, errClientCertTransport
	}
	id, err := c.ClientIdentity()
	recordClientCert(out, c, id, err)
	if err != nil {
		return nil, err
	}
	return t.identityTransport(c, id), nil
}

// recordClientCert records the use of c, the route's client certificate filter, on out, for the
// audit log and skipper_credential_injections_total: under the key's path, with the
// certificate as the version the fingerprint covers. id and err are c's ClientIdentity, the one
// the request is sent with.
func recordClientCert(out *http.Request, c filters.ClientCertifier, id *filters.ClientIdentity, err error) {
	u := filters.CredentialUse{Filter: filters.TLSClientCertFromSecretsName, Err: err}
	if su, ok := c.(filters.SecretUser); ok {
		if names := su.SecretNames(); len(names) > 0 {
			u.Secret = names[len(names)-1] // certificate, key: the key is the secret
		}
	}
	if err == nil && len(id.Certificates) > 0 && len(id.Certificates[0].Certificate) > 0 {
		u.Version = id.Certificates[0].Certificate[0]
	}
	filters.RecordCredentialUse(out, u)
}

// errClientCertTransport fails the requests of a route with a client certificate when the proxy
// was given a transport of another kind, which could not keep the identity's connections apart.
var errClientCertTransport = errors.New("client certificates need the proxy's own transport")

// forIdentity returns the transport for the current identity of c, making one when there is
// none yet or when the identity rotated. It fails when c has no usable identity.
func (t *Transport) forIdentity(c filters.ClientCertifier) (*Transport, error) {
	id, err := c.ClientIdentity()
	if err != nil {
		return nil, err
	}
	return t.identityTransport(c, id), nil
}

// identityTransport returns the transport for id, c's current identity, making one when there is
// none yet or when the identity rotated.
func (t *Transport) identityTransport(c filters.ClientCertifier, id *filters.ClientIdentity) *Transport {
	if m := t.ids.live.Load(); m != nil {
		if e := (*m)[id.Key]; e != nil && e.id == id {
			e.used.Store(time.Now().UnixNano())
			return e.t
		}
	}
	return t.ids.add(t, c, id)
}

// add returns the transport for id, making it and retiring the transport of the identity's
// previous version, unless another caller has just done so.
func (ids *identities) add(base *Transport, c filters.ClientCertifier, id *filters.ClientIdentity) *Transport {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	next := make(map[string]*identity)
	if m := ids.live.Load(); m != nil {
		if e := (*m)[id.Key]; e != nil && e.id == id {
			return e.t
		}
		for k, e := range *m {
			next[k] = e
		}
	}
	if old := next[id.Key]; old != nil {
		delete(next, id.Key)
		ids.retire(old.t)
	}
	if len(next) >= maxIdentities {
		ids.evictOldest(next)
	}
	e := &identity{id: id, src: c, t: base.withCerts(id.Certificates)}
	e.used.Store(time.Now().UnixNano())
	next[id.Key] = e
	ids.live.Store(&next)
	return e.t
}

// evictOldest retires the identity of m unused the longest. ids.mu is held.
func (ids *identities) evictOldest(m map[string]*identity) {
	var oldest string
	for k, e := range m {
		if oldest == "" || e.used.Load() < m[oldest].used.Load() {
			oldest = k
		}
	}
	ids.retire(m[oldest].t)
	delete(m, oldest)
}

// retire closes t's idle connections and keeps t until those busy now are closed too. ids.mu
// is held.
func (ids *identities) retire(t *Transport) {
	t.CloseIdleConnections()
	if t.open.Load() > 0 {
		ids.retired = append(ids.retired, t)
	}
}

// check retires the identities that rotated, became unusable or went unused for idle, and
// closes what the retired transports have left idle since. Run calls it.
func (ids *identities) check(idle time.Duration) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if m := ids.live.Load(); m != nil {
		next := make(map[string]*identity, len(*m))
		stale := time.Now().Add(-idle).UnixNano()
		for k, e := range *m {
			id, err := e.src.ClientIdentity()
			if err != nil || id != e.id || e.used.Load() < stale {
				ids.retire(e.t)
				continue
			}
			next[k] = e
		}
		if len(next) != len(*m) {
			ids.live.Store(&next)
		}
	}
	ids.sweep()
}

// sweep closes the idle connections of the retired transports and forgets those with none left
// open. ids.mu is held.
func (ids *identities) sweep() {
	kept := ids.retired[:0]
	for _, t := range ids.retired {
		t.CloseIdleConnections()
		if t.open.Load() > 0 {
			kept = append(kept, t)
		}
	}
	clear(ids.retired[len(kept):])
	ids.retired = kept
}

// closeIdle closes the idle connections of every identity's transport, live or retired.
func (ids *identities) closeIdle() {
	if m := ids.live.Load(); m != nil {
		for _, e := range *m {
			e.t.CloseIdleConnections()
		}
	}
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.sweep()
}

// withCerts returns a transport like t, without its ClientCert, that presents certs to https
// backends and counts its open connections, with pools and session caches of its own.
func (t *Transport) withCerts(certs []tls.Certificate) *Transport {
	open := new(atomic.Int64)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := t.dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		open.Add(1)
		return &countedConn{Conn: c, open: open}, nil
	}
	it := build(t.opts, dial, certs)
	it.open = open
	return it
}

// countedConn is a connection of an identity's transport, counted in open until it is closed.
type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// SyscallConn lets package h1 probe an idle connection's socket, as it does an uncounted one.
func (c *countedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errNoSyscallConn
	}
	return sc.SyscallConn()
}

// CloseWrite half-closes the connection when the one beneath can.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return &net.OpError{Op: "closewrite", Err: syscall.ENOTSUP}
}

var errNoSyscallConn = &net.OpError{Op: "syscall", Err: syscall.ENOTSUP}
