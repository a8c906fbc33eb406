package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/skipper-egress/skipper/internal/poll"
)

// spanSink is an OTLP/HTTP collector on loopback that keeps the spans it is sent.
type spanSink struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newSpanSink(t *testing.T) *spanSink {
	s := &spanSink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var msg coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &msg); err != nil || r.URL.Path != "/v1/traces" {
			t.Errorf("collector got %s, not an export to /v1/traces (%v)", r.URL.Path, err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, rs := range msg.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				s.spans = append(s.spans, ss.GetSpans()...)
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *spanSink) got() []*tracepb.Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*tracepb.Span(nil), s.spans...)
}

func TestOpenTelemetryTracesRequestsToTheBackend(t *testing.T) {
	sink := newSpanSink(t)
	var mu sync.Mutex
	var traceparent string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparent = r.Header.Get("Traceparent")
		mu.Unlock()
	}))
	defer backend.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", sink.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50") // milliseconds: export while the test waits

	// In a config file, as Skipper's: the options are a mapping.
	config := filepath.Join(t.TempDir(), "config.yaml")
	writeFile(t, config, "open-telemetry:\n  propagators: [tracecontext, baggage]\n")
	p := start(t, "-config-file="+config, fmt.Sprintf(`-inline-routes=api: * -> "%s"`, backend.URL))
	client := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if res, _ := p.get(t, "host1", "/", "Traceparent", client); res.StatusCode != http.StatusOK {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
	poll.Until(t, 10*time.Second, "two exported spans", func() bool { return len(sink.got()) >= 2 })

	byName := map[string]*tracepb.Span{}
	for _, s := range sink.got() {
		byName[s.GetName()] = s
	}
	server, proxied := byName["ingress"], byName["proxy"]
	if server == nil || proxied == nil {
		t.Fatalf("exported %v, want ingress and proxy spans", sink.got())
	}
	if fmt.Sprintf("%x", server.GetTraceId()) != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		fmt.Sprintf("%x", server.GetParentSpanId()) != "00f067aa0ba902b7" {
		t.Errorf("server span %x/%x does not continue the client's trace", server.GetTraceId(), server.GetParentSpanId())
	}
	for _, s := range []*tracepb.Span{server, proxied} {
		if !strings.Contains(s.String(), `string_value:"api"`) {
			t.Errorf("span %s lacks the route id: %v", s.GetName(), s)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := fmt.Sprintf("00-%x-%x-01", proxied.GetTraceId(), proxied.GetSpanId())
	if traceparent != want {
		t.Errorf("backend got traceparent %q, want the client span's %q", traceparent, want)
	}
}

func TestWithoutOpenTelemetryTraceHeadersPassUnchanged(t *testing.T) {
	var got http.Header
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer backend.Close()
	p := start(t, fmt.Sprintf(`-inline-routes=* -> "%s"`, backend.URL))
	client := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	p.get(t, "host1", "/", "Traceparent", client, "Baggage", "a=b")
	if got.Get("Traceparent") != client || got.Get("Baggage") != "a=b" {
		t.Errorf("backend got traceparent %q, baggage %q: want the client's, untouched", got.Get("Traceparent"), got.Get("Baggage"))
	}
}

func TestOpenTelemetryFlagErrors(t *testing.T) {
	for _, c := range []struct{ arg, want string }{
		{"-open-telemetry={exporterOtlp: {protocol: grpc}}", "-open-telemetry: OTLP protocol grpc is not supported by this egress proxy"},
		{"-open-telemetry={tracesExporter: otlp}", "-open-telemetry: tracesExporter otlp needs exporterOtlp.endpoint"},
		{"-open-telemetry=[", "-open-telemetry: not a YAML document"},
	} {
		var stdout, stderr strings.Builder
		if code := run([]string{c.arg}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%s: exit %d, %q; want %d and %q", c.arg, code, stderr.String(), exitUsage, c.want)
		}
	}
}
