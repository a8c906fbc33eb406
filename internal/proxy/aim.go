package proxy

import (
	"net/http"
	"strings"

	"github.com/skipper-egress/skipper/routing"
)

// aim points out at route's backend before the filters run, so that a filter may still change
// the destination or the Host the backend sees, and returns the Host a load-balanced request
// has unless a filter changes it ("" for other backends).
func (p *Proxy) aim(r, out *http.Request, route *routing.Route) (lbHost string) {
	switch route.Backend.Type {
	case routing.BackendNetwork:
		// The backend sees its own name, as Skipper sends it, with a default port left
		// implicit so that virtual hosts and request signatures see the name they expect.
		b := route.Backend.URL
		if b == nil {
			break // `-> ""`: failed after the filters, as Skipper does
		}
		out.URL.Scheme = b.Scheme
		out.URL.Host = b.Host
		if !p.preserve {
			out.Host = hostHeader(b.Scheme, b.Host)
		}
	case routing.BackendLB:
		// A filter may still set the Host; otherwise it follows the endpoint of each attempt.
		e := route.Backend.Endpoints[0]
		out.URL.Scheme, out.URL.Host = e.Scheme, e.Host
		lbHost = hostHeader(e.Scheme, e.Host)
		if !p.preserve {
			out.Host = lbHost
		}
	case routing.BackendDynamic:
		// The request's own destination, unless a setDynamicBackend filter chooses another.
		scheme, host := requestTarget(r)
		out.URL.Scheme, out.URL.Host = scheme, host
		out.Host = hostHeader(scheme, host)
	}
	return lbHost
}

// proxyDestination returns where the request of a backendIsProxy route goes through its proxy:
// the URI's scheme and host of an absolute-form request, else the client's Host, over https
// when the client came over TLS, as Skipper.
func proxyDestination(r *http.Request) (scheme, host string) {
	if r.URL.IsAbs() {
		return strings.ToLower(r.URL.Scheme), r.URL.Host
	}
	if r.TLS != nil {
		return "https", r.Host
	}
	return "http", r.Host
}

// hostHeader returns host without the scheme's default port.
func hostHeader(scheme, host string) string {
	switch {
	case (scheme == "http" || scheme == "h2c") && strings.HasSuffix(host, ":80"):
		return host[:len(host)-len(":80")]
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return host[:len(host)-len(":443")]
	}
	return host
}
