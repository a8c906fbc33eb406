package proxy_test

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/ratelimit"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/routing"
)

// step is one request of a rate limit test: the X-Client header it carries ("" for none) and
// the status it must get.
type step struct {
	client string
	want   int
}

func TestRateLimitFilters(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		steps  []step
	}{
		{"route-wide", `ratelimit(2, "1m")`, []step{
			{"a", 200}, {"b", 200}, {"c", 429}, {"", 429},
		}},
		{"per client by header", `clientRatelimit(2, "1m", "X-Client")`, []step{
			{"a", 200}, {"a", 200}, {"b", 200}, {"a", 429}, {"b", 200}, {"b", 429},
			{"", 200}, {"", 200}, {"", 200}, // no identity: not limited, as in Skipper
		}},
		{"per client address", `clientRatelimit(1, "1m")`, []step{
			{"a", 200}, {"b", 429},
		}},
		{"localRatelimit is clientRatelimit", `localRatelimit(2, "1m", "X-Client")`, []step{
			{"a", 200}, {"a", 200}, {"b", 200}, {"a", 429}, {"", 200},
		}},
		{"cluster without redis counts per instance", `clusterRatelimit("api", 1, "1m")`, []step{
			{"", 200}, {"", 429},
		}},
		{"cluster per client", `clusterClientRatelimit("api", 1, "1m", "X-Client")`, []step{
			{"a", 200}, {"b", 200}, {"a", 429},
		}},
		{"zero refuses all", `ratelimit(0, "10s")`, []step{
			{"", 429},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			backend := proxytest.NewBackend(t, nil)
			p := proxytest.New(t, fmt.Sprintf(`r: Host("api") -> %s -> "%s"`, tc.filter, backend.URL), proxytest.Options{})
			admitted := 0
			for i, s := range tc.steps {
				var hdr []string
				if s.client != "" {
					hdr = []string{"X-Client", s.client}
				}
				res, body := p.Do(t, "GET", "api", "/", hdr...)
				if res.StatusCode != s.want {
					t.Fatalf("request %d (client %q): got status %d, want %d", i+1, s.client, res.StatusCode, s.want)
				}
				if s.want == http.StatusOK {
					admitted++
					continue
				}
				if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra <= 0 {
					t.Errorf("request %d: got Retry-After %q, want a positive number of seconds", i+1, res.Header.Get("Retry-After"))
				}
				if body != "Too Many Requests\n" {
					t.Errorf("request %d: got body %q, want %q", i+1, body, "Too Many Requests\n")
				}
			}
			if got := len(backend.Received()); got != admitted {
				t.Errorf("backend saw %d requests, want %d", got, admitted)
			}
		})
	}
}

// flakyBackend answers 500 until healthy is set, then 200.
func flakyBackend(t *testing.T, healthy *atomic.Bool) *proxytest.Backend {
	return proxytest.NewBackend(t, func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	})
}

func TestConsecutiveBreakerOpensAndRecovers(t *testing.T) {
	var healthy atomic.Bool
	backend := flakyBackend(t, &healthy)
	p := proxytest.New(t, fmt.Sprintf(`r: Host("api") -> consecutiveBreaker(3, "200ms") -> "%s"`, backend.URL), proxytest.Options{})

	for i := range 3 {
		if res, _ := p.Do(t, "GET", "api", "/"); res.StatusCode != http.StatusInternalServerError {
			t.Fatalf("request %d: got status %d, want 500 from the backend", i+1, res.StatusCode)
		}
	}
	res, body := p.Do(t, "GET", "api", "/")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("X-Circuit-Open") != "true" || body != "Service Unavailable\n" {
		t.Fatalf("open breaker: got %d, X-Circuit-Open %q, body %q; want 503, \"true\", %q",
			res.StatusCode, res.Header.Get("X-Circuit-Open"), body, "Service Unavailable\n")
	}
	if got := len(backend.Received()); got != 3 {
		t.Fatalf("backend saw %d requests, want 3: an open breaker must not call it", got)
	}

	healthy.Store(true)
	poll.Until(t, 5*time.Second, "a probe after the breaker's timeout", func() bool {
		res, _ := p.Do(t, "GET", "api", "/")
		if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("while waiting for the probe: got status %d, want 200 or 503", res.StatusCode)
		}
		return res.StatusCode == http.StatusOK
	})
	if got := len(backend.Received()); got != 4 {
		t.Errorf("backend saw %d requests, want 4: three failures and one probe", got)
	}
	for i := range 3 {
		if res, _ := p.Do(t, "GET", "api", "/"); res.StatusCode != http.StatusOK {
			t.Fatalf("after recovery, request %d: got status %d, want 200 (breaker closed)", i+1, res.StatusCode)
		}
	}
}

func TestNoBreakerWithoutBreakerFilter(t *testing.T) {
	tests := []struct{ name, filter string }{
		{"no breaker filter", `comment("none")`},
		{"disableBreaker", `disableBreaker()`},
		{"rateBreaker not yet tripped", `rateBreaker(10, 20)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var healthy atomic.Bool
			backend := flakyBackend(t, &healthy)
			p := proxytest.New(t, fmt.Sprintf(`r: Host("api") -> %s -> "%s"`, tc.filter, backend.URL), proxytest.Options{})
			for i := range 6 {
				if res, _ := p.Do(t, "GET", "api", "/"); res.StatusCode != http.StatusInternalServerError {
					t.Fatalf("request %d: got status %d, want 500 from the backend", i+1, res.StatusCode)
				}
			}
			if got := len(backend.Received()); got != 6 {
				t.Errorf("backend saw %d requests, want 6", got)
			}
		})
	}
}

func TestRateBreakerOpens(t *testing.T) {
	var healthy atomic.Bool
	backend := flakyBackend(t, &healthy)
	p := proxytest.New(t, fmt.Sprintf(`r: Host("api") -> rateBreaker(2, 4, "1m") -> "%s"`, backend.URL), proxytest.Options{})
	want := []int{500, 500, 503, 503}
	for i, w := range want {
		if res, _ := p.Do(t, "GET", "api", "/"); res.StatusCode != w {
			t.Fatalf("request %d: got status %d, want %d", i+1, res.StatusCode, w)
		}
	}
	if got := len(backend.Received()); got != 2 {
		t.Errorf("backend saw %d requests, want 2", got)
	}
}

// TestClusterRateLimitSharedThroughRedis runs three proxies sharing one redis-server: together
// they admit no more than the group's limit. The period is a minute rather than a second, so
// that a slow test machine cannot let a window pass mid-test and make the count ambiguous.
func TestClusterRateLimitSharedThroughRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	addr := proxytest.StartRedis(t)
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`r: Host("api") -> clusterRatelimit("api", 5, "1m") -> "%s"`, backend.URL)
	var proxies []*proxytest.Proxy
	for range 3 {
		reg := ratelimit.NewRegistry(ratelimit.Options{Redis: proxytest.RedisClient(t, addr)})
		proxies = append(proxies, proxytest.New(t, routes, proxytest.Options{RateLimits: reg}))
	}
	admitted := 0
	for i := range 15 {
		res, _ := proxies[i%3].Do(t, "GET", "api", "/")
		switch res.StatusCode {
		case http.StatusOK:
			admitted++
		case http.StatusTooManyRequests:
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("request %d: 429 without Retry-After", i+1)
			}
		default:
			t.Fatalf("request %d: got status %d, want 200 or 429", i+1, res.StatusCode)
		}
	}
	if admitted != 5 {
		t.Errorf("three proxies admitted %d requests together, want 5", admitted)
	}
	if got := len(backend.Received()); got != admitted {
		t.Errorf("backend saw %d requests, want %d", got, admitted)
	}
}

// TestBadLimitArgsDropTheRoute compiles a route file in which only the first route's limit
// and breaker arguments are right: the others are left out, each with its own error.
func TestBadLimitArgsDropTheRoute(t *testing.T) {
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{})...)
	if err != nil {
		t.Fatal(err)
	}
	src := `good: * -> ratelimit(2, "1m") -> clientRatelimit(1, 60, "X-Client") -> clusterRatelimit("g", 5, "1s")
		-> clusterClientRatelimit("g", 5, "1s") -> consecutiveBreaker(3) -> rateBreaker(5, 10) -> disableBreaker() -> <shunt>;
	r1: * -> ratelimit("2", "1m") -> <shunt>;
	r2: * -> clientRatelimit(1, "soon") -> <shunt>;
	r3: * -> clusterRatelimit(5, "1s") -> <shunt>;
	r4: * -> clusterClientRatelimit("g", 5, "1s", "bad header") -> <shunt>;
	r5: * -> consecutiveBreaker(0) -> <shunt>;
	r6: * -> rateBreaker(5, 2) -> <shunt>;
	r7: * -> disableBreaker(1) -> <shunt>;`
	defs, err := routing.Parse("limits.eskip", src)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
	if len(errs) != 7 {
		t.Errorf("got %d route errors, want 7: %v", len(errs), errs)
	}
	for _, err := range errs {
		if !errors.Is(err, filters.ErrInvalidArgs) {
			t.Errorf("got error %v, want one wrapping ErrInvalidArgs", err)
		}
	}
	if got := table.Len(); got != 1 {
		t.Errorf("got %d routes in the table, want 1 (good)", got)
	}
}
