package proxy_test

import (
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters/ratelimit"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// unreachableRedis returns a Redis address nothing listens on: a loopback port that was free
// a moment ago.
func unreachableRedis(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestRateLimitFailClosedRoute runs the cluster limits against an unreachable Redis with the
// registry failing open: a route with ratelimitFailClosed() (anywhere in the route) refuses
// each request without calling the backend, as Skipper does, while the routes without it admit
// them. disableRatelimit(), with or without arguments, loads and changes nothing.
func TestRateLimitFailClosedRoute(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`
		closed: Host("^closed$") -> clusterRatelimit("g", 100, "1m") -> ratelimitFailClosed() -> "%[1]s";
		closedClient: Host("^closedclient$") -> ratelimitFailClosed() -> clusterClientRatelimit("c", 100, "1m") -> "%[1]s";
		closedBucket: Host("^closedbucket$") -> ratelimitFailClosed() -> clusterLeakyBucketRatelimit("b", 1, "1s", 10, 1) -> "%[1]s";
		closedBackend: Host("^closedbackend$") -> ratelimitFailClosed() -> backendRatelimit("be", 100, "1m", 503) -> "%[1]s";
		open: Host("^open$") -> clusterRatelimit("g", 100, "1m") -> "%[1]s";
		openBackend: Host("^openbackend$") -> backendRatelimit("be", 100, "1m", 503) -> "%[1]s";
		disabled: Host("^disabled$") -> disableRatelimit() -> disableRatelimit("ignored", 1) -> "%[1]s";`,
		backend.URL)
	reg := ratelimit.NewRegistry(ratelimit.Options{Redis: proxytest.RedisClient(t, unreachableRedis(t))})
	p := proxytest.New(t, routes, proxytest.Options{RateLimits: reg})
	for _, c := range []struct {
		host       string
		status     int
		retryAfter string
	}{
		{"closed", http.StatusTooManyRequests, "1"},
		{"closedclient", http.StatusTooManyRequests, "1"},
		{"closedbucket", http.StatusTooManyRequests, "1"},
		{"closedbackend", http.StatusServiceUnavailable, ""},
		{"open", http.StatusOK, ""},
		{"openbackend", http.StatusOK, ""},
		{"disabled", http.StatusOK, ""},
	} {
		before := len(backend.Received())
		res, _ := p.Do(t, "GET", c.host, "/")
		if res.StatusCode != c.status {
			t.Errorf("%s: got status %d, want %d", c.host, res.StatusCode, c.status)
		}
		if got := res.Header.Get("Retry-After"); got != c.retryAfter {
			t.Errorf("%s: got Retry-After %q, want %q", c.host, got, c.retryAfter)
		}
		called := len(backend.Received()) > before
		if want := c.status == http.StatusOK; called != want {
			t.Errorf("%s: backend called: %v, want %v", c.host, called, want)
		}
	}
}
