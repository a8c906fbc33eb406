package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestServeMetricsThroughBinary runs skipper with Skipper's -serve-* switches and custom
// histogram buckets, and reads Skipper's serve series from /metrics.
func TestServeMetricsThroughBinary(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=api: Host("^api[.]example[.]org$") -> "http://%s"`, backend.Addr()),
		"-metrics-flavour=prometheus", "-enable-prometheus-metrics",
		"-histogram-metric-buckets=0.5, 0.05,2",
		"-serve-route-metrics", "-serve-host-metrics", "-serve-route-counter", "-serve-host-counter",
		"-serve-method-metric=false")
	for range 2 {
		p.get(t, "api.example.org", "/")
	}
	req, _ := http.NewRequest("PATCH", "http://"+p.addr+"/", nil)
	req.Host = "nowhere"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()

	_, text := p.supportGet(t, "/metrics")
	for series, want := range map[string]float64{
		`skipper_serve_route_duration_seconds_count{code="200",route="api"}`:                2,
		`skipper_serve_route_duration_seconds_bucket{code="200",route="api",le="0.05"}`:     2,
		`skipper_serve_host_duration_seconds_count{code="200",host="api_example_org"}`:      2,
		`skipper_serve_route_count{code="200",method="GET",route="api"}`:                    2,
		`skipper_serve_host_count{code="200",host="api_example_org",method="GET"}`:          2,
		`skipper_serve_route_count{code="404",method="_unknownmethod_",route="(no route)"}`: 1,
		`skipper_serve_host_count{code="404",host="nowhere",method="_unknownmethod_"}`:      1,
		`skipper_request_duration_seconds_bucket{route="api",le="2"}`:                       2,
		`skipper_request_duration_seconds_bucket{route="api",le="+Inf"}`:                    2,
	} {
		if got := metricValue(text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if strings.Contains(text, `le="0.001"`) {
		t.Errorf("the default buckets are still there with -histogram-metric-buckets")
	}

	plain := start(t, `-inline-routes=* -> <shunt>`)
	plain.get(t, "x", "/")
	if _, text := plain.supportGet(t, "/metrics"); strings.Contains(text, "skipper_serve_") {
		t.Errorf("serve series without the switches:\n%s", text)
	}
}

// TestMetricsFlagErrors checks the metric flags skipper cannot follow.
func TestMetricsFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-metrics-flavour=codahale"}, "-metrics-flavour: codahale is not supported by this egress proxy, whose metrics are Prometheus' only; use -metrics-flavour=prometheus"},
		{[]string{"-metrics-flavour=codahale,prometheus"}, "-metrics-flavour: codahale is not supported"},
		{[]string{"-metrics-flavour=statsd"}, `-metrics-flavour: unknown flavour "statsd"`},
		{[]string{"-histogram-metric-buckets=0.1,fast"}, `-histogram-metric-buckets: "fast" is not a positive number`},
		{[]string{"-histogram-metric-buckets=0.1,0.1"}, "names a bound twice"},
	} {
		_, stderr, code := runBinary(t, t.TempDir(), tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}
