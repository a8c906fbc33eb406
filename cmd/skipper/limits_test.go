package main

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/circuit"
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
	if _, _, err := parseFlags([]string{"-swarm-redis-urls=redis://:pw-secret@r.test:6379"}); err == nil ||
		strings.Contains(err.Error(), "pw-secret") || !strings.Contains(err.Error(), "entry 1") {
		t.Errorf("a Redis URL with a password: got error %v, want one naming the entry, not its text", err)
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

func TestBreakerFlags(t *testing.T) {
	consecutive5 := circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5}
	tests := []struct {
		name       string
		args       []string
		wantGlobal circuit.Settings
		wantHosts  map[string]circuit.Settings
		wantErr    string
	}{
		{name: "none", args: nil},
		{name: "global, all keys", args: []string{"-breaker=type=consecutive,failures=5,timeout=10s,half-open-requests=2,idle-ttl=1h"},
			wantGlobal: circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5, Timeout: 10 * time.Second, HalfOpenRequests: 2, IdleTTL: time.Hour}},
		{name: "type defaults to consecutive", args: []string{"-breaker", "failures=5"}, wantGlobal: consecutive5},
		{name: "durations in milliseconds", args: []string{"--breaker=failures=1,timeout=1500,idle-ttl=60000"},
			wantGlobal: circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1, Timeout: 1500 * time.Millisecond, IdleTTL: time.Minute}},
		{name: "rate", args: []string{"-breaker=type=rate,failures=30,window=300"},
			wantGlobal: circuit.Settings{Type: circuit.FailureRate, Failures: 30, Window: 300}},
		{name: "disabled", args: []string{"-breaker=type=disabled"}, wantGlobal: circuit.Settings{Type: circuit.Disabled}},
		{name: "host inherits the global type and counts", args: []string{
			"-breaker=type=rate,failures=30,window=300,timeout=3m", "-breaker=host=a.test,timeout=1m",
		}, wantGlobal: circuit.Settings{Type: circuit.FailureRate, Failures: 30, Window: 300, Timeout: 3 * time.Minute},
			wantHosts: map[string]circuit.Settings{"a.test": {Type: circuit.FailureRate, Failures: 30, Window: 300, Timeout: time.Minute}}},
		{name: "host of another type inherits only the shared settings", args: []string{
			"-breaker=type=rate,failures=30,window=300,half-open-requests=3", "-breaker=host=a.test:8080,type=consecutive,failures=2",
		}, wantGlobal: circuit.Settings{Type: circuit.FailureRate, Failures: 30, Window: 300, HalfOpenRequests: 3},
			wantHosts: map[string]circuit.Settings{"a.test:8080": {Type: circuit.ConsecutiveFailures, Failures: 2, HalfOpenRequests: 3}}},
		{name: "only for some hosts", args: []string{
			"-breaker=type=disabled", "-breaker=host=a.test,failures=5", "-breaker=host=b.test,type=disabled",
		}, wantGlobal: circuit.Settings{Type: circuit.Disabled},
			wantHosts: map[string]circuit.Settings{"a.test": consecutive5, "b.test": {Type: circuit.Disabled}}},
		{name: "no global", args: []string{"-breaker=host=a.test,failures=5"},
			wantHosts: map[string]circuit.Settings{"a.test": consecutive5}},

		{name: "unknown key", args: []string{"-breaker=failures=5,idleTTL=1h"}, wantErr: `unknown key "idleTTL"`},
		{name: "unknown type", args: []string{"-breaker=type=always"}, wantErr: `unknown type "always" (want consecutive, rate or disabled)`},
		{name: "no value", args: []string{"-breaker=failures"}, wantErr: `"failures" is not key=value`},
		{name: "empty", args: []string{"-breaker="}, wantErr: `"" is not key=value`},
		{name: "key twice", args: []string{"-breaker=failures=1,failures=2"}, wantErr: "failures is given twice"},
		{name: "failures not a number", args: []string{"-breaker=failures=five"}, wantErr: `failures "five" is not a whole number from 1 to 16777216`},
		{name: "zero failures", args: []string{"-breaker=failures=0"}, wantErr: `failures "0" is not a whole number`},
		{name: "huge window", args: []string{"-breaker=type=rate,failures=1,window=99999999"}, wantErr: `window "99999999" is not a whole number`},
		{name: "bad timeout", args: []string{"-breaker=failures=1,timeout=soon"}, wantErr: `timeout "soon" is not a duration such as "30s" or a number of milliseconds`},
		{name: "negative idle-ttl", args: []string{"-breaker=failures=1,idle-ttl=-1m"}, wantErr: `idle-ttl "-1m" is not positive`},
		{name: "host is a URL", args: []string{"-breaker=host=https://a.test,failures=1"}, wantErr: `host "https://a.test" is not a host name`},
		{name: "disabled with settings", args: []string{"-breaker=type=disabled,failures=3"}, wantErr: "type=disabled takes no setting but host"},
		{name: "no failures", args: []string{"-breaker=type=consecutive,timeout=1s"}, wantErr: `-breaker "type=consecutive,timeout=1s": type=consecutive needs failures=N`},
		{name: "rate without window", args: []string{"-breaker=type=rate,failures=3"}, wantErr: "type=rate needs window=N"},
		{name: "window smaller than failures", args: []string{"-breaker=type=rate,failures=3,window=2"}, wantErr: "window 2 is smaller than failures 3"},
		{name: "window on a consecutive breaker", args: []string{"-breaker=failures=3,window=10"}, wantErr: "window applies to type=rate only"},
		{name: "host without failures", args: []string{"-breaker=type=disabled", "-breaker=host=a.test,timeout=1s"},
			wantErr: `-breaker "host=a.test,timeout=1s": type=consecutive needs failures=N`},
		{name: "two globals", args: []string{"-breaker=failures=1", "-breaker=failures=2"},
			wantErr: `-breaker "failures=1" and -breaker "failures=2" both lack host=`},
		{name: "host twice", args: []string{"-breaker=host=a.test,failures=1", "-breaker=host=a.test,failures=2"},
			wantErr: `-breaker: host "a.test" is given twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := parseFlags(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			global, hosts, errs := cfg.breakerDefaults()
			if len(errs) > 0 {
				t.Fatalf("breakerDefaults: got errors %v", errs)
			}
			if global != tc.wantGlobal {
				t.Errorf("global: got %+v, want %+v", global, tc.wantGlobal)
			}
			if !maps.Equal(hosts, tc.wantHosts) {
				t.Errorf("hosts: got %+v, want %+v", hosts, tc.wantHosts)
			}
		})
	}
}

// TestDefaultBreakerThroughBinary runs a -breaker flag end to end: a route without a breaker
// filter gets the flag's breaker.
func TestDefaultBreakerThroughBinary(t *testing.T) {
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	})
	p := start(t, fmt.Sprintf(`-inline-routes=r: * -> "%s"`, backend.URL), "-breaker", "type=consecutive,failures=2,timeout=1m")
	for i, want := range []int{500, 500, 503, 503} {
		res, _ := p.get(t, "api", "/")
		if res.StatusCode != want {
			t.Fatalf("request %d: got status %d, want %d", i+1, res.StatusCode, want)
		}
		if want == http.StatusServiceUnavailable && res.Header.Get("X-Circuit-Open") != "true" {
			t.Errorf("request %d: got X-Circuit-Open %q, want \"true\"", i+1, res.Header.Get("X-Circuit-Open"))
		}
	}
	if got := len(backend.Received()); got != 2 {
		t.Errorf("backend saw %d requests, want 2", got)
	}
}
