package tracing

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/metrics"
)

// Span and attribute names: Skipper's, so that dashboards and queries written for Skipper's
// traces keep working.
const (
	serverSpanName = "ingress"
	clientSpanName = "proxy"

	attrComponent = "component"
	attrError     = "error"
	attrFlowID    = "flow_id"
	attrHostname  = "hostname"
	attrHost      = "http.host"
	attrMethod    = "http.method"
	attrRemoteIP  = "http.remote_ip"
	attrPath      = "http.path"
	attrURL       = "http.url"
	attrStatus    = "http.status_code"
	attrRouteID   = "skipper.route_id"

	// InjectionEvent is the event a credential injection adds to the server span. Its
	// attributes are the filter's name, the secrets' paths and the outcome; never a value.
	InjectionEvent = "credential_injection"
	attrFilter     = "skipper.filter"
	attrSecretPath = "skipper.secret.path"
	attrOutcome    = "skipper.injection.outcome"
	attrReason     = "skipper.injection.failure_reason"
)

// Tracer makes the spans of the proxy's requests; it implements proxy.Tracer.
type Tracer struct {
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	hostname string
	// headers are the headers prop writes (traceparent, tracestate, baggage): a client's own
	// are replaced by what the client span's context holds, and left alone when prop writes
	// none (OTEL_PROPAGATORS=none).
	headers []string
}

// NewWithProvider returns a Tracer whose spans tp makes and whose trace context prop reads
// from clients and writes to backends: for tests, with an in-process span recorder, and for
// programs that set up OpenTelemetry themselves.
func NewWithProvider(tp trace.TracerProvider, prop propagation.TextMapPropagator) *Tracer {
	host, _ := os.Hostname()
	t := &Tracer{tracer: tp.Tracer("github.com/skipper-egress/skipper"), prop: prop, hostname: host}
	for _, f := range prop.Fields() {
		t.headers = append(t.headers, http.CanonicalHeaderKey(f))
	}
	return t
}

// StartServer starts r's server span, a child of the client's span when r's headers carry a
// trace context, and returns r with the span and r's baggage in its context.
func (t *Tracer) StartServer(r *http.Request) *http.Request {
	ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	attrs := []attribute.KeyValue{
		attribute.String(attrComponent, "skipper"),
		attribute.String(attrMethod, r.Method),
		attribute.String(attrHost, r.Host),
		attribute.String(attrPath, r.URL.Path),
		attribute.String(attrRemoteIP, remoteIP(r.RemoteAddr)),
		attribute.String(attrHostname, t.hostname),
	}
	if v := r.Header.Get("X-Flow-Id"); v != "" {
		attrs = append(attrs, attribute.String(attrFlowID, v))
	}
	ctx, _ = t.tracer.Start(ctx, serverSpanName, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	return r.WithContext(ctx)
}

func remoteIP(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// Route names the matched route on the server span.
func (t *Tracer) Route(ctx context.Context, routeID string) {
	trace.SpanFromContext(ctx).SetAttributes(attribute.String(attrRouteID, routeID))
}

// Failed marks the server span as failed, as Skipper's error tag; a 5xx also sets the span's
// status to Error with err's message.
func (t *Tracer) Failed(ctx context.Context, status int, err error) {
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(attribute.Bool(attrError, true))
	if status >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, errorMessage(err))
	}
}

// EndServer records the answer's status and ends the server span.
func (t *Tracer) EndServer(ctx context.Context, status int) {
	span := trace.SpanFromContext(ctx)
	if status != 0 { // 0: nothing was answered, as when a tunnel took the connection over
		span.SetAttributes(attribute.Int(attrStatus, status))
	}
	if status >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

// StartClient starts the client span of a call of out, a child of the server span, and
// writes its trace context, and the baggage the client sent, to out's headers.
func (t *Tracer) StartClient(out *http.Request, routeID string) func(*http.Response, error) {
	name := clientSpanName
	if e := filters.ExchangeOf(out); e != nil && e.SpanName() != "" {
		name = e.SpanName() // tracingSpanName
	}
	ctx, span := t.tracer.Start(out.Context(), name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String(attrComponent, "skipper"),
			attribute.String(attrMethod, out.Method),
			attribute.String(attrHost, out.Host),
			attribute.String(attrURL, spanURL(out.URL)),
			attribute.String(attrRouteID, routeID),
		))
	for _, h := range t.headers {
		delete(out.Header, h)
	}
	t.prop.Inject(ctx, propagation.HeaderCarrier(out.Header))
	return func(res *http.Response, err error) {
		switch {
		case err != nil:
			span.SetAttributes(attribute.Bool(attrError, true))
			span.SetStatus(codes.Error, errorMessage(err))
		default:
			span.SetAttributes(attribute.Int(attrStatus, res.StatusCode))
			if res.StatusCode >= http.StatusInternalServerError {
				span.SetAttributes(attribute.Bool(attrError, true))
				span.SetStatus(codes.Error, http.StatusText(res.StatusCode))
			}
		}
		span.End()
	}
}

// spanURL is u without its user info and query, which may hold credentials, as Skipper's
// http.url tag.
func spanURL(u *url.URL) string {
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}

// errorMessage is err's message without the request URL that a *url.Error quotes: its query
// may hold a credential.
func errorMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// Injected adds an InjectionEvent to the span of ctx.
func (t *Tracer) Injected(ctx context.Context, filter string, paths []string, err error) {
	attrs := []attribute.KeyValue{
		attribute.String(attrFilter, filter),
		attribute.StringSlice(attrSecretPath, paths),
	}
	if err != nil {
		attrs = append(attrs, attribute.String(attrOutcome, "failed"),
			attribute.String(attrReason, metrics.FailureReason(err)))
	} else {
		attrs = append(attrs, attribute.String(attrOutcome, "injected"))
	}
	trace.SpanFromContext(ctx).AddEvent(InjectionEvent, trace.WithAttributes(attrs...))
}

// HasBaggage reports whether r's context holds baggage with a member named key: the
// OTelBaggage predicate, given to routing.CompileOptions.Baggage. The baggage is the client's,
// which StartServer has read.
func HasBaggage(r *http.Request, key string) bool {
	_, ok := memberOf(baggage.FromContext(r.Context()), key)
	return ok
}

func memberOf(b baggage.Baggage, key string) (baggage.Member, bool) {
	m := b.Member(key)
	return m, m.Key() != ""
}
