package proxy

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// Names of the headers that ForwardedHeaders sets.
const (
	headerForwardedFor    = "X-Forwarded-For"
	headerForwardedHost   = "X-Forwarded-Host"
	headerForwardedMethod = "X-Forwarded-Method"
	headerForwardedURI    = "X-Forwarded-Uri"
	headerForwardedPort   = "X-Forwarded-Port"
	headerForwardedProto  = "X-Forwarded-Proto"
)

// ForwardedAuto, as ForwardedHeaders.Port or ForwardedHeaders.Proto, takes the value from the
// connection the request came on.
const ForwardedAuto = "auto"

// ForwardedHeaders says which X-Forwarded-* headers the proxy sets on each incoming request, as
// Skipper's -forwarded-headers. They are set before the route is matched, so that predicates,
// filters and placeholders see them, and they reach the backend with the rest of the request.
// The zero value sets none: nothing about the client leaks upstream unless asked.
type ForwardedHeaders struct {
	// For sets X-Forwarded-For to the client's IP address, or appends ", " and the address to
	// the value the client sent.
	For bool
	// Host sets X-Forwarded-Host to the request's Host, after NormalizeHost if that is set.
	Host bool
	// Method sets X-Forwarded-Method to the request's method.
	Method bool
	// URI sets X-Forwarded-Uri to the request target as the client sent it (path and query).
	URI bool
	// Port, if not empty, sets X-Forwarded-Port: a port number, or ForwardedAuto for the port
	// the request arrived on.
	Port string
	// Proto, if not empty, sets X-Forwarded-Proto: "http", "https", or ForwardedAuto for https
	// when the request came over TLS and http otherwise.
	Proto string
	// Exclude holds the networks of clients whose requests get none of these headers, as
	// Skipper's -forwarded-headers-exclude-cidrs.
	Exclude []netip.Prefix
}

// IsZero reports whether h sets no header.
func (h ForwardedHeaders) IsZero() bool {
	return !h.For && !h.Host && !h.Method && !h.URI && h.Port == "" && h.Proto == ""
}

// check reports a Port or Proto that the proxy cannot set; flags are validated before.
func (h ForwardedHeaders) check() error {
	if h.Port != "" && h.Port != ForwardedAuto {
		if n, err := strconv.ParseUint(h.Port, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("forwarded headers: port %q is neither a port number nor %q", h.Port, ForwardedAuto)
		}
	}
	switch h.Proto {
	case "", "http", "https", ForwardedAuto:
	default:
		return fmt.Errorf("forwarded headers: proto %q is not http, https or %q", h.Proto, ForwardedAuto)
	}
	return nil
}

// prepare readies r, the client's request, for matching: it fills in the TLS state that
// ConnContext kept, normalizes the Host if asked and sets the forwarded headers. With neither of
// the last two asked for, it allocates nothing.
func (p *Proxy) prepare(r *http.Request) {
	if r.TLS == nil {
		// Listener terminates TLS itself for HTTP/1.1, so the server did not see a *tls.Conn.
		r.TLS, _ = r.Context().Value(tlsStateKey{}).(*tls.ConnectionState)
	}
	if p.normalize {
		r.Host = normalizeHost(r.Host, r.Method == http.MethodConnect)
	}
	if p.forwarded != nil {
		p.forwarded.set(r)
	}
}

// set sets the headers on r, the client's request, unless the client is excluded. A client
// address that does not parse gets none either, as in Skipper.
func (h *ForwardedHeaders) set(r *http.Request) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return
	}
	// Prefix.Contains never matches an address with a zone or an IPv4-mapped IPv6 address
	// against an IPv4 network.
	ip = ip.WithZone("").Unmap()
	for _, n := range h.Exclude {
		if n.Contains(ip) {
			return
		}
	}
	if h.For {
		v := host
		if prev := r.Header.Values(headerForwardedFor); len(prev) > 0 {
			// Several header lines are one comma-separated list (RFC 9110 §5.3); joining
			// them keeps every hop the client reported.
			v = strings.Join(prev, ", ") + ", " + host
		}
		r.Header[headerForwardedFor] = []string{v}
	}
	if h.Host {
		r.Header[headerForwardedHost] = []string{r.Host}
	}
	if h.Method {
		r.Header[headerForwardedMethod] = []string{r.Method}
	}
	if h.URI {
		r.Header[headerForwardedURI] = []string{r.RequestURI}
	}
	if h.Port != "" {
		if port := forwardedPort(r, h.Port); port != "" {
			r.Header[headerForwardedPort] = []string{port}
		}
	}
	if h.Proto != "" {
		r.Header[headerForwardedProto] = []string{forwardedProto(r, h.Proto)}
	}
}

// forwardedPort returns port, or for ForwardedAuto the port of the local address r arrived on
// ("" when the server did not record it).
func forwardedPort(r *http.Request, port string) string {
	if port != ForwardedAuto {
		return port
	}
	switch a := r.Context().Value(http.LocalAddrContextKey).(type) {
	case *net.TCPAddr:
		return strconv.Itoa(a.Port)
	case net.Addr:
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			return p
		}
	}
	return ""
}

// forwardedProto returns proto, or for ForwardedAuto the scheme r arrived with.
func forwardedProto(r *http.Request, proto string) string {
	if proto != ForwardedAuto {
		return proto
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
