package filters_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestHistogramLatencyBadArgs(t *testing.T) {
	spec := filters.NewHistogramLatencySpecs()[0]
	testBadArgs(t, spec, []argsCase{
		{"none", nil, "histogramRequestLatency: want an odd number of arguments, at least 3 (duration, weight, duration[, weight, duration...]), got 0"},
		{"even", []any{"0ms", 1.0, "1ms", 2.0}, ""},
		{"one", []any{"0ms"}, ""},
		{"same bound", []any{"0ms", 1.0, "0ms"}, "histogramRequestLatency: argument 3 (bound) must be above the one before and not negative, got 0s"},
		{"falling bound", []any{"0ms", 1.0, "2ms", 1.0, "1ms"}, ""},
		{"negative bound", []any{"-1ms", 1.0, "1ms"}, ""},
		{"bad bound", []any{"0ms", 1.0, "soon"}, `histogramRequestLatency: argument 3 (bound): time: invalid duration "soon"`},
		{"number bound", []any{"0ms", 1.0, 1.0}, "histogramRequestLatency: argument 3 (bound) must be a duration string, got float64"},
		{"string weight", []any{"0ms", "1", "1ms"}, "histogramRequestLatency: argument 2 (weight) must be a number not below 0, got 1"},
		{"negative weight", []any{"0ms", -1.0, "1ms"}, ""},
		{"zero weights", []any{"0ms", 0.0, "1ms", 0.0, "2ms"}, "histogramRequestLatency: the weights must not all be 0"},
	})
}

// TestHistogramLatencyDelays draws many delays of Skipper's example: each falls in a bucket,
// never in the one of weight 0, and the buckets are drawn about as often as they weigh.
func TestHistogramLatencyDelays(t *testing.T) {
	f, err := filters.NewHistogramLatencySpecs()[0].Create([]any{"0ms", 50.0, "5ms", 0.0, "10ms", 30.0, "15ms", 20.0, "20ms"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	var counts [4]int
	for range n {
		d := filters.HistogramDelay(f)
		if d < 0 || d >= 20*time.Millisecond {
			t.Fatalf("delay %v outside [0, 20ms)", d)
		}
		counts[d/(5*time.Millisecond)]++
	}
	for i, want := range []float64{0.5, 0, 0.3, 0.2} {
		got := float64(counts[i]) / n
		if want == 0 && got != 0 || math.Abs(got-want) > 0.05 {
			t.Errorf("bucket %d drawn %.3f of the time, want %.2f", i, got, want)
		}
	}
}

// TestHistogramLatencyThroughProxy checks that each filter holds its request up at least as
// long as its lowest bound: a lower bound, which a timer cannot undercut.
func TestHistogramLatencyThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		req: Host("req.test") -> histogramRequestLatency("60ms", 1, "70ms") -> "http://%[1]s";
		res: Host("res.test") -> histogramResponseLatency("0ms", 0, "60ms", 2, "61ms") -> "http://%[1]s";`,
		backend.Addr()), proxytest.Options{})
	for _, host := range []string{"req.test", "res.test"} {
		start := time.Now()
		res, body := p.Do(t, "GET", host, "/")
		if d := time.Since(start); d < 60*time.Millisecond || res.StatusCode != 200 || body != "ok" {
			t.Errorf("%s: got %d %q after %v, want 200 ok after 60ms or more", host, res.StatusCode, body, d)
		}
	}
}
