package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/forward"
	"github.com/skipper-egress/skipper/routing"
)

// interceptHandshakeTimeout bounds the client's TLS handshake inside an intercepted tunnel, and
// the reading of each decrypted request's header.
const interceptHandshakeTimeout = 10 * time.Second

// intercept terminates the client's TLS inside a CONNECT tunnel with a certificate for the
// CONNECT host minted by the CA, and serves the decrypted HTTP/1.1 requests as HTTPS requests to
// that host: each is matched against the route table again. Nothing is dialed for the CONNECT
// itself; the inner requests reach whatever their routes say.
func (p *Proxy) intercept(w *responseRecorder, r *http.Request, route *routing.Route) {
	if p.fwd.ca == nil {
		p.fail(w, r, route, errNoCA)
		return
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil || host == "" {
		p.fail(w, r, route, fmt.Errorf("%w: %q", forward.ErrInvalidAddress, r.Host))
		return
	}
	if _, err := p.fwd.ca.Certificate(host); err != nil { // minted now, so a bad host gets 400
		p.fail(w, r, route, err)
		return
	}
	ctx, release, err := p.fwd.openTunnel(r.Context())
	if err != nil {
		p.fail(w, r, route, err)
		return
	}
	defer release()
	client, err := p.hijackConnect(w)
	if err != nil {
		p.fail(w, r, route, err)
		return
	}
	w.decide(audit.DecisionIntercepted)
	conn := tls.Server(client, p.fwd.ca.ForHost(host))
	defer conn.Close()
	hctx, cancel := context.WithTimeout(ctx, interceptHandshakeTimeout)
	err = conn.HandshakeContext(hctx)
	cancel()
	if err != nil {
		p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldHost: r.Host, fieldError: err}).
			Debug("tls handshake in intercepted tunnel failed")
		return
	}
	p.serveIntercepted(ctx, conn, r.Host, filters.ProxyUser(r.Context()))
	p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldHost: r.Host}).Debug("intercepted tunnel closed")
}

// serveIntercepted serves HTTP/1.1 on conn until the client closes it, it stays idle for the
// tunnel idle timeout, the tunnel lifetime passes or ctx is done. It returns once the request
// being served, if any, has finished, and the tunnel it opened, if any, has ended.
func (p *Proxy) serveIntercepted(ctx context.Context, conn net.Conn, authority, user string) {
	if p.fwd.opts.MaxLifetime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.fwd.opts.MaxLifetime)
		defer cancel()
	}
	// The decrypted requests are checked as the listener checks its own: a request with
	// ambiguous framing is answered 400 and ends the tunnel.
	ln := newOneConnListener(&guardConn{Conn: conn, g: p.inner})
	// A request whose connection the proxy hijacks (an upgrade the backend switched) is
	// served until its tunnel ends, after the server has let the connection go.
	var handlers sync.WaitGroup
	inner := p.innerHandler(authority, user)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handlers.Add(1)
			defer handlers.Done()
			inner.ServeHTTP(w, r)
		}),
		ConnContext:       p.ConnContext, // r.TLS, which the server cannot see through the guard
		ReadHeaderTimeout: interceptHandshakeTimeout,
		IdleTimeout:       p.fwd.opts.IdleTimeout,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed || s == http.StateHijacked {
				ln.finish()
			}
		},
	}
	stop := context.AfterFunc(ctx, func() {
		srv.Close()
		conn.Close()
	})
	defer stop()
	srv.Serve(ln) //nolint:errcheck // it ends when the one connection has ended
	if !ln.wasAccepted() {
		conn.Close()
		return
	}
	<-ln.finished
	handlers.Wait()
}

// innerHandler serves the requests decrypted from a tunnel to authority: it refuses those meant
// for another host with 421, makes the URL absolute (https://authority/...) and hands them to
// the proxy, which matches them against the table again, as the CONNECT's user.
func (p *Proxy) innerHandler(authority, user string) http.Handler {
	want := canonicalAuthority(authority)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.isRefusal(r) {
			p.ServeHTTP(w, r) // answers the guard's stand-in for a refused head, whatever its Host
			return
		}
		closeIfLeaving(w, r)
		if r.Method == http.MethodConnect {
			http.Error(w, "Method Not Allowed: CONNECT inside an intercepted tunnel", http.StatusMethodNotAllowed)
			return
		}
		if got := canonicalAuthority(r.Host); got != want {
			p.log.WithFields(logrus.Fields{fieldHost: r.Host, "tunnel": authority, fieldError: errMisdirected}).
				Warn("intercepted request refused")
			http.Error(w, fmt.Sprintf("%s: %s is not %s", http.StatusText(http.StatusMisdirectedRequest), r.Host, authority),
				http.StatusMisdirectedRequest)
			return
		}
		r.URL.Scheme = "https"
		r.URL.Host = authority
		p.ServeHTTP(w, r.WithContext(innerContext(r.Context(), user)))
	})
}

// canonicalAuthority returns hostport lower-cased, without a trailing dot on the name and with
// port 443 when it names none, so that "A.test" and "a.test.:443" compare equal.
func canonicalAuthority(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), "443"
	}
	return net.JoinHostPort(strings.ToLower(strings.TrimSuffix(host, ".")), port)
}

// oneConnListener is a net.Listener that hands out one connection and then blocks until it is
// closed, so that an http.Server can serve a connection it did not accept itself.
type oneConnListener struct {
	conns      chan net.Conn
	closed     chan struct{}
	finished   chan struct{} // closed when the connection has been served
	addr       net.Addr
	closeOnce  sync.Once
	finishOnce sync.Once
	mu         sync.Mutex
	accepted   bool
}

func newOneConnListener(c net.Conn) *oneConnListener {
	l := &oneConnListener{
		conns:    make(chan net.Conn, 1),
		closed:   make(chan struct{}),
		finished: make(chan struct{}),
		addr:     c.LocalAddr(),
	}
	l.conns <- c
	return l
}

// Accept returns the connection once, then waits for Close.
func (l *oneConnListener) Accept() (net.Conn, error) {
	select {
	case <-l.closed:
		return nil, net.ErrClosed
	default:
	}
	select {
	case c := <-l.conns:
		l.mu.Lock()
		l.accepted = true
		l.mu.Unlock()
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close makes Accept return net.ErrClosed.
func (l *oneConnListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

// Addr returns the connection's local address.
func (l *oneConnListener) Addr() net.Addr { return l.addr }

// finish records that the connection has been served and stops the listener.
func (l *oneConnListener) finish() {
	l.finishOnce.Do(func() { close(l.finished) })
	l.Close()
}

func (l *oneConnListener) wasAccepted() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted
}
