package tracing_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/skipper-egress/skipper/internal/tracing"
)

// collector is an OTLP/HTTP collector on loopback that keeps every export request it gets,
// decoded as the collector's own ExportTraceServiceRequest.
type collector struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []exported
}

type exported struct {
	path, contentType, auth string
	msg                     *coltracepb.ExportTraceServiceRequest
}

func newCollector(t *testing.T) *collector {
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Errorf("collector: %v", err)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Errorf("collector: %v", err)
		}
		msg := &coltracepb.ExportTraceServiceRequest{}
		if err := proto.Unmarshal(b, msg); err != nil {
			t.Errorf("collector: not an ExportTraceServiceRequest: %v", err)
		}
		c.mu.Lock()
		c.reqs = append(c.reqs, exported{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), msg})
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *collector) received() []exported {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]exported(nil), c.reqs...)
}

// exportOne builds the pipeline from the environment, traces one request and shuts the
// pipeline down, which exports the span.
func exportOne(t *testing.T, flag string) {
	t.Helper()
	o, err := tracing.ParseOptions(flag)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	tr, shutdown, err := tracing.New(t.Context(), o, log)
	if err != nil {
		t.Fatal(err)
	}
	r := tr.StartServer(httptest.NewRequest("GET", "http://host1/x", nil))
	tr.Route(r.Context(), "myroute")
	tr.EndServer(r.Context(), 204)
	if err := shutdown(t.Context()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestOTLPExporterIsConfiguredByTheEnvironment(t *testing.T) {
	c := newCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", c.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20collector-key")
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	t.Setenv("OTEL_SERVICE_NAME", "egress-test")
	t.Setenv("OTEL_TRACES_SAMPLER", "always_on")
	exportOne(t, "{}")

	got := c.received()
	if len(got) != 1 {
		t.Fatalf("collector got %d requests, want 1", len(got))
	}
	e := got[0]
	if e.path != "/v1/traces" || e.contentType != "application/x-protobuf" || e.auth != "Bearer collector-key" {
		t.Errorf("got POST %s (%s, Authorization %q), want /v1/traces, application/x-protobuf, the header of OTEL_EXPORTER_OTLP_HEADERS",
			e.path, e.contentType, e.auth)
	}
	rs := e.msg.GetResourceSpans()
	if len(rs) != 1 || len(rs[0].GetScopeSpans()) != 1 || len(rs[0].GetScopeSpans()[0].GetSpans()) != 1 {
		t.Fatalf("got %v, want one span", e.msg)
	}
	service := ""
	for _, a := range rs[0].GetResource().GetAttributes() {
		if a.GetKey() == "service.name" {
			service = a.GetValue().GetStringValue()
		}
	}
	if service != "egress-test" {
		t.Errorf("service.name %q, want OTEL_SERVICE_NAME's egress-test", service)
	}
	span := rs[0].GetScopeSpans()[0].GetSpans()[0]
	if span.GetName() != "ingress" || !strings.Contains(span.String(), "myroute") {
		t.Errorf("got span %v, want ingress with the route id", span)
	}
}

func TestOTLPEndpointOfTheFlagWinsAndSamplerOffExportsNothing(t *testing.T) {
	c := newCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1") // refuses connections
	exportOne(t, "{tracesExporter: otlp, exporterOtlp: {endpoint: '"+c.URL+"'}}")
	if got := c.received(); len(got) != 1 || got[0].path != "/v1/traces" {
		t.Fatalf("collector got %v, want one export to /v1/traces", got)
	}

	t.Setenv("OTEL_TRACES_SAMPLER", "always_off")
	exportOne(t, "{tracesExporter: otlp, exporterOtlp: {endpoint: '"+c.URL+"'}}")
	if got := c.received(); len(got) != 1 {
		t.Fatalf("collector got %d requests, want none more with OTEL_TRACES_SAMPLER=always_off", len(got))
	}
}

func TestOptionsRefuseWhatSkipperCannotDo(t *testing.T) {
	for _, c := range []struct {
		flag, env, val, want string
	}{
		{"{exporterOtlp: {protocol: grpc}}", "", "", "grpc is not supported by this egress proxy"},
		{"{}", "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "grpc is not supported by this egress proxy"},
		{"{tracesExporter: otlp}", "", "", "needs exporterOtlp.endpoint"},
		{"{tracesExporter: zipkin}", "", "", `"zipkin": want otlp or none`},
		{"{propagators: [b3]}", "", "", "not supported by this egress proxy: b3"},
		{"{}", "OTEL_EXPORTER_OTLP_HEADERS", "secret-key-without-name", "OTEL_EXPORTER_OTLP_HEADERS: want name=value"},
		{"{}", "OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318", "want an http or https URL"},
		{"{}", "OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://user:secret-key@collector:4318", "want an http or https URL"},
		{"{}", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:secret-key@coll ector:4318", "want an http or https URL"},
		{"[1, 2]", "", "", "not a YAML document of OpenTelemetry options"},
	} {
		if c.env != "" {
			t.Setenv(c.env, c.val)
		}
		o, err := tracing.ParseOptions(c.flag)
		if err == nil {
			err = o.Check()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s=%s: got %v, want %q", c.flag, c.env, c.val, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-key") {
			t.Errorf("the error quotes a header: %v", err)
		}
		if c.env != "" {
			t.Setenv(c.env, "")
		}
	}
	for _, ok := range []string{"", "{}", "{tracesExporter: none}", "{propagators: [tracecontext, baggage], unknownKey: 1}",
		"{batchSpanProcessor: {scheduleDelay: 2s, maxQueueSize: 10}, resourceAttributes: {env: test}}"} {
		o, err := tracing.ParseOptions(ok)
		if err == nil {
			err = o.Check()
		}
		if err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
