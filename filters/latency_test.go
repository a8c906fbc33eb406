package filters_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestLatencyBadArgs(t *testing.T) {
	specs := map[string]filters.Spec{}
	for _, s := range filters.NewLatencySpecs() {
		specs[s.Name()] = s
	}
	testBadArgs(t, specs[filters.LatencyName], []argsCase{
		{"none", nil, "latency: want 1 argument (duration), got 0"},
		{"bad", []any{"soon"}, `latency: argument 1: time: invalid duration "soon"`},
		{"negative", []any{-5.0}, "latency: argument 1 must not be negative, got -5ms"},
	})
	testBadArgs(t, specs[filters.NormalResponseLatencyName], []argsCase{
		{"one", []any{"1s"}, "normalResponseLatency: want 2 arguments (mean, delta), got 1"},
		{"bool", []any{"1s", true}, "normalResponseLatency: argument 2 must be milliseconds or a duration string, got bool"},
	})
}

// TestLatencyThroughProxy checks that each delay holds its request up at least as long as it
// says: a lower bound, which a timer cannot undercut, not a measure of speed.
func TestLatencyThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		res: Host("res.test") -> latency(60) -> "http://%[1]s";
		req: Host("req.test") -> backendLatency("60ms") -> "http://%[1]s";
		uni: Host("uni.test") -> uniformRequestLatency("90ms", "30ms") -> "http://%[1]s";
		norm: Host("norm.test") -> normalResponseLatency("60ms", 0) -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	for _, host := range []string{"res.test", "req.test", "uni.test", "norm.test"} {
		start := time.Now()
		res, body := p.Do(t, "GET", host, "/")
		if d := time.Since(start); d < 60*time.Millisecond || res.StatusCode != 200 || body != "ok" {
			t.Errorf("%s: got %d %q after %v, want 200 ok after 60ms or more", host, res.StatusCode, body, d)
		}
	}
}
