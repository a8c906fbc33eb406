package proxy

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/forward"
	"github.com/skipper-egress/skipper/internal/mitm"
	"github.com/skipper-egress/skipper/routing"
)

// ForwardOptions configures the forward proxy: absolute-form requests ("GET http://a.test/x")
// and CONNECT tunnels that arrive on the same listener as every other request and are routed by
// the same table.
type ForwardOptions struct {
	// Guard dials the destinations that clients choose: those of <dynamic> routes and of blind
	// tunnels. If nil, a Guard with the system resolver and no allowed ranges is used, which
	// refuses every internal address.
	Guard *forward.Guard
	// Tunnels limits the number of open tunnels (blind, intercepted and protocol upgrades such
	// as WebSocket, together) and their idle time and lifetime.
	Tunnels forward.TunnelOptions
	// CA mints the certificates of intercepted CONNECT destinations. If nil, a CONNECT that
	// matches a <loopback> route is answered 502.
	CA *mitm.CA
	// Transport tunes the connections of <dynamic> routes, which dial through Guard.
	Transport TransportOptions
	// ProxyAuth, if set, returns the "user:password" lines (see ParseProxyUsers) one of which
	// forward-proxy requests must present in a Basic Proxy-Authorization header; others get
	// 407. It is called for every such request, so that a rotated secret takes effect at once.
	// An error, or content that does not parse, refuses the request. Requests inside an
	// intercepted tunnel were authorised with their CONNECT and are not checked again; they
	// carry its user (filters.ProxyUser).
	ProxyAuth func() ([]byte, error)
	// ProxyAuthFile names what ProxyAuth reads in errors, such as the -forward-proxy-auth file.
	ProxyAuthFile string
	// Log receives what Run does at shutdown. If nil, nothing is logged.
	Log logrus.FieldLogger
}

// errForwardDenied is the reason a forward-proxy request was refused before anything was dialed.
var errForwardDenied = errors.New("forward request denied")

// errTunnelLimit is returned when the limit of open tunnels is reached.
var errTunnelLimit = errors.New("too many open tunnels")

// errNoCA is returned for a CONNECT that a route intercepts when no CA is configured.
var errNoCA = errors.New("tls interception needs -ca-cert and -ca-key")

// errMisdirected is returned for an intercepted request whose Host is not the CONNECT authority.
var errMisdirected = errors.New("request host differs from the tunnel's destination")

// isForward reports whether r asks the proxy to act as a forward proxy: a CONNECT or an
// absolute-form request target. Requests decrypted from an intercepted tunnel count too, since
// their URL is made absolute.
func isForward(r *http.Request) bool {
	return r.Method == http.MethodConnect || r.URL.IsAbs()
}

// denyForward answers a forward-proxy request that no route allows with 403 and logs it. Nothing
// is dialed. Under report-only, it sends the request on instead (see passForward).
func (p *Proxy) denyForward(w *responseRecorder, r *http.Request, reason string) {
	if p.reportOnly != nil {
		p.passForward(w, r, reason)
		return
	}
	w.decide(audit.DecisionDenied)
	p.log.WithFields(logrus.Fields{fieldHost: r.Host, "method": r.Method, "remote": r.RemoteAddr}).
		Warnf("forward proxy request denied: %s", reason)
	http.Error(w, "Forbidden: "+reason, http.StatusForbidden)
}

// requestTarget returns the scheme and host:port that r itself names: the absolute URL's when
// the client sent one (or interception made one), else http and the Host. It is where a
// <dynamic> route sends r unless a setDynamicBackend filter chooses otherwise, as Skipper
// falls back to the request's own host and scheme.
func requestTarget(r *http.Request) (scheme, host string) {
	if r.URL.IsAbs() {
		return strings.ToLower(r.URL.Scheme), r.URL.Host
	}
	return "http", r.Host
}

// aimDynamic points out, the request of a <dynamic> route after its filters ran, at the
// destination they chose in b (see filters.DynamicBackend), or else at the request's own, and
// returns the transport to send it with.
//
// Trust follows who wrote the destination. A host written in the route text
// (setDynamicBackendUrl or setDynamicBackendHost with a literal argument) is the route
// author's choice, trusted like a network backend, and goes through the proxy's transport. A
// host the client controls (a FromHeader value, the Host header, an absolute URI) goes through
// the forward proxy's SSRF guard, which refuses internal addresses unless allowed. The scheme
// alone does not move a request to another host, so it does not change the trust.
func (p *Proxy) aimDynamic(r, out *http.Request, b filters.DynamicBackend) (http.RoundTripper, error) {
	scheme, host := requestTarget(r)
	trusted := false
	if b.URL != "" {
		// As in Skipper, a URL that does not parse leaves the request's own destination, and
		// a URL set at all makes Host and Scheme count for nothing.
		if u, err := url.ParseRequestURI(b.URL); err == nil {
			scheme, host, trusted = strings.ToLower(u.Scheme), u.Host, b.URLTrusted
		}
	} else {
		if b.Host != "" {
			host, trusted = b.Host, b.HostTrusted
		}
		if b.Scheme != "" {
			scheme = b.Scheme
		}
	}
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("%w: scheme %q", forward.ErrInvalidAddress, scheme)
	}
	if host == "" {
		return nil, fmt.Errorf("%w: no host", forward.ErrInvalidAddress)
	}
	if !filters.ValidDestinationHost(host) {
		return nil, fmt.Errorf("%w: host %q", forward.ErrInvalidAddress, host)
	}
	out.URL.Scheme, out.URL.Host = scheme, host
	if trusted {
		return p.transport, nil
	}
	return p.fwd.transport, nil
}

// connect serves a CONNECT request that route matched: a <dynamic> route opens a blind tunnel to
// the requested host:port, a <loopback> route intercepts it, any other route refuses it.
func (p *Proxy) connect(w *responseRecorder, r *http.Request, route *routing.Route) {
	if r.ProtoMajor != 1 {
		p.fail(w, r, route, fmt.Errorf("%w: CONNECT over HTTP/%d", errUnsupportedBackend, r.ProtoMajor))
		return
	}
	switch route.Backend.Type {
	case routing.BackendDynamic:
		p.blindTunnel(w, r, route)
	case routing.BackendLoopback:
		p.intercept(w, r, route)
	default:
		p.denyForward(w, r, fmt.Sprintf("route %s does not open tunnels to %s", route.Name(), r.Host))
	}
}

// blindTunnel dials the CONNECT authority through the guard, answers 200 only once that
// succeeded, and then copies bytes both ways until the tunnel ends.
func (p *Proxy) blindTunnel(w *responseRecorder, r *http.Request, route *routing.Route) {
	ctx, release, err := p.fwd.openTunnel(r.Context())
	if err != nil {
		p.fail(w, r, route, err)
		return
	}
	defer release()
	upstream, err := p.fwd.guard.DialContext(ctx, "tcp", r.Host)
	if err != nil {
		p.fail(w, r, route, err)
		return
	}
	defer upstream.Close()
	client, err := p.hijackConnect(w)
	if err != nil {
		p.fail(w, r, route, err)
		return
	}
	w.decide(audit.DecisionTunnelled)
	stats, err := p.fwd.tunnels.Run(ctx, client, upstream)
	w.written = stats.Down
	p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldHost: r.Host, "up": stats.Up, "down": stats.Down, fieldError: err}).
		Debug("tunnel closed")
}

// hijackConnect takes the client's connection over and tells the client the tunnel is open. The
// returned connection first yields whatever the client sent after the CONNECT head.
func (p *Proxy) hijackConnect(w *responseRecorder) (net.Conn, error) {
	conn, brw, err := hijack(w)
	if err != nil {
		return nil, fmt.Errorf("taking over the connection: %w", err)
	}
	w.status = http.StatusOK
	if _, err := conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		conn.Close()
		return nil, err
	}
	return forward.Hijacked(conn, brw.Reader), nil
}

// forwardReason is what the client is told about a refusal that forwardStatus maps: the guard's
// reason without the address the destination resolved to, which would let any client map the
// inside of the network; the other refusals are built from the client's own request.
func forwardReason(err error) string {
	if de, ok := errors.AsType[*forward.DeniedError](err); ok {
		return de.Public()
	}
	return err.Error()
}

// forwardStatus maps the errors of the forward proxy to a status; ok is false for other errors.
func forwardStatus(err error) (code int, ok bool) {
	switch {
	case errors.As(err, new(*forward.DeniedError)), errors.Is(err, errForwardDenied):
		return http.StatusForbidden, true
	case errors.Is(err, forward.ErrInvalidAddress), errors.Is(err, mitm.ErrInvalidHost):
		return http.StatusBadRequest, true
	case errors.Is(err, errTunnelLimit), errors.Is(err, errForwarderStopped):
		return http.StatusServiceUnavailable, true
	case errors.Is(err, errNoCA):
		return http.StatusBadGateway, true
	case errors.Is(err, errMisdirected):
		return http.StatusMisdirectedRequest, true
	}
	return 0, false
}
