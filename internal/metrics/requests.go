package metrics

import (
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The hot-path methods below find their label children in copy-on-write maps: a lookup is an
// atomic load and a map read, with no lock, no label hashing and no allocation. A child is
// resolved through client_golang only the first time its labels are seen, which is bounded by
// the route table, the method classes and the status codes.

// Method classes, the values of the method label. Anything else is methodOther.
const (
	methodGET uint8 = iota
	methodHEAD
	methodPOST
	methodPUT
	methodPATCH
	methodDELETE
	methodOPTIONS
	methodCONNECT
	methodTRACE
	methodOther
	numMethods
)

// methodClass returns the class of an HTTP method. Methods are case-sensitive (RFC 9110
// §9.1), so "get" is "other".
func methodClass(method string) uint8 {
	switch method {
	case "GET":
		return methodGET
	case "HEAD":
		return methodHEAD
	case "POST":
		return methodPOST
	case "PUT":
		return methodPUT
	case "PATCH":
		return methodPATCH
	case "DELETE":
		return methodDELETE
	case "OPTIONS":
		return methodOPTIONS
	case "CONNECT":
		return methodCONNECT
	case "TRACE":
		return methodTRACE
	}
	return methodOther
}

// methodLabel returns the method label of a class.
func methodLabel(c uint8) string {
	switch c {
	case methodGET:
		return "GET"
	case methodHEAD:
		return "HEAD"
	case methodPOST:
		return "POST"
	case methodPUT:
		return "PUT"
	case methodPATCH:
		return "PATCH"
	case methodDELETE:
		return "DELETE"
	case methodOPTIONS:
		return "OPTIONS"
	case methodCONNECT:
		return "CONNECT"
	case methodTRACE:
		return "TRACE"
	}
	return "other"
}

// statusKey returns the key of a status code: the code itself from 100 to 599, else 0, whose
// label is "other".
func statusKey(status int) uint16 {
	if status < 100 || status > 599 {
		return 0
	}
	return uint16(status)
}

// statusLabel returns the status label of a statusKey. It runs only when a series is created.
func statusLabel(k uint16) string {
	if k == 0 {
		return "other"
	}
	return strconv.Itoa(int(k))
}

// routeSeries holds the resolved children of one route.
type routeSeries struct {
	label    string
	total    prometheus.Observer
	backend  prometheus.Observer
	errs     [numKinds]prometheus.Counter
	requests cowMap[uint32, prometheus.Counter] // key: method class << 16 | statusKey
	// injections are the credential uses on the route, by filter name.
	injections cowMap[string, *injectionSeries]
}

// route returns the series of routeID, creating them on first use.
func (m *Metrics) route(routeID string) *routeSeries {
	if s, ok := m.byRoute.load(routeID); ok {
		return s
	}
	return m.byRoute.loadOrCreate(routeID, func() *routeSeries {
		label := routeLabel(routeID)
		s := &routeSeries{
			label:   label,
			total:   m.requestSeconds.WithLabelValues(label),
			backend: m.backendSeconds.WithLabelValues(label),
		}
		// Every kind is exposed, at zero, as soon as the route is, so that rate() and
		// alerts see the series before the first error.
		for k := range s.errs {
			s.errs[k] = m.backendErrors.WithLabelValues(label, kindLabel(uint8(k)))
		}
		return s
	})
}

// RequestStarted counts a request in flight.
func (m *Metrics) RequestStarted() {
	if m == nil {
		return
	}
	m.inFlight.Inc()
}

// RequestDone ends a request that RequestStarted counted: it counts the request by route,
// method class and status, and observes its total duration. routeID is the matched route's id,
// "" for the unnamed route, or NoRoute.
func (m *Metrics) RequestDone(routeID, method string, status int, total time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	s := m.route(routeID)
	mc, sk := methodClass(method), statusKey(status)
	key := uint32(mc)<<16 | uint32(sk)
	c, ok := s.requests.load(key)
	if !ok {
		c = s.requests.loadOrCreate(key, func() prometheus.Counter {
			return m.requests.WithLabelValues(s.label, methodLabel(mc), statusLabel(sk))
		})
	}
	c.Inc()
	s.total.Observe(total.Seconds())
}

// Served records a finished request in the serve series, if any is on.
func (m *Metrics) Served(routeID, host, method string, status int, total time.Duration) {
	if m == nil || m.serve == nil {
		return
	}
	// Through m.route, so that RetainRoutes knows the route and drops its serve series too.
	m.serve.done(m.route(routeID).label, host, method, status, total)
}

// BackendDone observes the duration of a backend round trip of routeID that produced a
// response.
func (m *Metrics) BackendDone(routeID string, d time.Duration) {
	if m == nil {
		return
	}
	m.route(routeID).backend.Observe(d.Seconds())
}

// BackendError counts a failed backend round trip of routeID. kind is one of KindDial,
// KindTimeout, KindReset and KindOther; any other value counts as KindOther.
func (m *Metrics) BackendError(routeID, kind string) {
	if m == nil {
		return
	}
	m.route(routeID).errs[kindIndex(kind)].Inc()
}

// filterSeries holds the resolved children of one filter.
type filterSeries struct {
	failed [numReasons]prometheus.Counter
}

// filter returns the series of the filter name, creating them on first use.
func (m *Metrics) filter(name string) *filterSeries {
	if s, ok := m.byFilter.load(name); ok {
		return s
	}
	return m.byFilter.loadOrCreate(name, func() *filterSeries {
		label := sanitize(name)
		s := &filterSeries{}
		for r := range s.failed {
			s.failed[r] = m.injectionFailures.WithLabelValues(label, reasonLabel(uint8(r)))
		}
		return s
	})
}

// InjectionFailed counts a credential that filter, a registered filter name, could not inject.
// reason is one of the Reason* constants (see FailureReason); any other value counts as
// ReasonOther.
func (m *Metrics) InjectionFailed(filter, reason string) {
	if m == nil {
		return
	}
	m.filter(filter).failed[reasonIndex(reason)].Inc()
}

// cowMap is a copy-on-write map: reads are lock-free, and each write copies the map. It suits
// keys that are added rarely and read on every request. Its zero value is empty and ready.
type cowMap[K comparable, V any] struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[K]V]
}

func (c *cowMap[K, V]) load(k K) (V, bool) {
	if p := c.m.Load(); p != nil {
		v, ok := (*p)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// loadOrCreate returns the value of k, storing create() under it if there is none yet.
func (c *cowMap[K, V]) loadOrCreate(k K, create func() V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next map[K]V
	if p := c.m.Load(); p != nil {
		if v, ok := (*p)[k]; ok {
			return v
		}
		next = maps.Clone(*p)
	} else {
		next = make(map[K]V)
	}
	v := create()
	next[k] = v
	c.m.Store(&next)
	return v
}

// deleteFunc removes every entry whose key del reports true for, calling gone with each removed
// value while writers are still locked out.
func (c *cowMap[K, V]) deleteFunc(del func(K) bool, gone func(V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.m.Load()
	if p == nil {
		return
	}
	next := maps.Clone(*p)
	maps.DeleteFunc(next, func(k K, v V) bool {
		if del(k) {
			gone(v)
			return true
		}
		return false
	})
	c.m.Store(&next)
}
