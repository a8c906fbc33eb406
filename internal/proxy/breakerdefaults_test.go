package proxy_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestDefaultBreakers checks the precedence of the breakers a route gets: its own breaker filter,
// else its backend host's default (-breaker host=...), else the global default (-breaker), and
// disableBreaker over both defaults. The backend always fails.
func TestDefaultBreakers(t *testing.T) {
	consecutive := func(failures int) circuit.Settings {
		return circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: failures, Timeout: time.Hour}
	}
	tests := []struct {
		name        string
		global      circuit.Settings
		host        circuit.Settings // the backend's own default; type None for none
		filter      string           // "" for none
		wantOpenAt  int              // failures the backend sees before the breaker opens; 0: never opens
		requests    int
		wantBackend int
	}{
		{name: "no defaults, no filter", requests: 6, wantBackend: 6},
		{name: "global default", global: consecutive(3), wantOpenAt: 3, requests: 6, wantBackend: 3},
		{name: "host default over global", global: consecutive(5), host: consecutive(1), wantOpenAt: 1, requests: 6, wantBackend: 1},
		{name: "host default without global", host: consecutive(2), wantOpenAt: 2, requests: 6, wantBackend: 2},
		{name: "host disabled over global", global: consecutive(1), host: circuit.Settings{Type: circuit.Disabled}, requests: 6, wantBackend: 6},
		{name: "route filter over host and global", global: consecutive(1), host: consecutive(1), filter: `consecutiveBreaker(4, "1h")`,
			wantOpenAt: 4, requests: 6, wantBackend: 4},
		{name: "disableBreaker over host and global", global: consecutive(1), host: consecutive(1), filter: `disableBreaker()`,
			requests: 6, wantBackend: 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			backend := proxytest.NewBackend(t, func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "broken", http.StatusInternalServerError)
			})
			opts := circuit.Options{Defaults: tc.global}
			if tc.host.Type != circuit.None {
				opts.HostDefaults = map[string]circuit.Settings{
					backend.Addr(): tc.host,
					"other.test":   consecutive(1), // another host's default changes nothing here
				}
			}
			filter := ""
			if tc.filter != "" {
				filter = tc.filter + " -> "
			}
			p := proxytest.New(t, fmt.Sprintf(`r: Host("api") -> %s"%s"`, filter, backend.URL),
				proxytest.Options{Breakers: circuit.NewRegistry(opts)})

			for i := range tc.requests {
				res, _ := p.Do(t, "GET", "api", "/")
				want, wantHeader := http.StatusInternalServerError, ""
				if tc.wantOpenAt > 0 && i >= tc.wantOpenAt {
					want, wantHeader = http.StatusServiceUnavailable, "true"
				}
				if res.StatusCode != want || res.Header.Get("X-Circuit-Open") != wantHeader {
					t.Fatalf("request %d: got %d with X-Circuit-Open %q, want %d with %q",
						i+1, res.StatusCode, res.Header.Get("X-Circuit-Open"), want, wantHeader)
				}
			}
			if got := len(backend.Received()); got != tc.wantBackend {
				t.Errorf("backend saw %d requests, want %d: an open breaker must not call it", got, tc.wantBackend)
			}
		})
	}
}
