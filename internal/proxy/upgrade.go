package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/forward"
	"github.com/skipper-egress/skipper/routing"
)

// errUpgrade is returned when a backend's answer to an upgrade request cannot be tunnelled.
var errUpgrade = errors.New("protocol upgrade failed")

// upgradeType returns the protocol an HTTP/1.1 request asks to switch to (RFC 9110 §7.8), or ""
// when it asks for none or for more than one: Upgrade only counts when Connection names it, and
// is ignored on HTTP/1.0. All the Upgrade fields count, not only the first. A request whose
// Connection names upgrade but that asks for no single protocol is forwarded as a plain one; it
// still may leave HTTP as the guard sees it (mayLeaveHTTP), so its connection is closed after
// the answer.
func upgradeType(r *http.Request) string {
	if r.ProtoMajor != 1 || r.ProtoMinor == 0 || !hasToken(r.Header["Connection"], "upgrade") {
		return ""
	}
	return upgradeProtocol(r.Header["Upgrade"])
}

// keepUpgrade puts back the two headers that ask for an upgrade, which hop-by-hop removal took
// away: this one hop is the one that should switch.
func keepUpgrade(h http.Header, proto string) {
	h.Set("Connection", "Upgrade")
	h.Set("Upgrade", proto)
}

// prepareUpgrade readies out, a request whose client asks to switch to proto, for a tunnel:
// it takes a tunnel slot before anything is sent, so that a backend is never asked to switch
// when no tunnel can open (ok false: the proxy answers 503), and it has the transport report the
// connection the answer arrives on, which tunnel needs for deadlines and half-close. release
// gives the slot back; call it once the tunnel, if any, has closed. Without proto, out is
// returned as it is and nothing is taken.
func (p *Proxy) prepareUpgrade(out *http.Request, proto string) (_ *http.Request, release func(), ok bool) {
	if proto == "" {
		return out, func() {}, true
	}
	release, ok = p.fwd.tunnels.Acquire()
	if !ok {
		return out, nil, false
	}
	backend := new(upgradeConn)
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { backend.conn.Store(&info.Conn) }}
	ctx := context.WithValue(httptrace.WithClientTrace(out.Context(), trace), upgradeConnKey{}, backend)
	return out.WithContext(ctx), release, true
}

// upgradeConnKey is the context key of a request's *upgradeConn.
type upgradeConnKey struct{}

// upgradeConn holds the backend connection an upgrade request was last sent on. A transport may
// try a second connection when the first fails before any answer, so the last one counts.
type upgradeConn struct{ conn atomic.Pointer[net.Conn] }

// tunnel answers a 101 Switching Protocols from the backend: it sends the 101 to the client and
// then runs the tunnel between the two connections with the forward proxy's tunnel code, under
// the same limits as CONNECT tunnels: -tunnel-idle-timeout, -tunnel-max-lifetime, half-close
// and a slot of -max-tunnels, which prepareUpgrade took.
func (p *Proxy) tunnel(w *responseRecorder, r *http.Request, res *http.Response, route *routing.Route, proto string) {
	body, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		res.Body.Close()
		p.fail(w, r, route, fmt.Errorf("%w: the backend switched protocols without a connection", errUpgrade))
		return
	}
	defer body.Close()
	if got := res.Header.Get("Upgrade"); !strings.EqualFold(got, proto) {
		p.fail(w, r, route, fmt.Errorf("%w: the client asked for %q, the backend switched to %q", errUpgrade, proto, got))
		return
	}
	backend, err := backendConn(res, body)
	if err != nil {
		p.fail(w, r, route, err)
		return
	}
	client, brw, err := hijack(w)
	if err != nil {
		p.fail(w, r, route, fmt.Errorf("%w: %w", errUpgrade, err))
		return
	}
	defer client.Close()

	res.Body = nil // Write sends the status line and header only
	w.status = res.StatusCode
	if err := res.Write(brw); err != nil {
		return
	}
	if err := brw.Flush(); err != nil {
		return
	}
	// The client may have sent its first bytes of the new protocol right behind the request.
	stats, err := p.fwd.tunnels.Run(r.Context(), forward.Hijacked(client, brw.Reader), backend)
	w.written = stats.Down
	p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), "upgrade": proto, "up": stats.Up, "down": stats.Down, fieldError: err}).
		Debug("tunnel closed")
}

// backendConn returns the backend side of a tunnel: reads go through body, the 101 response's
// body, which first yields what the transport read past the response head; writes, deadlines,
// half-close and close go to the connection the response arrived on, which prepareUpgrade had
// the transport report.
func backendConn(res *http.Response, body io.ReadWriteCloser) (net.Conn, error) {
	var uc *upgradeConn
	if res.Request != nil {
		uc, _ = res.Request.Context().Value(upgradeConnKey{}).(*upgradeConn)
	}
	if uc == nil || uc.conn.Load() == nil {
		return nil, fmt.Errorf("%w: the transport did not report the backend connection", errUpgrade)
	}
	return &switchedConn{Conn: *uc.conn.Load(), body: body}, nil
}

// switchedConn is a backend connection after a 101: reads come through the response body.
type switchedConn struct {
	net.Conn
	body io.ReadWriteCloser
}

func (c *switchedConn) Read(p []byte) (int, error) { return c.body.Read(p) }

func (c *switchedConn) Close() error { return c.body.Close() }

// CloseWrite half-closes the connection when it can (TCP, TLS), so that a client that finished
// sending is seen by the backend as EOF while the backend can still answer.
func (c *switchedConn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return errors.ErrUnsupported
	}
	return cw.CloseWrite()
}
