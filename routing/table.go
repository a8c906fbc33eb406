package routing

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/skipper-egress/skipper/filters"
)

// Route is a compiled route: its filters are built and its backend is checked. A Route is
// immutable and safe for concurrent use.
type Route struct {
	// ID is the route's id, "" for the single unnamed route of a document.
	ID string
	// Def is the definition the route was compiled from; it must not be modified.
	Def *RouteDef
	// Filters are the route's filters in route order; nil when it has none.
	Filters []filters.Filter
	// Backend is where the route sends requests.
	Backend Backend
	// Settings are those of the route's filters that the proxy reads on every request.
	Settings Settings

	m *matcher
}

// Unnamed is the name of the single route without an id wherever a route is named: error
// bodies, logs and metric labels. It cannot be an id (ids are identifiers), and an empty name
// would not do: Prometheus reads an empty label as no label, and `route ""` reads as a bug.
const Unnamed = "(unnamed)"

// RouteName returns the name of the route with id id: the id, or Unnamed for "".
func RouteName(id string) string {
	if id == "" {
		return Unnamed
	}
	return id
}

// Name returns the route's name in messages, logs and metrics: its id, or Unnamed.
func (r *Route) Name() string { return RouteName(r.ID) }

// Backend is a compiled backend.
type Backend struct {
	Type BackendType
	// URL is the address of a BackendNetwork route: scheme and host:port only, the port filled
	// in when the route left it out. It is nil for other types, and for a BackendNetwork route
	// written with an empty address (`-> ""`), which Skipper loads and whose requests fail.
	URL *url.URL
	// Algorithm is the load-balancing algorithm of a BackendLB route; roundRobin when the
	// route names none.
	Algorithm string
	// Endpoints are the addresses of a BackendLB route, in the form of URL.
	Endpoints []*url.URL
}

// Table is a compiled set of routes in priority order. It is immutable once built, and safe
// for concurrent use. The zero Table, and a nil *Table, hold no routes.
//
// Match does not scan the routes: those with a Path or PathSubtree are filed in a tree by
// path segment, and the routes that share a path pattern (or have none) are filed by host,
// so that the cost of a match hardly grows with the number of routes.
type Table struct {
	routes []*Route
	tree   *pathNode // routes with Path or PathSubtree; nil if none
	noPath *bucket   // routes without; nil if none

	ignoreTrailingSlash bool // see CompileOptions
}

// newTable orders routes by precedence, as Skipper does:
//
//   - routes with Path or PathSubtree come before all routes without;
//   - among those, the most specific path pattern wins: an exact Path before a PathSubtree, a
//     longer subtree before a shorter one, and at each segment a static name before a :param
//     before a *rest;
//   - then the route with more predicates (Weight(n) adds n; * and Path count nothing);
//   - then the route id, so that the winner never depends on the order of the input.
//
// This is the order of Routes. Match differs from it in one way, as Skipper does: on the path
// of a PathSubtree itself, with or without a trailing "/", and below it, a PathSubtree
// competes with the Path routes of that shape by predicates only (see pathNode).
func newTable(routes []*Route) *Table {
	slices.SortStableFunc(routes, compareRoutes)
	return indexTable(routes, defaultMinIndexed)
}

// indexTable builds the indexes for routes, which are in precedence order. Buckets of fewer
// than minIndexed routes are scanned instead of indexed.
func indexTable(routes []*Route, minIndexed int) *Table {
	t := &Table{routes: routes}
	n := 0 // routes with a path come first
	for n < len(routes) && routes[n].m.path != nil {
		n++
	}
	if n > 0 {
		t.tree = buildPathTree(routes[:n], minIndexed)
	}
	if n < len(routes) {
		t.noPath = &bucket{}
		t.noPath.build(routes[n:], minIndexed)
	}
	return t
}

func compareRoutes(a, b *Route) int {
	ap, bp := a.m.path != nil, b.m.path != nil
	if ap != bp {
		if ap {
			return -1
		}
		return 1
	}
	if ap {
		if c := comparePaths(a.m.path, b.m.path); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(b.m.weight, a.m.weight); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Match returns the first route in priority order whose predicates all hold for r, or nil.
// Paths are matched in their cleaned form (dot segments and "//" resolved) on the decoded
// r.URL.Path; r is not modified.
func (t *Table) Match(r *http.Request) *Route {
	rt, _ := t.match(r)
	return rt
}

// MatchParams is Match that also returns the path parameters of the route: the values of
// its :name and *name wildcards, and for PathSubtree the rest of the path (see Params). It
// allocates only when the route has parameters.
func (t *Table) MatchParams(r *http.Request) (*Route, Params) {
	rt, p := t.match(r)
	if rt == nil || rt.m.path == nil {
		return rt, nil
	}
	return rt, rt.m.path.params(p)
}

// match returns the matching route and r's cleaned path.
func (t *Table) match(r *http.Request) (*Route, string) {
	if t == nil {
		return nil, ""
	}
	in := newMatchInput(r)
	if t.tree != nil {
		if rt := t.tree.lookup(&in, in.path[1:], false); rt != nil {
			return rt, in.path
		}
		if t.ignoreTrailingSlash {
			if q := toggleTrailingSlash(in.path); q != "" {
				// The same input, so that every route tried shares one TrafficSegment number.
				cleaned := in.path
				in.path = q
				if rt := t.tree.lookup(&in, q[1:], false); rt != nil {
					return rt, q
				}
				in.path = cleaned
			}
		}
	}
	if t.noPath != nil {
		return t.noPath.lookup(&in), in.path
	}
	return nil, in.path
}

// toggleTrailingSlash returns the cleaned path p with its trailing "/" removed, or one added;
// "" for the root, which has no other form.
func toggleTrailingSlash(p string) string {
	switch {
	case p == "/":
		return ""
	case strings.HasSuffix(p, "/"):
		return p[:len(p)-1]
	default:
		return p + "/"
	}
}

// Len returns the number of routes.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.routes)
}

// Routes returns the routes in priority order, in a new slice the caller may keep.
func (t *Table) Routes() []*Route {
	if t == nil {
		return nil
	}
	return slices.Clone(t.routes)
}

// Router holds the current Table and lets a new one replace it atomically. Each request should
// Load the table once and use that snapshot throughout. A Router is safe for concurrent use;
// its zero value is not ready, use NewRouter.
type Router struct {
	current atomic.Pointer[Table]
}

// NewRouter returns a Router holding an empty table, so Load never returns nil.
func NewRouter() *Router {
	r := &Router{}
	r.current.Store(&Table{})
	return r
}

// Swap makes t the current table. A nil t is stored as an empty table.
func (r *Router) Swap(t *Table) {
	if t == nil {
		t = &Table{}
	}
	r.current.Store(t)
}

// Load returns the current table.
func (r *Router) Load() *Table { return r.current.Load() }

// Match matches req against the current table.
func (r *Router) Match(req *http.Request) *Route { return r.current.Load().Match(req) }

// MatchParams matches req against the current table and returns the route's path parameters.
func (r *Router) MatchParams(req *http.Request) (*Route, Params) {
	return r.current.Load().MatchParams(req)
}
