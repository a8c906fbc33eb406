package tracing_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/tracing"
)

const canary = "s3cr3t-canary-value"

// Trace context of the client's span: the proxy's server span is to continue this trace.
const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
)

// recorded returns a Tracer over an in-process span recorder.
func recorded(t *testing.T) (*tracing.Tracer, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(t.Context()) }) //nolint:errcheck // nothing to flush
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	return tracing.NewWithProvider(tp, prop), rec
}

// ended waits until rec holds n ended spans and returns them.
func ended(t *testing.T, rec *tracetest.SpanRecorder, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	poll.Until(t, 5*time.Second, fmt.Sprintf("%d ended spans", n), func() bool { return len(rec.Ended()) >= n })
	spans := rec.Ended()
	if len(spans) != n {
		t.Fatalf("got %d ended spans, want %d: %v", len(spans), n, names(spans))
	}
	return spans
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var s []string
	for _, sp := range spans {
		s = append(s, sp.Name())
	}
	return s
}

func byKind(t *testing.T, spans []sdktrace.ReadOnlySpan, kind trace.SpanKind) []sdktrace.ReadOnlySpan {
	t.Helper()
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanKind() == kind {
			out = append(out, s)
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value, true
		}
	}
	return attribute.Value{}, false
}

func wantAttr(t *testing.T, s sdktrace.ReadOnlySpan, key, want string) {
	t.Helper()
	v, ok := attr(s, key)
	if !ok || v.String() != want {
		t.Errorf("span %s: %s = %q (set %v), want %q", s.Name(), key, v.String(), ok, want)
	}
}

// checkNoCanary fails when canary appears in any attribute or event of spans.
func checkNoCanary(t *testing.T, spans []sdktrace.ReadOnlySpan) {
	t.Helper()
	for _, s := range spans {
		all := fmt.Sprint(s.Name(), s.Attributes(), s.Status())
		for _, e := range s.Events() {
			all += fmt.Sprint(e.Name, e.Attributes)
		}
		if strings.Contains(all, canary) {
			t.Errorf("span %s holds the secret's value: %s", s.Name(), all)
		}
	}
}

func writeSecret(t *testing.T, dir, name, value string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestServerAndClientSpansCarryTheTraceToTheBackend(t *testing.T) {
	dir := t.TempDir()
	tok := writeSecret(t, dir, "token", canary)
	tr, rec := recorded(t)
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`api: Host("host1") -> bearerinjector(%q) -> "http://%s/"`, tok, backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}, Tracer: tr})

	res, _ := p.Do(t, "GET", "host1", "/v1/items?page=2",
		"Traceparent", "00-"+clientTraceID+"-"+clientSpanID+"-01", "Baggage", "tenant=acme")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
	spans := ended(t, rec, 2)
	server, client := byKind(t, spans, trace.SpanKindServer), byKind(t, spans, trace.SpanKindClient)
	if len(server) != 1 || len(client) != 1 {
		t.Fatalf("got spans %v, want one server and one client span", names(spans))
	}
	s, c := server[0], client[0]

	// The server span continues the client's trace; the client span is its child.
	if got := s.SpanContext().TraceID().String(); got != clientTraceID {
		t.Errorf("server span trace id %s, want the client's %s", got, clientTraceID)
	}
	if got := s.Parent().SpanID().String(); got != clientSpanID || !s.Parent().IsRemote() {
		t.Errorf("server span parent %s (remote %v), want the client's span %s", got, s.Parent().IsRemote(), clientSpanID)
	}
	if c.Parent().SpanID() != s.SpanContext().SpanID() || c.SpanContext().TraceID() != s.SpanContext().TraceID() {
		t.Errorf("client span parent %s, want the server span %s", c.Parent().SpanID(), s.SpanContext().SpanID())
	}

	// The backend sees the client span as its parent, and the client's baggage.
	got := backend.Last(t)
	want := "00-" + clientTraceID + "-" + c.SpanContext().SpanID().String() + "-01"
	if tp := got.Header.Values("Traceparent"); len(tp) != 1 || tp[0] != want {
		t.Errorf("backend got traceparent %q, want %q", tp, want)
	}
	if b := got.Header.Get("Baggage"); b != "tenant=acme" {
		t.Errorf("backend got baggage %q, want tenant=acme", b)
	}

	wantAttr(t, s, "skipper.route_id", "api")
	wantAttr(t, s, "http.status_code", "200")
	wantAttr(t, s, "http.method", "GET")
	wantAttr(t, s, "http.path", "/v1/items")
	wantAttr(t, s, "component", "skipper")
	wantAttr(t, c, "skipper.route_id", "api")
	wantAttr(t, c, "http.status_code", "200")
	wantAttr(t, c, "http.url", "http://"+backend.Addr()+"/v1/items") // no query: it may hold credentials
	if s.Name() != "ingress" || c.Name() != "proxy" {
		t.Errorf("span names %q and %q, want Skipper's ingress and proxy", s.Name(), c.Name())
	}

	// The injection is an event of the server span naming the secret's path, not its value.
	var events []sdktrace.Event
	for _, e := range s.Events() {
		if e.Name == tracing.InjectionEvent {
			events = append(events, e)
		}
	}
	if len(events) != 1 {
		t.Fatalf("server span events %v, want one %s", s.Events(), tracing.InjectionEvent)
	}
	ev := map[string]string{}
	for _, a := range events[0].Attributes {
		ev[string(a.Key)] = a.Value.String()
	}
	wantEvent := map[string]string{"skipper.filter": "bearerinjector", "skipper.secret.path": `["` + tok + `"]`,
		"skipper.injection.outcome": "injected"}
	if fmt.Sprint(ev) != fmt.Sprint(wantEvent) {
		t.Errorf("injection event attributes %v, want %v", ev, wantEvent)
	}
	checkNoCanary(t, spans)
	if got.Header.Get("Authorization") != "Bearer "+canary {
		t.Errorf("backend got Authorization %q: the check above proves nothing", got.Header.Get("Authorization"))
	}
}

func TestNewTraceWithoutClientContext(t *testing.T) {
	tr, rec := recorded(t)
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: * -> "http://%s/"`, backend.Addr()), proxytest.Options{Tracer: tr})
	// A malformed traceparent starts a new trace; the client's tracestate does not reach the
	// backend beside a trace it does not belong to.
	p.Do(t, "GET", "host1", "/", "Traceparent", "00-zz-00-01", "Tracestate", "vendor=x")
	spans := ended(t, rec, 2)
	s := byKind(t, spans, trace.SpanKindServer)[0]
	if s.Parent().IsValid() {
		t.Errorf("server span has parent %v, want a new trace", s.Parent())
	}
	got := backend.Last(t)
	if tp := got.Header.Get("Traceparent"); !strings.Contains(tp, s.SpanContext().TraceID().String()) {
		t.Errorf("backend got traceparent %q, want the new trace %s", tp, s.SpanContext().TraceID())
	}
	if ts := got.Header.Values("Tracestate"); len(ts) != 0 {
		t.Errorf("backend got tracestate %q, want none", ts)
	}
}

func TestFailedInjectionIsRecordedWithoutValue(t *testing.T) {
	dir := t.TempDir()
	tr, rec := recorded(t)
	backend := proxytest.NewBackend(t, nil)
	missing := filepath.Join(dir, "missing")
	p := proxytest.New(t, fmt.Sprintf(`api: * -> bearerinjector(%q) -> "http://%s/"`, missing, backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}, Tracer: tr})
	res, _ := p.Do(t, "GET", "host1", "/")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("got %d, want 503", res.StatusCode)
	}
	s := ended(t, rec, 1)[0] // no backend call: no client span
	if s.Status().Code != codes.Error {
		t.Errorf("server span status %v, want Error", s.Status())
	}
	wantAttr(t, s, "error", "true")
	wantAttr(t, s, "http.status_code", "503")
	if len(s.Events()) != 1 || !strings.Contains(fmt.Sprint(s.Events()[0].Attributes), "failed") {
		t.Errorf("server span events %v, want one failed injection", s.Events())
	}
}

func TestLoadBalancedRetriesHaveAClientSpanEach(t *testing.T) {
	tr, rec := recorded(t)
	var dead []string
	for range 2 { // addresses that refuse connections
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead = append(dead, ln.Addr().String())
		ln.Close()
	}
	p := proxytest.New(t, fmt.Sprintf(`lb: * -> <roundRobin, "http://%s", "http://%s">`, dead[0], dead[1]),
		proxytest.Options{Tracer: tr})
	res, _ := p.Do(t, "GET", "host1", "/")
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("got %d, want 502", res.StatusCode)
	}
	spans := ended(t, rec, 3)
	clients := byKind(t, spans, trace.SpanKindClient)
	if len(clients) != 2 {
		t.Fatalf("got spans %v, want two client spans, one per attempt", names(spans))
	}
	hosts := map[string]bool{}
	for _, c := range clients {
		if c.Status().Code != codes.Error {
			t.Errorf("client span status %v, want Error", c.Status())
		}
		wantAttr(t, c, "skipper.route_id", "lb")
		v, _ := attr(c, "http.url")
		hosts[v.String()] = true
	}
	if len(hosts) != 2 {
		t.Errorf("client spans went to %v, want both endpoints", hosts)
	}
}

func TestOTelBaggagePredicateReadsTheClientsBaggage(t *testing.T) {
	tr, _ := recorded(t)
	p := proxytest.New(t, `
		tenant: OTelBaggage("tenant") -> status(201) -> <shunt>;
		other: * -> status(200) -> <shunt>;`,
		proxytest.Options{Tracer: tr, Baggage: tracing.HasBaggage})
	for _, c := range []struct {
		baggage string
		want    int
	}{
		{"tenant=acme", 201},
		{"user=x,tenant=acme;prop=1", 201},
		{"user=x", 200},
		{"", 200},
	} {
		var h []string
		if c.baggage != "" {
			h = []string{"Baggage", c.baggage}
		}
		if res, _ := p.Do(t, "GET", "host1", "/", h...); res.StatusCode != c.want {
			t.Errorf("baggage %q: got %d, want %d", c.baggage, res.StatusCode, c.want)
		}
	}
}

func TestWithoutPropagatorsTheClientsHeadersPass(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(t.Context())                                                 //nolint:errcheck // nothing to flush
	tr := tracing.NewWithProvider(tp, propagation.NewCompositeTextMapPropagator()) // OTEL_PROPAGATORS=none
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: * -> "http://%s/"`, backend.Addr()), proxytest.Options{Tracer: tr})
	client := "00-" + clientTraceID + "-" + clientSpanID + "-01"
	p.Do(t, "GET", "host1", "/", "Traceparent", client)
	s := byKind(t, ended(t, rec, 2), trace.SpanKindServer)[0]
	if s.Parent().IsValid() {
		t.Errorf("server span continues %v, want a trace of its own: nothing reads the client's", s.Parent())
	}
	if got := backend.Last(t).Header.Get("Traceparent"); got != client {
		t.Errorf("backend got traceparent %q, want the client's %q untouched", got, client)
	}
}

func TestTracingFiltersTagTheServerSpan(t *testing.T) {
	tr, rec := recorded(t)
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Answer", "a1")
		w.WriteHeader(503)
	})
	p := proxytest.New(t, fmt.Sprintf(`
		traced: * -> tracingTag("team", "${request.header.X-Team}") -> tracingTag("absent", "${request.header.X-None}")
			-> tracingSpanName("egress-call") -> tracingBaggageToTag("user.id", "user") -> tracingBaggageToTag("tenant")
			-> stateBagToTag("auth-user")
			-> tracingTagFromResponse("answered", "${response.header.X-Answer}")
			-> tracingTagFromResponseIfStatus("backend.failed", "yes", 500, 599)
			-> tracingTagFromResponseIfStatus("backend.ok", "yes", 200, 299)
			-> "http://%s"`, backend.Addr()), proxytest.Options{Tracer: tr})
	res, _ := p.Do(t, "GET", "host1", "/", "X-Team", "core", "Baggage", "user.id=u-1,other=x")
	if res.StatusCode != 503 {
		t.Fatalf("got %d, want the backend's 503", res.StatusCode)
	}
	spans := ended(t, rec, 2)
	s, c := byKind(t, spans, trace.SpanKindServer)[0], byKind(t, spans, trace.SpanKindClient)[0]
	wantAttr(t, s, "team", "core")
	wantAttr(t, s, "user", "u-1")
	wantAttr(t, s, "answered", "a1")
	wantAttr(t, s, "backend.failed", "yes")
	for _, absent := range []string{"absent", "tenant", "auth-user", "backend.ok"} {
		if v, ok := attr(s, absent); ok {
			t.Errorf("server span has %s = %s, want none", absent, v.String())
		}
	}
	if c.Name() != "egress-call" {
		t.Errorf("client span named %q, want tracingSpanName's egress-call", c.Name())
	}
}
