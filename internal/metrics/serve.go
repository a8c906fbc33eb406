package metrics

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options are Skipper's metric switches that this package follows. The zero value is the
// default: the series listed in the package documentation and nothing more.
type Options struct {
	// Buckets, if set, replace the upper bounds of every latency histogram
	// (-histogram-metric-buckets). They must be sorted and distinct.
	Buckets []float64
	// ServeRoute and ServeHost add Skipper's skipper_serve_route_duration_seconds and
	// skipper_serve_host_duration_seconds histograms (-serve-route-metrics,
	// -serve-host-metrics), labelled with code and method unless NoServeStatusCode and
	// NoServeMethod (-serve-status-code-metric=false, -serve-method-metric=false).
	ServeRoute, ServeHost bool
	// ServeRouteCounter and ServeHostCounter add skipper_serve_route_count and
	// skipper_serve_host_count{code,method,...} (-serve-route-counter, -serve-host-counter).
	ServeRouteCounter, ServeHostCounter bool
	NoServeStatusCode, NoServeMethod    bool
}

// maxServeHosts bounds the host label: the Host header is the client's to choose, so after this
// many distinct hosts, the others are counted under OtherHost.
const maxServeHosts = 1000

// OtherHost is the host label of the hosts beyond the first maxServeHosts.
const OtherHost = "_other_"

// serveMetrics are Skipper's optional serve series. Unlike the hot path's default series they
// resolve their children on each request: they are opt-in, as in Skipper.
type serveMetrics struct {
	opts         Options
	routeSeconds *prometheus.HistogramVec // nil unless opts.ServeRoute
	hostSeconds  *prometheus.HistogramVec // nil unless opts.ServeHost
	routeCount   *prometheus.CounterVec   // nil unless opts.ServeRouteCounter
	hostCount    *prometheus.CounterVec   // nil unless opts.ServeHostCounter

	mu    sync.Mutex
	hosts map[string]bool // the host labels handed out, up to maxServeHosts
}

func newServeMetrics(o Options, buckets []float64) (*serveMetrics, []prometheus.Collector) {
	s := &serveMetrics{opts: o, hosts: map[string]bool{}}
	var labels []string
	if !o.NoServeStatusCode {
		labels = append(labels, "code")
	}
	if !o.NoServeMethod {
		labels = append(labels, "method")
	}
	var cs []prometheus.Collector
	hist := func(name, help, last string) *prometheus.HistogramVec {
		h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "serve", Name: name, Help: help, Buckets: buckets,
		}, append(labels[:len(labels):len(labels)], last))
		cs = append(cs, h)
		return h
	}
	count := func(name, help, last string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "serve", Name: name, Help: help,
		}, []string{"code", "method", last})
		cs = append(cs, c)
		return c
	}
	if o.ServeRoute {
		s.routeSeconds = hist("route_duration_seconds", "Duration in seconds of serving a route.", labelRoute)
	}
	if o.ServeHost {
		s.hostSeconds = hist("host_duration_seconds", "Duration in seconds of serving a host.", "host")
	}
	if o.ServeRouteCounter {
		s.routeCount = count("route_count", "Total number of requests of serving a route.", labelRoute)
	}
	if o.ServeHostCounter {
		s.hostCount = count("host_count", "Total number of requests of serving a host.", "host")
	}
	return s, cs
}

// enabled reports whether any serve series is on.
func (s *serveMetrics) enabled() bool {
	return s.routeSeconds != nil || s.hostSeconds != nil || s.routeCount != nil || s.hostCount != nil
}

// done records one request.
func (s *serveMetrics) done(route, host, method string, status int, d time.Duration) {
	code, method := strconv.Itoa(status), serveMethod(method)
	var labels []string
	if !s.opts.NoServeStatusCode {
		labels = append(labels, code)
	}
	if !s.opts.NoServeMethod {
		labels = append(labels, method)
	}
	if s.hostSeconds != nil || s.hostCount != nil {
		host = s.hostLabel(host)
	}
	if s.routeSeconds != nil {
		s.routeSeconds.WithLabelValues(append(labels, route)...).Observe(d.Seconds())
	}
	if s.hostSeconds != nil {
		s.hostSeconds.WithLabelValues(append(labels, host)...).Observe(d.Seconds())
	}
	if s.routeCount != nil {
		s.routeCount.WithLabelValues(code, method, route).Inc()
	}
	if s.hostCount != nil {
		s.hostCount.WithLabelValues(code, method, host).Inc()
	}
}

// hostLabel returns the host label of a request's Host as Skipper writes it (dots as "_", a
// port's colon as "__"), or OtherHost once maxServeHosts others have been seen.
func (s *serveMetrics) hostLabel(host string) string {
	h := sanitize(strings.ReplaceAll(strings.ReplaceAll(host, ".", "_"), ":", "__"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hosts[h] {
		if len(s.hosts) >= maxServeHosts {
			return OtherHost
		}
		s.hosts[h] = true
	}
	return h
}

// forget deletes the serve series of a route that left the table.
func (s *serveMetrics) forget(l prometheus.Labels) {
	if s.routeSeconds != nil {
		s.routeSeconds.DeletePartialMatch(l)
	}
	if s.routeCount != nil {
		s.routeCount.DeletePartialMatch(l)
	}
}

// serveMethod is the method label of the serve series, as Skipper's: the methods it knows, else
// "_unknownmethod_" (PATCH included, as in Skipper).
func serveMethod(m string) string {
	switch m {
	case "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT":
		return m
	}
	return "_unknownmethod_"
}
