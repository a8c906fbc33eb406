package filters_test

import (
	"fmt"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestBackendRateLimitBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewBackendRateLimit(nil), []argsCase{
		{"two", []any{"g", 1.0}, "backendRatelimit: want arguments (group, n, period[, status]), got 2"},
		{"empty group", []any{"", 1.0, "1s"}, "backendRatelimit: argument 1 (group) must be a non-empty string"},
		{"status", []any{"g", 1.0, "1s", 700.0}, "backendRatelimit: argument 4 (status code) must be a whole number from 100 to 599, got 700"},
		{"period", []any{"g", 1.0, "soon"}, ""},
	})
}

// TestBackendRateLimitThroughProxy checks that the limit counts per backend endpoint, for
// every route of the group together, and that a refused request never reaches the backend.
func TestBackendRateLimitThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	a, b := proxytest.NewBackend(t, nil), proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		lb: Host("lb.test") -> backendRatelimit("api", 2, "1h") -> <roundRobin, "http://%[1]s", "http://%[2]s">;
		one: Host("one.test") -> backendRatelimit("api", 2, "1h") -> "http://%[1]s";
		other: Host("other.test") -> backendRatelimit("other", 1, "1h", 429) -> "http://%[2]s";`, a.Addr(), b.Addr()),
		proxytest.Options{})
	var got []int
	for range 4 { // two to each endpoint
		res, _ := p.Do(t, "GET", "lb.test", "/")
		got = append(got, res.StatusCode)
	}
	res, body := p.Do(t, "GET", "one.test", "/") // a is used up by lb's requests
	got = append(got, res.StatusCode)
	res2, _ := p.Do(t, "GET", "other.test", "/") // another group: b has room
	res3, _ := p.Do(t, "GET", "other.test", "/")
	got = append(got, res2.StatusCode, res3.StatusCode)
	if want := "[200 200 200 200 503 200 429]"; fmt.Sprint(got) != want {
		t.Errorf("got statuses %v, want %s", got, want)
	}
	if body != "Service Unavailable\n" {
		t.Errorf("got body %q for the refused request", body)
	}
	if na, nb := len(a.Received()), len(b.Received()); na != 2 || nb != 3 {
		t.Errorf("backends got %d and %d requests, want 2 and 3", na, nb)
	}
}
