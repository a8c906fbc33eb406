package routing

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
)

// Sentinel errors wrapped by the errors of this package; test for them with errors.Is.
var (
	// ErrNoRoute says that no route matches a request. The routing package never returns it;
	// it is here for the proxy to report a nil Match.
	ErrNoRoute = errors.New("no route")
	// ErrUnknownPredicate is wrapped by a RouteError for a predicate name Compile does not know.
	ErrUnknownPredicate = errors.New("unknown predicate")
	// ErrUnknownFilter is wrapped by a RouteError for a filter name the registry does not hold.
	ErrUnknownFilter = errors.New("unknown filter")
	// ErrInvalidBackend is wrapped by a RouteError for a backend that cannot be used.
	ErrInvalidBackend = errors.New("invalid backend")
)

// Load-balancing algorithms a BackendLB route may name.
const (
	AlgorithmRoundRobin            = "roundRobin"
	AlgorithmRandom                = "random"
	AlgorithmConsistentHash        = "consistentHash"
	AlgorithmPowerOfRandomNChoices = "powerOfRandomNChoices"
)

// Log field names.
const (
	fieldRoute    = "route"
	fieldBackend  = "backend"
	fieldPosition = "position"
)

// CompileOptions are the inputs of Compile besides the routes.
type CompileOptions struct {
	// Filters resolves filter names. If nil, every filter is unknown.
	Filters *filters.Registry
	// Log receives warnings about parts of routes that are ignored, such as the path of a
	// backend URL. If nil, they are discarded.
	Log logrus.FieldLogger
	// IgnoreTrailingSlash makes a request path that no Path or PathSubtree route matches try
	// again with its trailing "/" added or removed, as Skipper's -ignore-trailing-slash.
	IgnoreTrailingSlash bool
	// ShuttingDown reports whether the process is shutting down, for the Shutdown() predicate;
	// it is called on every match of a route that has one, so it must be cheap and safe for
	// concurrent use. If nil, Shutdown() never matches.
	ShuttingDown func() bool
	// ForwardBackend is where the routes with the <forward> backend send their requests, as
	// ParseBackendURL returns it: Skipper's -forward-backend-url. As in Skipper, such a route
	// keeps its predicates and drops its filters, which are neither built nor checked, so that
	// a request passing through two proxies with the same routes is not changed twice. If nil,
	// the <forward> routes load with a warning and their requests fail, as those of `-> ""`.
	ForwardBackend *url.URL
	// Now is the clock of the Between, Before, After and Cron predicates. If nil, time.Now.
	Now func() time.Time
	// Baggage reports whether r carries OpenTelemetry baggage with a member named key, for
	// the OTelBaggage predicate. If nil, OTelBaggage never matches, as Skipper's does when no
	// OpenTelemetry propagator extracts the baggage.
	Baggage func(r *http.Request, key string) bool
	// TeeKey returns the key of the teeLoopback filter that made r, a shadow copy of a
	// request, or "" for any other request, for the Tee predicate. If nil, Tee never matches.
	TeeKey func(r *http.Request) string
	// Bindings, if set, say where each secret may go (-credentials-bind, SECRET.hosts): a
	// route that reads a secret which may not go to its static backend, or to one of its
	// load-balancer endpoints, is left out, as is one whose secret can go nowhere (see
	// filters.DestinationPolicy.CheckSecret). Other destinations are checked per request.
	Bindings filters.DestinationPolicy
}

// RouteError is the reason one route was left out of a Table. File, Line and Col are the
// route's position from its RouteDef. A route with several problems has one RouteError whose
// Err joins them all (errors.Join); Problems splits it.
type RouteError struct {
	File      string
	Line, Col int
	ID        string
	Err       error
}

// Error returns `file:line:col: route "id": reason`, leaving out the parts that are unknown;
// for a route with several problems, one such line per problem.
func (e *RouteError) Error() string {
	ps := e.Problems()
	if len(ps) == 1 {
		return e.line()
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.line()
	}
	return strings.Join(lines, "\n")
}

// Problems returns one RouteError per problem of the route, each with the route's position
// and id, in the order they were found: predicates, filters, then the backend.
func (e *RouteError) Problems() []*RouteError {
	j, ok := e.Err.(interface{ Unwrap() []error })
	if !ok {
		return []*RouteError{e}
	}
	var out []*RouteError
	for _, err := range j.Unwrap() {
		p := *e
		p.Err = err
		out = append(out, p.Problems()...)
	}
	return out
}

func (e *RouteError) line() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Col)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.ID != "" {
		fmt.Fprintf(&b, "route %q: ", e.ID)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the reason.
func (e *RouteError) Unwrap() error { return e.Err }

// Compile builds a Table from route definitions. A route whose predicates, filters or backend
// cannot be built is left out, and its *RouteError is returned; the others are compiled. When
// two routes share an id, the later one replaces the earlier. Compile does not modify defs;
// each Route keeps a pointer to its RouteDef.
func Compile(defs []*RouteDef, opts CompileOptions) (*Table, []error) {
	log := opts.Log
	if log == nil {
		l := logrus.New()
		l.Out = io.Discard
		log = l
	}
	last := make(map[string]int, len(defs))
	for i, d := range defs {
		if d != nil {
			last[d.ID] = i
		}
	}
	routes := make([]*Route, 0, len(defs))
	var errs []error
	for i, d := range defs {
		if d == nil {
			continue
		}
		if last[d.ID] != i {
			log.WithFields(logrus.Fields{fieldRoute: d.ID, fieldPosition: position(d)}).
				Warn("route id defined again later; the later route replaces this one")
			continue
		}
		r, err := compileRoute(d, opts, log)
		if err != nil {
			errs = append(errs, &RouteError{File: d.File, Line: d.Line, Col: d.Col, ID: d.ID, Err: err})
			continue
		}
		routes = append(routes, r)
	}
	t := newTable(routes)
	t.ignoreTrailingSlash = opts.IgnoreTrailingSlash
	return t, errs
}

func position(d *RouteDef) string {
	return fmt.Sprintf("%s:%d:%d", d.File, d.Line, d.Col)
}

// compileRoute builds one route, or returns every problem it has, joined: all of its
// predicates, filters and its backend are checked, so that one run of check shows them all.
func compileRoute(d *RouteDef, opts CompileOptions, log logrus.FieldLogger) (*Route, error) {
	reg := opts.Filters
	var errs []error
	m, err := compilePredicates(d.Predicates, predicateEnv{opts.ShuttingDown, opts.Now, opts.Baggage, opts.TeeKey})
	if err != nil {
		errs = append(errs, err)
	}
	r := &Route{ID: d.ID, Def: d, m: m}
	fs := d.Filters
	if d.Backend.Type == BackendForward {
		fs = nil // see CompileOptions.ForwardBackend
	}
	if len(fs) > 0 {
		r.Filters = make([]filters.Filter, 0, len(fs))
	}
	for _, c := range fs {
		spec, ok := reg.Lookup(c.Name)
		if !ok {
			errs = append(errs, fmt.Errorf("%w %q%s", ErrUnknownFilter, c.Name, didYouMean(c.Name, reg.Names())))
			continue
		}
		f, err := spec.Create(c.Args)
		if err != nil {
			errs = append(errs, fmt.Errorf("filter %q: %w", c.Name, err))
			continue
		}
		r.Filters = append(r.Filters, f)
	}
	filters.ApplyFailClosed(r.Filters)
	r.Settings = resolveSettings(r.Filters)
	if r.Settings.BackendIsProxy {
		errs = append(errs, credentialsViaProxy(r.Filters)...)
	}
	r.Backend, err = compileBackend(d, opts.ForwardBackend, log)
	if err != nil {
		errs = append(errs, err)
	} else if opts.Bindings != nil {
		errs = append(errs, checkBindings(r, opts.Bindings)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// ErrCredentialViaProxy is wrapped by the error of a route whose backend is a proxy
// (backendIsProxy) and that injects a credential: the destination is the client's Host, so the
// credential would go wherever the client asks.
var ErrCredentialViaProxy = errors.New("credential filter on a backendIsProxy route")

// credentialsViaProxy returns an error for each filter of a backendIsProxy route that injects a
// credential.
func credentialsViaProxy(built []filters.Filter) []error {
	var errs []error
	for _, f := range built {
		if _, ok := f.(filters.SecretUser); ok {
			errs = append(errs, fmt.Errorf("%w: its destination is the client's Host, so the secret could be sent wherever the client asks", ErrCredentialViaProxy))
		}
	}
	return errs
}

// checkBindings checks that every secret r's filters read may go to r's static destinations:
// its network backend or each of its load-balancer endpoints, or, for a filter that sends its
// secrets elsewhere (filters.SecretSender: an OAuth2 grant's token URL), those.
func checkBindings(r *Route, policy filters.DestinationPolicy) []error {
	var dests []*url.URL
	switch r.Backend.Type {
	case BackendNetwork:
		if r.Backend.URL != nil {
			dests = append(dests, r.Backend.URL)
		}
	case BackendLB:
		dests = r.Backend.Endpoints
	}
	var errs []error
	for _, f := range r.Filters {
		su, ok := f.(filters.SecretUser)
		if !ok {
			continue
		}
		to := dests
		if s, ok := f.(filters.SecretSender); ok {
			to = s.SecretDestinations() // the token URL, not the route's backend
		}
		for _, name := range su.SecretNames() {
			if err := policy.CheckSecret(name); err != nil {
				errs = append(errs, err)
				continue
			}
			for _, u := range to {
				if err := policy.AllowDestination(name, u.Scheme, u.Host); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errs
}

func compileBackend(d *RouteDef, forward *url.URL, log logrus.FieldLogger) (Backend, error) {
	b := Backend{Type: d.Backend.Type}
	switch b.Type {
	case BackendForward:
		b.Type = BackendNetwork
		if forward == nil {
			log.WithFields(logrus.Fields{fieldRoute: RouteName(d.ID), fieldPosition: position(d)}).
				Warn("route has the <forward> backend but -forward-backend-url is not set; its requests are answered 500")
			return b, nil
		}
		u := *forward
		b.URL = &u
		return b, nil
	case BackendShunt, BackendLoopback, BackendDynamic:
		return b, nil
	case BackendNetwork:
		if d.Backend.Address == "" {
			// Skipper loads `-> ""` and fails its requests: so does skipper, with a warning.
			log.WithFields(logrus.Fields{fieldRoute: RouteName(d.ID), fieldPosition: position(d)}).
				Warn("route has an empty backend address; its requests are answered 500")
			return b, nil
		}
		u, err := backendURL(d.ID, d.Backend.Address, log)
		b.URL = u
		return b, err
	case BackendLB:
		return compileLB(d, log)
	}
	return b, fmt.Errorf("%w: unknown backend type %d", ErrInvalidBackend, int(b.Type))
}

func compileLB(d *RouteDef, log logrus.FieldLogger) (Backend, error) {
	b := Backend{Type: BackendLB, Algorithm: d.Backend.Algorithm}
	switch b.Algorithm {
	case "":
		b.Algorithm = AlgorithmRoundRobin
	case AlgorithmRoundRobin, AlgorithmRandom, AlgorithmConsistentHash, AlgorithmPowerOfRandomNChoices:
	default:
		// Skipper has these four only; it leaves out a route with any other, such as
		// weightedRoundRobin or leastRequests.
		known := []string{AlgorithmRoundRobin, AlgorithmRandom, AlgorithmConsistentHash, AlgorithmPowerOfRandomNChoices}
		if s := didYouMean(b.Algorithm, known); s != "" {
			return b, fmt.Errorf("%w: unknown load balancer algorithm %q%s", ErrInvalidBackend, b.Algorithm, s)
		}
		return b, fmt.Errorf("%w: unknown load balancer algorithm %q; the algorithms are %s", ErrInvalidBackend, b.Algorithm, strings.Join(known, ", "))
	}
	if len(d.Backend.Endpoints) == 0 {
		return b, fmt.Errorf("%w: load balancer without endpoints", ErrInvalidBackend)
	}
	b.Endpoints = make([]*url.URL, 0, len(d.Backend.Endpoints))
	for _, e := range d.Backend.Endpoints {
		u, err := backendURL(d.ID, e, log)
		if err != nil {
			return b, err
		}
		if len(b.Endpoints) > 0 && u.Scheme != b.Endpoints[0].Scheme {
			return b, fmt.Errorf("%w: load balancer endpoints have mixed schemes", ErrInvalidBackend)
		}
		b.Endpoints = append(b.Endpoints, u)
	}
	return b, nil
}

// backendURL parses a network backend address into scheme and host:port. The scheme must be
// http, https or h2c; a missing port is 80, or 443 for https. A path, query, fragment or user
// info is ignored, as Skipper ignores it, with a warning (that names only what is ignored,
// since user info may hold a password). An address without a scheme that would do with http://
// in front is refused with that suggestion.
func backendURL(routeID, addr string, log logrus.FieldLogger) (*url.URL, error) {
	out, ignored, err := ParseBackendURL(addr)
	if len(ignored) > 0 {
		log.WithFields(logrus.Fields{fieldRoute: RouteName(routeID), fieldBackend: out.String()}).
			Warnf("backend URL %s ignored: requests keep their own path", strings.Join(ignored, " and "))
	}
	return out, err
}

// ParseBackendURL checks a backend address as Compile checks that of a route, and returns it
// as a Backend's URL: scheme and host:port, the port filled in. A path, query, fragment or user
// info is ignored, as in a route; ignored names them ("path \"/x\"", "query"), for a warning.
func ParseBackendURL(addr string) (*url.URL, []string, error) {
	if v, ok := withHTTP(addr); ok {
		return nil, nil, noSchemeError(ErrInvalidBackend, addr, v)
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w %q: not a URL", ErrInvalidBackend, abbreviate(addr))
	}
	shown := abbreviate(addr)
	if u.User != nil {
		shown = abbreviate(u.Redacted())
	}
	port := u.Port()
	switch u.Scheme {
	case "http", "h2c":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
	default:
		return nil, nil, fmt.Errorf("%w %q: scheme must be http, https or h2c", ErrInvalidBackend, shown)
	}
	if u.Hostname() == "" {
		return nil, nil, fmt.Errorf("%w %q: no host", ErrInvalidBackend, shown)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, nil, fmt.Errorf("%w %q: bad port", ErrInvalidBackend, shown)
	}
	out := &url.URL{Scheme: u.Scheme, Host: net.JoinHostPort(u.Hostname(), port)}
	var ignored []string
	if u.Path != "" && u.Path != "/" || u.Opaque != "" {
		// The path is shown, so that one sees what the requests will not get; the query,
		// fragment and user info are not, as they may hold a key or a password.
		path := u.EscapedPath()
		if u.Opaque != "" {
			path = u.Opaque
		}
		ignored = append(ignored, fmt.Sprintf("path %q", abbreviate(path)))
	}
	if u.RawQuery != "" || u.ForceQuery {
		ignored = append(ignored, "query")
	}
	if u.Fragment != "" {
		ignored = append(ignored, "fragment")
	}
	if u.User != nil {
		ignored = append(ignored, "user info")
	}
	return out, ignored, nil
}
