// Package metrics holds the proxy's Prometheus metrics on a registry of its own, and the small
// interface through which the request path records them.
//
// Every series it exposes, all prefixed "skipper_":
//
//	skipper_requests_total{route,method,status}           counter: requests answered
//	skipper_request_duration_seconds{route}               histogram: whole request, arrival to last byte
//	skipper_backend_duration_seconds{route}               histogram: backend round trip, to response headers
//	skipper_backend_errors_total{route,kind}              counter: failed backend round trips
//	skipper_requests_in_flight                            gauge: requests being served now
//	skipper_routes                                        gauge: routes in the table being served
//	skipper_routes_invalid                                gauge: routes rejected by the last reload
//	skipper_routes_last_reload_success                    gauge: 1 if the last reload was applied, else 0
//	skipper_routes_last_reload_timestamp_seconds          gauge: unix time of the last reload attempt
//	skipper_secrets_loaded                                gauge: secrets the store holds
//	skipper_secret_age_seconds{path}                      gauge: time since the secret's value was read
//	skipper_credential_injections_total{route,filter,outcome} counter: credential uses
//	skipper_credential_injection_failures_total{filter,reason} counter: credentials not injected
//	skipper_audit_log_dropped_total                       counter: audit log lines lost (RegisterAuditDrops)
//
// With Options (Skipper's -serve-* switches), also, as Skipper names them:
//
//	skipper_serve_route_duration_seconds{code,method,route}  histogram (ServeRoute)
//	skipper_serve_host_duration_seconds{code,method,host}    histogram (ServeHost)
//	skipper_serve_route_count{code,method,route}             counter (ServeRouteCounter)
//	skipper_serve_host_count{code,method,host}               counter (ServeHostCounter)
//
// The histograms lose code or method with NoServeStatusCode or NoServeMethod.
//
// The registry also holds the standard go_* and process_* collectors, and promhttp's own
// promhttp_metric_handler_* series.
//
// No label ever holds a secret or an unbounded value. Each label comes from a fixed set or from
// something the configuration bounds:
//
//   - route: a route id from the table, "(unnamed)" (routing.Unnamed) for the unnamed route, as in
//     logs and error bodies, "(no route)" (NoRoute)
//     when no route matched;
//   - method: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, CONNECT, TRACE or "other";
//   - status: the response status, 100 to 599, or "other";
//   - kind: dial, timeout, reset or other;
//   - filter: a registered filter name; reason: one of the Reason* constants; outcome: one of
//     the Outcome* constants;
//   - path: the file path of a secret under the credentials paths, never its value;
//   - code, method, host (serve series only): the status, the method as Skipper labels it
//     ("_unknownmethod_" for others), and the request's Host as Skipper writes it (dots as
//     "_", a colon as "__"): the first 1000 distinct hosts, then OtherHost for the rest.
package metrics

import (
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/skipper-egress/skipper/routing"
)

// Metric and label names.
const (
	namespace = "skipper"

	labelRoute   = "route"
	labelMethod  = "method"
	labelStatus  = "status"
	labelKind    = "kind"
	labelFilter  = "filter"
	labelReason  = "reason"
	labelPath    = "path"
	labelOutcome = "outcome"
)

// NoRoute is the route label of requests that matched no route. Pass it as the routeID of
// RequestDone for them. It cannot clash with a route id, which never holds parentheses.
const NoRoute = "(no route)"

// durationBuckets are the upper bounds, in seconds, of both latency histograms: from a
// millisecond, where a cached answer on loopback lands, to a minute, the longest a backend
// call is usually allowed to take.
func durationBuckets() []float64 {
	return []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
}

// Recorder is what the request path records through. *Metrics implements it; Nop is the
// do-nothing default for a proxy built without metrics. Implementations must be safe for
// concurrent use and cheap: they run on every request.
type Recorder interface {
	// RequestStarted counts a request in flight; each call is matched by one RequestDone.
	RequestStarted()
	// RequestDone counts a finished request and its total duration. routeID is the matched
	// route's id ("" for the unnamed route) or NoRoute.
	RequestDone(routeID, method string, status int, total time.Duration)
	// Served records a finished request, with the Host it asked for, in the optional serve
	// series (Options.ServeRoute, ...); called after RequestDone, with the same values.
	Served(routeID, host, method string, status int, total time.Duration)
	// BackendDone records the duration of a backend round trip that produced a response.
	BackendDone(routeID string, d time.Duration)
	// BackendError counts a backend round trip that failed; kind is one of the Kind*
	// constants, as BackendErrorKind returns them.
	BackendError(routeID, kind string)
	// Injection counts a use of a credential by filter on the route routeID; outcome is one of
	// the Outcome* constants (filters.CredentialUse.Result).
	Injection(routeID, filter, outcome string)
	// InjectionFailed counts a credential that filter could not inject; reason is one of the
	// Reason* constants, as FailureReason returns them.
	InjectionFailed(filter, reason string)
}

// Nop is a Recorder that records nothing. Its zero value is ready to use.
type Nop struct{}

var (
	_ Recorder = Nop{}
	_ Recorder = (*Metrics)(nil)
)

// RequestStarted does nothing.
func (Nop) RequestStarted() {}

// RequestDone does nothing.
func (Nop) RequestDone(string, string, int, time.Duration) {}

// Served does nothing.
func (Nop) Served(string, string, string, int, time.Duration) {}

// BackendDone does nothing.
func (Nop) BackendDone(string, time.Duration) {}

// BackendError does nothing.
func (Nop) BackendError(string, string) {}

// Injection does nothing.
func (Nop) Injection(string, string, string) {}

// InjectionFailed does nothing.
func (Nop) InjectionFailed(string, string) {}

// Metrics holds every metric of the proxy on its own registry; it never touches Prometheus'
// global default registry. It is safe for concurrent use. Every method of a nil *Metrics does
// nothing, so a nil *Metrics is a valid Recorder.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
	now     func() time.Time

	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	backendSeconds *prometheus.HistogramVec
	backendErrors  *prometheus.CounterVec
	inFlight       prometheus.Gauge

	routes        prometheus.Gauge
	routesInvalid prometheus.Gauge
	reloadSuccess prometheus.Gauge
	reloadTime    prometheus.Gauge

	injections        *prometheus.CounterVec
	injectionFailures *prometheus.CounterVec

	serve *serveMetrics // nil unless a serve series is on

	// Label children resolved once and then found without locks or allocations.
	byRoute  cowMap[string, *routeSeries]
	byFilter cowMap[string, *filterSeries]
}

// New returns Metrics on a new registry that also holds the Go runtime and process collectors.
func New() *Metrics { return NewWithOptions(Options{}) }

// NewWithOptions is New with Skipper's metric switches.
func NewWithOptions(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), now: time.Now}
	buckets := durationBuckets()
	if len(o.Buckets) > 0 {
		buckets = o.Buckets
	}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "requests_total",
		Help: "Requests answered, by route, method and response status.",
	}, []string{labelRoute, labelMethod, labelStatus})
	m.requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "request_duration_seconds",
		Help:    "Time from a request's arrival until its answer was written, by route.",
		Buckets: buckets,
	}, []string{labelRoute})
	m.backendSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "backend_duration_seconds",
		Help:    "Time from sending a request to the backend until its response headers arrived, by route.",
		Buckets: buckets,
	}, []string{labelRoute})
	m.backendErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "backend_errors_total",
		Help: "Backend round trips that failed, by route and kind (dial, timeout, reset, other).",
	}, []string{labelRoute, labelKind})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "requests_in_flight",
		Help: "Requests being served now.",
	})
	m.routes = newGauge("routes", "Routes in the table being served.")
	m.routesInvalid = newGauge("routes_invalid", "Routes rejected by the last route reload.")
	m.reloadSuccess = newGauge("routes_last_reload_success", "1 if the last route reload was applied, 0 if it was not.")
	m.reloadTime = newGauge("routes_last_reload_timestamp_seconds", "Unix time of the last route reload, applied or not.")
	m.injections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "credential_injections_total",
		Help: "Credential uses by route, filter and outcome (injected, unavailable, failed, other).",
	}, []string{labelRoute, labelFilter, labelOutcome})
	m.injectionFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "credential_injection_failures_total",
		Help: "Credentials that could not be injected, by filter and reason.",
	}, []string{labelFilter, labelReason})

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestSeconds, m.backendSeconds, m.backendErrors, m.inFlight,
		m.routes, m.routesInvalid, m.reloadSuccess, m.reloadTime,
		m.injections, m.injectionFailures,
	)
	if serve, cs := newServeMetrics(o, buckets); serve.enabled() {
		m.serve = serve
		m.reg.MustRegister(cs...)
	}
	m.handler = promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry: m.reg, // counts failed scrapes in promhttp_metric_handler_errors_total
	}))
	return m
}

func newGauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
}

// Handler returns the handler that serves the registry in the Prometheus exposition formats.
// It is the same handler on every call. A nil *Metrics returns a handler that answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// Registry returns the registry the metrics live on, for registering more collectors; nil for
// a nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// RoutesApplied records the outcome of a route (re)load: valid routes compiled, invalid routes
// rejected, and whether the result was applied. When ok is false the previous table stays in
// service, so the routes gauge keeps its value.
func (m *Metrics) RoutesApplied(valid, invalid int, ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.routes.Set(float64(valid))
		m.reloadSuccess.Set(1)
	} else {
		m.reloadSuccess.Set(0)
	}
	m.routesInvalid.Set(float64(invalid))
	m.reloadTime.Set(float64(m.now().UnixNano()) / 1e9)
}

// RetainRoutes deletes the per-route series of every route whose id is not in ids, so that
// routes removed from the table do not stay exposed for the life of the process. The NoRoute
// series are always kept. Call it after a new table has been applied. A request still running
// on a removed route when RetainRoutes runs may be lost from the counts, or may expose a series
// of that route again until the next RetainRoutes.
func (m *Metrics) RetainRoutes(ids []string) {
	if m == nil {
		return
	}
	keep := make(map[string]bool, len(ids)+1)
	for _, id := range ids {
		keep[id] = true
	}
	keep[NoRoute] = true
	// The series are deleted while byRoute is locked, so that a request cannot resolve new
	// children for a route in between and leave byRoute holding children that are no longer
	// exported.
	m.byRoute.deleteFunc(func(id string) bool { return !keep[id] }, func(s *routeSeries) {
		l := prometheus.Labels{labelRoute: s.label}
		m.requests.DeletePartialMatch(l)
		m.requestSeconds.DeletePartialMatch(l)
		m.backendSeconds.DeletePartialMatch(l)
		m.backendErrors.DeletePartialMatch(l)
		m.injections.DeletePartialMatch(l)
		if m.serve != nil {
			m.serve.forget(l)
		}
	})
}

// routeLabel returns the route label of a route id.
func routeLabel(id string) string {
	return sanitize(routing.RouteName(id))
}

// sanitize returns s with invalid UTF-8 replaced. Route ids, filter names and secret paths are
// valid UTF-8 in practice; this only keeps a malformed one from making client_golang panic.
func sanitize(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
