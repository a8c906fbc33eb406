// Package support is the handler of the support listener (-support-listener, default :9911):
// metrics, liveness, readiness and the current route table, kept off the proxy's own port.
//
//	GET /metrics   the Prometheus exposition of the proxy's metrics
//	GET /healthz   200 "ok" while the process runs
//	GET /ready     200 "ready" once routes are loaded and while not draining, else 503
//	GET /routes    the current route table as eskip, in priority order (?nopretty: one line each)
//
// HEAD is served wherever GET is; other methods get 405, other paths 404.
package support

import (
	"io"
	"net/http"
	"sync/atomic"

	"github.com/skipper-egress/skipper/routing"
)

// Paths served by the handler.
const (
	PathMetrics = "/metrics"
	PathHealthz = "/healthz"
	PathReady   = "/ready"
	PathRoutes  = "/routes"
)

// Options configures the support handler. Every field is optional.
type Options struct {
	// Metrics serves /metrics, typically (*metrics.Metrics).Handler(). If nil, /metrics
	// answers 404.
	Metrics http.Handler
	// Router supplies the table printed by /routes. If nil, /routes answers 404.
	Router *routing.Router
	// Ready reports whether the proxy should receive traffic, typically (*State).Ready. If
	// nil, /ready always answers 200.
	Ready func() bool
}

// State holds the flags /ready reports on. Its zero value is not ready: no routes loaded, not
// draining. It is safe for concurrent use.
type State struct {
	routesLoaded atomic.Bool
	draining     atomic.Bool
}

// SetRoutesLoaded records that a route table has been applied. Call it after the first
// successful load; it stays set, since later failed reloads keep the table in service.
func (s *State) SetRoutesLoaded() { s.routesLoaded.Store(true) }

// SetDraining records that the proxy is shutting down, so that load balancers stop sending it
// new requests while those in flight finish. It cannot be undone.
func (s *State) SetDraining() { s.draining.Store(true) }

// RoutesLoaded reports whether SetRoutesLoaded has been called.
func (s *State) RoutesLoaded() bool { return s.routesLoaded.Load() }

// Draining reports whether SetDraining has been called.
func (s *State) Draining() bool { return s.draining.Load() }

// Ready reports whether routes have been loaded and the proxy is not draining.
func (s *State) Ready() bool { return s.RoutesLoaded() && !s.Draining() }

// New returns the support listener's handler. It is safe for concurrent use.
func New(opts Options) http.Handler {
	mux := http.NewServeMux()
	// "GET /x" also matches HEAD; ServeMux answers other methods with 405 and an Allow header,
	// and paths it does not know with 404.
	mux.HandleFunc("GET "+PathHealthz, func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET "+PathReady, func(w http.ResponseWriter, _ *http.Request) {
		if opts.Ready != nil && !opts.Ready() {
			writeText(w, http.StatusServiceUnavailable, "not ready\n")
			return
		}
		writeText(w, http.StatusOK, "ready\n")
	})
	if opts.Metrics != nil {
		mux.Handle("GET "+PathMetrics, opts.Metrics)
	}
	if opts.Router != nil {
		mux.Handle("GET "+PathRoutes, routesHandler{opts.Router})
	}
	return mux
}

// routesHandler prints the current route table.
type routesHandler struct{ router *routing.Router }

// ServeHTTP writes the table in effect now as eskip in priority order, as Skipper's /routes
// does (routing.PrintTable): pretty, a line per filter and a blank line between routes, unless
// the query has nopretty (with any value but "0" or "false"), which asks for a line per route.
//
// The text is the route definitions as written, so it holds secret *paths* (credential filters
// name the file to read) but never a secret's value, which only the filters read at request
// time. A literal value given to a filter such as setRequestHeader("X-Api-Key", "...") is
// printed as written: it is the route author's text, which is in the routes file already, not
// a secret from a credentials path.
func (h routesHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	routes := h.router.Load().Routes()
	defs := make([]*routing.RouteDef, 0, len(routes))
	for _, r := range routes {
		if r.Def != nil {
			defs = append(defs, r.Def)
		}
	}
	writeText(w, http.StatusOK, routing.PrintTable(defs, pretty(r)))
}

// pretty reads Skipper's nopretty query parameter: absent, "0" or "false" mean pretty.
func pretty(r *http.Request) bool {
	v, ok := r.URL.Query()["nopretty"]
	return !ok || len(v) == 0 || v[0] == "0" || v[0] == "false"
}

// writeText answers with a plain-text body that clients and caches must take as it is.
func writeText(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	io.WriteString(w, body) //nolint:errcheck // the client went away; nothing to do
}
