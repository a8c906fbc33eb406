// Package proxy is the request loop: match a route, run its filters, forward to its backend and
// stream the answer back.
package proxy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/echomask"
	"github.com/skipper-egress/skipper/internal/metrics"
	"github.com/skipper-egress/skipper/routing"
)

// Log field names.
const (
	fieldRoute   = "route"
	fieldBackend = "backend"
	fieldHost    = "host"
	fieldError   = "error"
)

// credentialWarnEvery is how often, at most, the warning about a route whose credential is
// unavailable is repeated: often enough to notice, rarely enough not to flood the log when every
// request on a busy route fails the same way.
const credentialWarnEvery = time.Minute

// Options configures a Proxy.
type Options struct {
	// Router supplies the route table. Required.
	Router *routing.Router
	// Transport sends requests to backends. If nil, NewTransport(TransportOptions{}) is used.
	// Protocol upgrades need a transport that reports the connection a request went out on
	// through httptrace's GotConn, as net/http's does; with another, a 101 is answered 502.
	Transport http.RoundTripper
	// Log receives the application log: failed requests and degraded service. If nil, nothing is
	// logged.
	Log logrus.FieldLogger
	// AccessLog receives one line per request in Skipper's access log format. If nil, there is no
	// access log.
	AccessLog io.Writer
	// PreserveHost sends the client's Host to the backend instead of the backend's own name, as
	// Skipper's -proxy-preserve-host. Filters may still change it.
	PreserveHost bool
	// NormalizeHost lower-cases the request's Host and drops its port and a trailing dot from
	// its name before the route is matched, as Skipper's -normalize-host. A CONNECT keeps its
	// port: there the Host is the tunnel's destination.
	NormalizeHost bool
	// NoRouteStatus is the status of a request that no route matches, as Skipper's
	// -default-http-status. If zero, 404.
	NoRouteStatus int
	// CredentialsFailOpen forwards a request whose credential is unavailable without that
	// credential, as Skipper does, instead of answering 503. Unlike Skipper, the client's own
	// header of that name is not forwarded either: the failed filter has removed it, so a
	// client can never stand in for the route's credential. Off by default; for the few whose
	// backends accept anonymous calls and who prefer degraded answers to none.
	CredentialsFailOpen bool
	// Metrics records requests, backend calls and credential injections. If nil, nothing is
	// recorded.
	Metrics metrics.Recorder
	// AccessLogJSON writes the access log as one JSON object per line instead of Skipper's
	// text format.
	AccessLogJSON bool
	// AccessLogDisabled writes no access log line for a request unless its route's
	// enableAccessLog filter asks for it, as Skipper's -access-log-disabled; disableAccessLog
	// turns a route's lines off the other way.
	AccessLogDisabled bool
	// Now returns the current time. If nil, time.Now is used.
	Now func() time.Time
	// Forward is the forward proxy: the SSRF guard and transport of <dynamic> routes, CONNECT
	// tunnels and TLS interception; whoever builds it runs it (Forwarder.Run). If nil, New
	// builds one from the zero ForwardOptions that nothing runs: it refuses every internal
	// destination and intercepts nothing, its idle connections close only after their idle
	// timeout and its tunnels only by their own limits. main passes its own.
	Forward *Forwarder
	// Breakers holds the circuit breakers of routes with a breaker filter (consecutiveBreaker,
	// rateBreaker), one per backend host and settings. If nil, no breaker applies.
	Breakers *circuit.Registry
	// MaxLoopbacks is how many <loopback> routes one request may pass through before it fails
	// with 500, as Skipper's -max-loopbacks. If zero, 9; if negative, none.
	MaxLoopbacks int
	// ForwardedHeaders are the X-Forwarded-* headers set on each request before it is matched,
	// as Skipper's -forwarded-headers. The zero value sets none. Proto "auto" sees HTTP/1.1
	// requests over TLS only when the server's ConnContext is ConnContext.
	ForwardedHeaders ForwardedHeaders
	// Audit receives one line per credential use and per forward-proxy decision. If nil, there
	// is no audit log.
	Audit *audit.Log
	// MaskEchoedCredentials replaces, in the response's header fields and body, every
	// credential that the request's filters injected with as many '*', and asks the backend
	// for an uncompressed response on routes with a credential filter; a compressed response
	// that carries a body is answered 502 instead.
	MaskEchoedCredentials bool
	// Tracer traces requests (-open-telemetry). If nil, nothing is traced, at no cost.
	Tracer Tracer
	// Bindings, if set, say where each secret may go (-credentials-bind): a request whose
	// route reads a secret that may not go to the attempt's final destination is answered
	// 403 and not sent. See checkBindings.
	Bindings filters.DestinationPolicy
	// ForwardReportOnly sends on, as -forward-report-only, the forward-proxy requests that no
	// route allows (and CONNECTs that their route does not tunnel): to the destination the
	// client named, through the SSRF guard, without any credential, logged as would-be denials.
	// Proxy authentication still applies.
	ForwardReportOnly bool
	// WouldDeny, if set, is called under ForwardReportOnly for each request that would have
	// been denied, with the reason, before it is sent on. r's context carries the proxy user
	// (filters.ProxyUser). It must be safe for concurrent use and must not block: the audit
	// log records would_deny here.
	WouldDeny func(r *http.Request, reason string)
}

// Proxy is an http.Handler that forwards requests by the current route table. It is safe for
// concurrent use.
type Proxy struct {
	router       *routing.Router
	transport    http.RoundTripper
	log          logrus.FieldLogger
	access       *accessLog
	accessOff    bool // Options.AccessLogDisabled
	metrics      metrics.Recorder
	failOpen     bool
	preserve     bool
	normalize    bool
	noRoute      int
	now          func() time.Time
	bufs         sync.Pool // *[]byte, for copying bodies
	nonce        string    // marks the requests that Listener's connections refuse
	inner        *guard    // checks the requests decrypted from intercepted tunnels
	fwd          *Forwarder
	breakers     *circuit.Registry // nil: no breakers
	maxLoopbacks int
	forwarded    *ForwardedHeaders         // nil: none
	audit        *audit.Log                // nil: none
	mask         bool                      // Options.MaskEchoedCredentials
	tracer       Tracer                    // nil: none
	bindings     filters.DestinationPolicy // nil: every secret goes anywhere
	reportOnly   *routing.Route            // Options.ForwardReportOnly; nil: off
	wouldDeny    func(r *http.Request, reason string)

	// balancers holds the load balancer of each BackendLB route, created on first use.
	balancers sync.Map // weak.Pointer[routing.Route] -> *balancer

	// warned holds, per route id, when the last credential warning was logged (unix nanos).
	warned sync.Map // string -> *atomic.Int64

	draining atomic.Bool // set by Drain

	teeLoop func(*http.Request) // serveTee, bound once
}

// New returns a Proxy. It panics if opts.Router is nil or opts.ForwardedHeaders holds a bad Port
// or Proto, which are programming errors: flags are validated before.
func New(opts Options) *Proxy {
	if opts.Router == nil {
		panic("proxy: Options.Router is nil")
	}
	if opts.Forward == nil {
		fwd, err := NewForwarder(ForwardOptions{})
		if err != nil {
			panic("proxy: " + err.Error()) // the zero options hold no bad duration
		}
		opts.Forward = fwd
	}
	if err := opts.ForwardedHeaders.check(); err != nil {
		panic("proxy: " + err.Error())
	}
	p := &Proxy{
		router:    opts.Router,
		transport: opts.Transport,
		log:       opts.Log,
		failOpen:  opts.CredentialsFailOpen,
		preserve:  opts.PreserveHost,
		normalize: opts.NormalizeHost,
		noRoute:   opts.NoRouteStatus,
		now:       opts.Now,
		metrics:   opts.Metrics,
		nonce:     rand.Text(),
		fwd:       opts.Forward,
		breakers:  opts.Breakers,
		audit:     opts.Audit,
		mask:      opts.MaskEchoedCredentials,
		tracer:    opts.Tracer,
		bindings:  opts.Bindings,
		wouldDeny: opts.WouldDeny,

		maxLoopbacks: opts.MaxLoopbacks,
	}
	p.teeLoop = p.serveTee
	if opts.ForwardReportOnly {
		p.reportOnly = newReportOnlyRoute()
	}
	if p.maxLoopbacks == 0 {
		p.maxLoopbacks = defaultMaxLoopbacks
	}
	if p.noRoute == 0 {
		p.noRoute = http.StatusNotFound
	}
	if p.transport == nil {
		p.transport = NewTransport(TransportOptions{})
	}
	if p.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		p.log = l
	}
	if p.metrics == nil {
		p.metrics = metrics.Nop{}
	}
	if p.now == nil {
		p.now = time.Now
	}
	if !opts.ForwardedHeaders.IsZero() {
		h := opts.ForwardedHeaders
		h.Exclude = slices.Clone(h.Exclude)
		p.forwarded = &h
	}
	if opts.AccessLog != nil {
		p.access = newAccessLog(opts.AccessLog, opts.AccessLogJSON)
		p.accessOff = opts.AccessLogDisabled
	}
	p.bufs.New = func() any { b := make([]byte, 32*1024); return &b }
	// The server of an intercepted tunnel keeps Go's default MaxHeaderBytes.
	p.inner = newGuard(p.nonce, http.DefaultMaxHeaderBytes+8192)
	return p
}

// Drain makes every answer from now on ask the client to close its connection: an HTTP/1.x
// answer carries "Connection: close" and the server closes the connection after it; over
// HTTP/2 the server sends GOAWAY, and the client opens a new connection for its next request.
// main calls it at shutdown once it has stopped accepting connections, so that busy clients
// leave their connections each after a whole answer before the idle ones are closed. It is safe
// for concurrent use.
func (p *Proxy) Drain() { p.draining.Store(true) }

// framingHeader carries, on the stand-in request that Listener's connections make of a refused
// request head, the proxy's nonce, the status and the reason. A client cannot forge it without
// the nonce; any copy a client sends is removed.
const framingHeader = "X-Skipper-Refused-Framing"

// ServeHTTP forwards one request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := p.now()
	rw := &responseRecorder{ResponseWriter: w}
	if p.tracer != nil {
		r = p.tracer.StartServer(r)
		defer p.endTrace(r, rw)
	}
	defer p.logAccess(r, rw, start) // also when the handler aborts a half-sent response
	defer p.writeAudit(r, rw, start)
	if p.draining.Load() {
		// Shutting down: the client is to leave this connection after this answer rather than
		// have it closed under its next request (see Drain).
		w.Header().Set("Connection", "close")
	}
	closeIfLeaving(w, r)
	if v, ok := r.Header[framingHeader]; ok {
		delete(r.Header, framingHeader)
		if err := p.refusedFraming(v); err != nil {
			p.fail(rw, r, nil, err)
			return
		}
	}
	if q := r.URL.RawQuery; q != "" {
		if err := queryError(q); err != nil {
			// As Skipper's -validate-query (on by default): a query that a backend could read
			// one way and a filter another never leaves.
			p.fail(rw, r, nil, fmt.Errorf("%w: %w", errInvalidQuery, err))
			return
		}
	}
	restoreExpect(r)
	p.prepare(r)
	var ok bool
	r, rw.proxyUser, ok = p.authenticate(r) // before the match: ProxyUser predicates see the user
	rw.unauthorized = !ok
	rw.table = p.router.Load()
	route := rw.table.Match(r)
	if p.tracer != nil && route != nil {
		p.tracer.Route(r.Context(), route.ID)
	}
	p.metrics.RequestStarted()
	defer p.recordRequest(r, rw, route, start)
	p.serve(rw, r, route)
}

// recordRequest records a finished request in the metrics.
func (p *Proxy) recordRequest(r *http.Request, w *responseRecorder, route *routing.Route, start time.Time) {
	id := metrics.NoRoute
	if route != nil {
		id = route.ID
	}
	d := p.now().Sub(start)
	p.metrics.RequestDone(id, r.Method, w.status, d)
	p.metrics.Served(id, r.Host, r.Method, w.status, d)
}

func (p *Proxy) logAccess(r *http.Request, w *responseRecorder, start time.Time) {
	if p.access != nil && w.exchange.AccessLog().Logs(w.status, !p.accessOff) {
		if uri := w.exchange.AccessLogURI(r.RequestURI); uri != r.RequestURI {
			masked := *r // maskAccessLogQuery: the log shows hashes of some query values
			masked.RequestURI = uri
			r = &masked
		}
		p.access.write(r, w.proxyUser, w.status, w.written, start, p.now())
	}
}

// closeIfLeaving makes the server close the connection after answering r when r may take the
// connection out of HTTP (a CONNECT or an upgrade, as mayLeaveHTTP reads it). Listener's
// connections hold back what follows such a request until the proxy hijacks the connection;
// an answer that is not a tunnel must be the last on the connection.
func closeIfLeaving(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 && mayLeaveHTTP(r.Method, r.Header["Connection"]) {
		w.Header().Set("Connection", "close")
	}
}

// isRefusal reports whether r is the stand-in that a Listener connection made of a refused
// request head.
func (p *Proxy) isRefusal(r *http.Request) bool {
	v, ok := r.Header[framingHeader]
	return ok && p.refusedFraming(v) != nil
}

// refusedFraming returns the error for a stand-in request that a Listener connection made of a
// refused request head, or nil when the header does not carry this proxy's nonce.
func (p *Proxy) refusedFraming(v []string) error {
	if len(v) != 1 {
		return nil
	}
	rest, ok := strings.CutPrefix(v[0], p.nonce+" ")
	if !ok {
		return nil
	}
	code, reason, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if err != nil {
		return nil
	}
	return &framingError{status: status, reason: reason}
}

// normalizeHost returns host as Skipper's -normalize-host leaves it: lower-cased, without a
// trailing dot on its name and, unless keepPort, without its port. An IPv6 literal keeps its
// brackets, which Skipper drops with the port, so that the Host stays a valid one; a host that
// is not name[:port] is only lower-cased.
func normalizeHost(host string, keepPort bool) string {
	name, port := host, ""
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		if n := host[:i]; !strings.Contains(n, ":") || strings.HasPrefix(n, "[") {
			name, port = n, host[i:]
		}
	}
	if !keepPort {
		port = ""
	}
	return strings.ToLower(strings.TrimSuffix(name, ".")) + port
}

func (p *Proxy) serve(w *responseRecorder, r *http.Request, route *routing.Route) {
	if w.unauthorized {
		p.challenge(w, r)
		return
	}
	if route != nil {
		w.routeName = route.Name()
	}
	if route == nil {
		if isForward(r) {
			// Deny by default: a client-chosen destination needs a route that allows it.
			p.denyForward(w, r, "no route allows "+r.Host)
			return
		}
		p.fail(w, r, nil, errNoRoute)
		return
	}
	if r.Method == http.MethodConnect {
		p.connect(w, r, route)
		return
	}
	p.serveRoute(w, r, r, route, 0)
}

// serveRoute runs route's filters on a copy of src and serves it by route's backend. src is r,
// the client's request, or after <loopback> routes the request as their filters left it; hops
// counts those routes.
func (p *Proxy) serveRoute(w *responseRecorder, r, src *http.Request, route *routing.Route, hops int) {
	// Filters see the outgoing copy; its Exchange lets placeholders such as ${request.host}
	// still read the client's request, ${id} the route's path parameters, and the
	// setDynamicBackend filters hand the proxy a destination.
	ex := filters.NewExchange(src.Context(), r, pathParams(route, src))
	ex.SetTeeLoopback(p.teeLoop)
	ex.KeepAccessLog(w.exchange)
	w.exchange = ex // for the access log switch
	out := src.Clone(ex)
	out.RequestURI = "" // set on server requests, forbidden on client ones
	out.Close = false
	// Clone copied the trailer map while it held only the announced names; the server fills
	// in src's own map when the body ends, which is when the transport sends it on.
	out.Trailer = src.Trailer
	proto := upgradeType(r)
	trailers := acceptsTrailers(out.Header)
	removeHopHeaders(out.Header)
	if proto != "" {
		keepUpgrade(out.Header, proto)
	}
	if trailers {
		out.Header["Te"] = []string{"trailers"}
	}
	if r.ContentLength == 0 {
		// A nil body makes the transport send no body instead of an empty chunked one.
		out.Body = nil
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		// Keep the client's choice of no User-Agent; Go would add its own.
		out.Header["User-Agent"] = nil
	}
	lbHost := p.aim(r, out, route)

	for i, f := range route.Filters {
		err := f.Request(out)
		p.recordInjection(w, ex, route, i, f, err)
		if p.tracer != nil {
			p.traceInjection(out, route, i, f, err)
		}
		if err != nil {
			if p.failOpen && errors.Is(err, filters.ErrCredentialUnavailable) {
				p.warnCredential(route, r, err, "credential unavailable, forwarding without it (fail-open)")
				continue
			}
			var rep *filters.Reply
			if errors.As(err, &rep) {
				p.answerLocally(w, r, out, route, i+1, rep) // recorded in metrics and access log as any answer
				return
			}
			p.fail(w, r, route, err)
			return
		}
	}

	p.askIdentity(w, route, out)

	switch route.Backend.Type {
	case routing.BackendShunt:
		p.answerLocally(w, r, out, route, len(route.Filters), nil)
	case routing.BackendLoopback:
		p.loopback(w, r, out, route, hops)
	case routing.BackendNetwork:
		if route.Backend.URL == nil {
			p.fail(w, r, route, errEmptyBackend)
			return
		}
		setReadDeadline(w, route, out)
		p.forward(w, r, out, route, proto, p.transport)
	case routing.BackendDynamic:
		transport, err := p.aimDynamic(r, out, ex.DynamicBackend())
		if err != nil {
			p.fail(w, r, route, err)
			return
		}
		setReadDeadline(w, route, out)
		p.forward(w, r, out, route, proto, transport)
	case routing.BackendLB:
		// The Host follows the endpoint unless the client's is kept or a filter chose one.
		setReadDeadline(w, route, out)
		p.forwardLB(w, r, out, route, proto, out.Host == lbHost && !(p.preserve && r.Host == lbHost))
	default:
		p.fail(w, r, route, fmt.Errorf("%w: %v", errUnsupportedBackend, route.Backend.Type))
	}
}

// errProxyTransport fails the requests of a backendIsProxy route when the proxy was given a
// transport that cannot send through a proxy: sent without one, they would go to their
// destination directly.
var errProxyTransport = errors.New("backendIsProxy needs the proxy's own transport")

// errUnsupportedBackend is returned for routes whose backend kind this proxy cannot serve yet.
var errUnsupportedBackend = errors.New("unsupported backend")

// errEmptyBackend fails the requests of a route written with an empty backend address
// (`-> ""`): Skipper loads such a route and answers its requests 500.
var errEmptyBackend = errors.New("empty backend address")

// forward sends out, already aimed at the route's backend, through transport and copies the
// response to w. proto is the protocol the client asked to upgrade to, if any.
func (p *Proxy) forward(w *responseRecorder, r, out *http.Request, route *routing.Route, proto string, transport http.RoundTripper) {
	out, release, ok := p.prepareUpgrade(out, proto)
	if !ok {
		p.fail(w, r, route, errTunnelLimit)
		return
	}
	defer release() // after the tunnel, if the backend switched protocols
	res, cancel, err := p.send(r, out, route, transport)
	defer cancel() // after the body is copied: the deadline bounds it too
	p.respond(w, r, out, route, proto, res, err)
}

// send sends out through transport, within route's circuit breaker and backend timeout, and
// records the outcome. cancel releases the timeout once the response body is read; it is never
// nil.
func (p *Proxy) send(r, out *http.Request, route *routing.Route, transport http.RoundTripper) (res *http.Response, cancel context.CancelFunc, err error) {
	if rep := allowBackend(route, out); rep != nil {
		return nil, func() {}, rep // answered by respond, as the route's own answer
	}
	if err := p.checkBindings(route, out); err != nil {
		return nil, func() {}, err
	}
	out, err = egress(route, out)
	if err != nil {
		if ce, ok := errors.AsType[*filters.CredentialError](err); ok {
			p.metrics.InjectionFailed(ce.Filter, metrics.FailureReason(err))
		}
		return nil, func() {}, err // answered by respond: a Reply locally, else by fail
	}
	if _, ok := transport.(*Transport); route.Settings.BackendIsProxy && !ok {
		return nil, func() {}, errProxyTransport
	}
	if transport, err = clientTransport(route, out, transport); err != nil {
		return nil, func() {}, err // an unusable client certificate: 503
	}
	ticket, ok := p.breaker(route, out.URL.Host).Allow()
	if !ok {
		return nil, func() {}, errCircuitOpen
	}
	if p.tracer != nil {
		end := p.tracer.StartClient(out, route.ID)
		defer func() { cancel = endSpan(cancel, end, res, err) }()
	}
	if route.Settings.BackendIsProxy {
		scheme, dest := proxyDestination(r)
		out = withProxy(out, scheme, dest)
	}
	out, cancel = withBackendTimeout(route, out)
	sent := p.now()
	res, err = transport.RoundTrip(out)
	if err == nil || r.Context().Err() == nil {
		// Skipper counts errors and 5xx as failures. A request its client cancelled says
		// nothing about the backend and is not counted.
		ticket.Done(err == nil && res.StatusCode < http.StatusInternalServerError)
	}
	if err == nil {
		p.metrics.BackendDone(route.ID, p.now().Sub(sent))
	} else if r.Context().Err() == nil {
		p.metrics.BackendError(route.ID, metrics.BackendErrorKind(err))
	}
	return res, cancel, err
}

// respond copies res, the backend's answer to out, to w, or answers the error err of sending
// out.
func (p *Proxy) respond(w *responseRecorder, r, out *http.Request, route *routing.Route, proto string, res *http.Response, err error) {
	p.takeUses(w, filters.ExchangeOf(out), route) // those of egress filters
	w.sent = sentTo{scheme: out.URL.Scheme, host: out.URL.Host, path: out.URL.Path}
	setWriteDeadline(w, route)
	if err != nil {
		var rep *filters.Reply
		if errors.As(err, &rep) {
			p.answerLocally(w, r, out, route, len(route.Filters), rep)
			return
		}
		if readTimedOut(out) {
			// The client did not send its body in time; the failed read also cancelled r's
			// context, but the client is still there to be told.
			p.fail(w, r, route, fmt.Errorf("%w: %w", errClientBodyTimeout, err))
			return
		}
		if r.Context().Err() != nil {
			// The client went away; there is nobody to answer.
			p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldError: err}).Debug("client canceled request")
			w.status = statusClientClosed
			return
		}
		p.fail(w, r, route, err)
		return
	}
	defer res.Body.Close()

	switched := res.Header.Get("Upgrade")
	removeHopHeaders(res.Header)
	if res.StatusCode == http.StatusSwitchingProtocols && proto != "" {
		keepUpgrade(res.Header, switched)
	}
	if err := responseFilters(w, res, route.Filters); err != nil {
		p.fail(w, r, route, err)
		return
	}
	mask := p.maskValues(w)
	if res.StatusCode == http.StatusSwitchingProtocols {
		mask = nil // a tunnel's bytes are not HTTP: not masked
	}
	if err := maskResponse(r, res, mask); err != nil {
		p.fail(w, r, route, err)
		return
	}
	if mask != nil {
		defer res.Body.Close() // the masking reader: gives its buffers back, then closes the body
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		if proto == "" {
			p.fail(w, r, route, fmt.Errorf("%w: the backend switched protocols unasked", errUpgrade))
			return
		}
		p.tunnel(w, r, res, route, proto)
		return
	}

	h := w.Header()
	for k, vv := range res.Header {
		h[k] = vv
	}
	addNothing(h, r.ProtoMajor)
	announceTrailers(h, res.Trailer)
	w.WriteHeader(res.StatusCode)

	if err := p.copyBody(w, res.Body, res.ContentLength == -1); err != nil {
		if errors.Is(err, errWriteClient) || r.Context().Err() != nil {
			// The client went away mid-body: the write failed, or its cancelled context
			// stopped the read from the backend first. Nothing more to do.
			return
		}
		// The status line is gone; tearing the connection down is the only way left to tell
		// the client that the body is incomplete.
		p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldBackend: out.URL.Host, fieldError: err}).
			Error("reading backend response body")
		panic(http.ErrAbortHandler)
	}
	echomask.Header(res.Trailer, mask)
	copyTrailers(h, res.Trailer)
}
