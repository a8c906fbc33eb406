package main

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestLimitFlags(t *testing.T) {
	cfg, _, err := parseFlags([]string{
		"-swarm-redis-urls=127.0.0.1:6379,127.0.0.2:6379", "-cluster-ratelimit-fail-closed",
		"-enable-ratelimits", "-enable-breakers=true",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.1:6379", "127.0.0.2:6379"}; !slices.Equal(cfg.SwarmRedisURLs, want) {
		t.Errorf("-swarm-redis-urls: got %q, want %q", cfg.SwarmRedisURLs, want)
	}
	if !cfg.ClusterRatelimitFailClosed || !cfg.EnableRatelimits || !cfg.EnableBreakers {
		t.Errorf("got fail-closed %v, enable-ratelimits %v, enable-breakers %v; want all true",
			cfg.ClusterRatelimitFailClosed, cfg.EnableRatelimits, cfg.EnableBreakers)
	}
	def, _, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if def.ClusterRatelimitFailClosed || len(def.SwarmRedisURLs) != 0 {
		t.Errorf("got defaults fail-closed %v, redis %q; want fail-open and no redis, as Skipper",
			def.ClusterRatelimitFailClosed, def.SwarmRedisURLs)
	}
	if _, _, err := parseFlags([]string{"-swarm-redis-urls=redis"}); err == nil ||
		!strings.Contains(err.Error(), `-swarm-redis-urls: "redis" is not a host:port address`) {
		t.Errorf("bad redis address: got error %v, want one naming the address", err)
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestClusterRatelimitThroughRedis runs the binary against a redis-server of the test's own, and
// against an address where no Redis answers, fail-open and fail-closed.
func TestClusterRatelimitThroughRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	redisAddr := proxytest.StartRedis(t)
	tests := []struct {
		name       string
		redis      string
		failClosed bool
		want       []int
		wantErrors string // the redis error counter afterwards
	}{
		{"shared limit", redisAddr, false, []int{200, 200, 429}, "skipper_ratelimit_redis_errors_total 0"},
		{"redis down, fail open", "", false, []int{200, 200, 200}, "skipper_ratelimit_redis_errors_total 3"},
		{"redis down, fail closed", "", true, []int{429, 429, 429}, "skipper_ratelimit_redis_errors_total 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.redis == "" {
				tc.redis = closedPort(t)
			}
			backend := proxytest.NewBackend(t, nil)
			p := start(t, fmt.Sprintf(`-inline-routes=r: * -> clusterRatelimit("g", 2, "1m") -> "%s"`, backend.URL),
				"-swarm-redis-urls="+tc.redis, fmt.Sprintf("-cluster-ratelimit-fail-closed=%v", tc.failClosed),
				"-enable-ratelimits")
			for i, want := range tc.want {
				res, _ := p.get(t, "api", "/")
				if res.StatusCode != want {
					t.Fatalf("request %d: got status %d, want %d", i+1, res.StatusCode, want)
				}
				if want == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
					t.Errorf("request %d: 429 without Retry-After", i+1)
				}
			}
			if _, metrics := p.supportGet(t, "/metrics"); !strings.Contains(metrics, tc.wantErrors+"\n") {
				t.Errorf("/metrics does not hold %q", tc.wantErrors)
			}
		})
	}
}

func TestBreakerThroughBinary(t *testing.T) {
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	})
	p := start(t, fmt.Sprintf(`-inline-routes=r: * -> consecutiveBreaker(2, "1m") -> "%s"`, backend.URL), "-enable-breakers")
	for i, want := range []int{500, 500, 503, 503} {
		if res, _ := p.get(t, "api", "/"); res.StatusCode != want {
			t.Fatalf("request %d: got status %d, want %d", i+1, res.StatusCode, want)
		}
	}
	if got := len(backend.Received()); got != 2 {
		t.Errorf("backend saw %d requests, want 2", got)
	}
	if log := p.Log(); !strings.Contains(log, "circuit breaker opened") {
		t.Errorf("no log line about the breaker opening:\n%s", log)
	}
}
