package proxy

import (
	"context"
	"net/http"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

// Tracer traces requests: one server span per request and one client span per backend call
// (-open-telemetry; internal/tracing implements it). The proxy calls it only when
// Options.Tracer is set, so that a proxy without one pays nothing for it.
type Tracer interface {
	// StartServer starts the server span of r, continuing the trace its headers carry, and
	// returns r with the span, and the baggage r carries, in its context. The proxy serves the
	// returned request: the route's predicates, its filters and the other methods see it.
	StartServer(r *http.Request) *http.Request
	// Route names the route that ctx's request matched.
	Route(ctx context.Context, routeID string)
	// Failed records that the proxy answered ctx's request status because of err.
	Failed(ctx context.Context, status int, err error)
	// EndServer ends the server span of ctx's request, which was answered status.
	EndServer(ctx context.Context, status int)
	// StartClient starts the client span of one call to the backend that out is aimed at and
	// writes its trace context to out's headers. end ends the span with the call's outcome.
	StartClient(out *http.Request, routeID string) (end func(res *http.Response, err error))
	// Injected records on ctx's span that the credential filter named filter injected the
	// secrets at paths (err nil) or failed to (err). It never sees a secret's value.
	Injected(ctx context.Context, filter string, paths []string, err error)
}

// endTrace ends the server span of r, answered as w says.
func (p *Proxy) endTrace(r *http.Request, w *responseRecorder) {
	p.tracer.EndServer(r.Context(), w.status)
}

// traceInjection records a credential filter's injection on the request's span; f is the i-th
// filter of route, and other filters are not recorded.
func (p *Proxy) traceInjection(out *http.Request, route *routing.Route, i int, f filters.Filter, err error) {
	su, ok := f.(filters.SecretUser)
	if !ok {
		return
	}
	p.tracer.Injected(out.Context(), route.Def.Filters[i].Name, su.SecretNames(), err)
}

// endSpan returns cancel extended to end a client span with res and err: the span lasts until
// the answer's body is copied, when the caller calls cancel.
func endSpan(cancel context.CancelFunc, end func(*http.Response, error), res *http.Response, err error) context.CancelFunc {
	return func() {
		cancel()
		end(res, err)
	}
}
