package filters_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestThrottleBadArgs(t *testing.T) {
	specs := map[string]filters.Spec{}
	for _, s := range filters.NewThrottleSpecs() {
		specs[s.Name()] = s
	}
	testBadArgs(t, specs[filters.BandwidthName], []argsCase{
		{"zero", []any{0.0}, "bandwidth: argument 1 (kilobytes per second) must be a positive number, got 0"},
	})
	testBadArgs(t, specs[filters.BackendChunksName], []argsCase{
		{"one", []any{10.0}, "backendChunks: want 2 arguments (size, delay), got 1"},
		{"size", []any{0.0, 10.0}, "backendChunks: argument 1 (size) must be a positive number of bytes, got 0"},
	})
}

// TestThrottleThroughProxy checks that the bodies arrive whole, and no sooner than their
// chunks' waits allow: a lower bound, which timers cannot undercut, not a measure of speed.
func TestThrottleThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	text := strings.Repeat("0123456789", 150) // 1500 bytes
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, text)
	})
	p := proxytest.New(t, fmt.Sprintf(`
		chunks: Host("chunks.test") -> chunks(500, "30ms") -> "http://%[1]s";
		bw: Host("bw.test") -> bandwidth(20) -> "http://%[1]s";
		up: Host("up.test") -> backendChunks(500, 30) -> "http://%[1]s";
		upbw: Host("upbw.test") -> backendBandwidth(20) -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	for _, host := range []string{"chunks.test", "bw.test", "up.test", "upbw.test"} {
		req, err := http.NewRequest("POST", p.URL+"/", strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		start := time.Now()
		res, err := p.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		// chunks: 3 waits of 30ms; bandwidth 20 KB/s: 3 chunks of 512 bytes, 25ms each.
		if d := time.Since(start); d < 75*time.Millisecond {
			t.Errorf("%s: answered after %v, want 75ms or more", host, d)
		}
		if string(body) != text || string(backend.Last(t).Body) != text {
			t.Errorf("%s: a body did not arrive whole", host)
		}
	}
}
