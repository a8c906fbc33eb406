package proxy

import (
	"context"
	"errors"
	"net/http"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

// defaultMaxLoopbacks is how often a request may pass through <loopback> routes, as Skipper's
// -max-loopbacks default.
const defaultMaxLoopbacks = 9

// errMaxLoopbacks is the reason a request that passed through too many <loopback> routes fails
// with 500.
var errMaxLoopbacks = errors.New("too many loopbacks")

// shuntStatus returns the status a <shunt> route answers with: that of its last status filter,
// or 404 without one.
func shuntStatus(route *routing.Route) int {
	code := http.StatusNotFound
	for _, f := range route.Filters {
		if s, ok := f.(filters.StatusSetter); ok {
			code = s.Status()
		}
	}
	return code
}

// replyStatus returns rep, the answer of route's i-th filter, with a status. A Reply without
// one (inlineContent's) takes that of the last status filter before the i-th, or 200, as
// Skipper answers: a status filter after it never runs.
func replyStatus(route *routing.Route, i int, rep *filters.Reply) *filters.Reply {
	if rep.Status != 0 {
		return rep
	}
	out := *rep // the filter's value; never changed in place
	out.Status = http.StatusOK
	for _, f := range route.Filters[:i] {
		if s, ok := f.(filters.StatusSetter); ok {
			out.Status = s.Status()
		}
	}
	return &out
}

// withBackendTimeout returns out bounded by the deadline of route's last backendTimeout filter,
// and the function that releases it; without such a filter, out itself and a no-op. The
// deadline derives from out's context, so a client that goes away still cancels the call.
func withBackendTimeout(route *routing.Route, out *http.Request) (*http.Request, context.CancelFunc) {
	var bt filters.BackendTimeouter
	for _, f := range route.Filters {
		if t, ok := f.(filters.BackendTimeouter); ok {
			bt = t
		}
	}
	if bt == nil {
		return out, func() {}
	}
	ctx, cancel := context.WithTimeout(out.Context(), bt.BackendTimeout())
	return out.WithContext(ctx), cancel
}

// loopback matches out, the request as route's filters left it, against the routes again and
// serves it by the route it matches. hops counts the <loopback> routes passed so far; past the
// proxy's limit the request fails with 500, and without a match with the no-route status.
func (p *Proxy) loopback(w *responseRecorder, r, out *http.Request, route *routing.Route, hops int) {
	if hops >= p.maxLoopbacks {
		p.fail(w, r, route, errMaxLoopbacks)
		return
	}
	next := p.router.Match(out)
	if next == nil {
		p.fail(w, r, nil, errNoRoute)
		return
	}
	p.serveRoute(w, r, out, next, hops+1)
}
