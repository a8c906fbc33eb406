package proxy_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/ratelimit"
	"github.com/skipper-egress/skipper/internal/fakeclock"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// bucketStep is one request of a leaky bucket test: the time to let pass before it, its
// X-Client header ("" for none), and the status and Retry-After it must get ("" for none).
type bucketStep struct {
	wait   time.Duration
	client string
	want   int
	retry  string
}

// TestClusterLeakyBucketRateLimit runs Skipper's documented leaky bucket configurations through
// the proxy on a fake clock: capacity equal to the increment allows no jitter, a larger
// capacity allows a burst, labels with placeholders make one bucket per client, and an increment
// above the capacity never fits.
func TestClusterLeakyBucketRateLimit(t *testing.T) {
	tests := []struct {
		name, filter string
		steps        []bucketStep
	}{
		{"no jitter", `clusterLeakyBucketRatelimit("1rps", 1, "1s", 1, 1)`, []bucketStep{
			{0, "", 200, ""}, {0, "", 429, "1"}, {999 * time.Millisecond, "", 429, "1"},
			{time.Millisecond, "", 200, ""}, {0, "", 429, "1"},
		}},
		{"burst of two", `clusterLeakyBucketRatelimit("1rps2", 1, "1s", 2, 1)`, []bucketStep{
			{0, "", 200, ""}, {0, "", 200, ""}, {0, "", 429, "1"},
			{500 * time.Millisecond, "", 429, "1"}, {500 * time.Millisecond, "", 200, ""},
			{0, "", 429, "1"},
		}},
		{"slow rate", `clusterLeakyBucketRatelimit("hourly", 60, "1h", 1, 1)`, []bucketStep{
			{0, "", 200, ""}, {0, "", 429, "60"}, {30 * time.Second, "", 429, "30"}, {30 * time.Second, "", 200, ""},
		}},
		{"per client", `clusterLeakyBucketRatelimit("c-${request.header.X-Client}", 1, "10s", 1, 1)`, []bucketStep{
			{0, "a", 200, ""}, {0, "b", 200, ""}, {0, "a", 429, "10"},
			{0, "", 200, ""}, {0, "", 200, ""}, // no label: no bucket, as in Skipper
		}},
		{"increment above capacity", `clusterLeakyBucketRatelimit("big", 1, "1s", 1, 2)`, []bucketStep{
			{0, "", 429, ""}, {time.Hour, "", 429, ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New(time.Unix(1_700_000_000, 0))
			reg := ratelimit.NewRegistry(ratelimit.Options{Now: clock.Now})
			backend := proxytest.NewBackend(t, nil)
			p := proxytest.New(t, fmt.Sprintf(`r: Host("api") -> %s -> "%s"`, tc.filter, backend.URL),
				proxytest.Options{RateLimits: reg})
			admitted := 0
			for i, s := range tc.steps {
				clock.Advance(s.wait)
				var hdr []string
				if s.client != "" {
					hdr = []string{"X-Client", s.client}
				}
				res, body := p.Do(t, "GET", "api", "/", hdr...)
				if res.StatusCode != s.want || res.Header.Get("Retry-After") != s.retry {
					t.Fatalf("request %d: got %d with Retry-After %q, want %d with %q",
						i+1, res.StatusCode, res.Header.Get("Retry-After"), s.want, s.retry)
				}
				if s.want == http.StatusOK {
					admitted++
				} else if body != "Too Many Requests\n" {
					t.Errorf("request %d: got body %q", i+1, body)
				}
			}
			if got := len(backend.Received()); got != admitted {
				t.Errorf("backend saw %d requests, want %d", got, admitted)
			}
		})
	}
}

// TestClusterLeakyBucketSharedThroughRedis runs three proxies sharing one redis-server: their
// buckets are one, routes pour their own increments into it, and Redis never sees the label.
func TestClusterLeakyBucketSharedThroughRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts redis-server")
	}
	addr := proxytest.StartRedis(t)
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`
		cheap: Host("api") && Path("/cheap") -> clusterLeakyBucketRatelimit("user-${request.header.X-User}", 1, "1h", 4, 1) -> "%[1]s";
		dear: Host("api") && Path("/dear") -> clusterLeakyBucketRatelimit("user-${request.header.X-User}", 1, "1h", 4, 2) -> "%[1]s";`,
		backend.URL)
	var proxies []*proxytest.Proxy
	for range 3 {
		reg := ratelimit.NewRegistry(ratelimit.Options{Redis: proxytest.RedisClient(t, addr)})
		proxies = append(proxies, proxytest.New(t, routes, proxytest.Options{RateLimits: reg}))
	}
	var got []string
	for i, path := range []string{"/dear", "/cheap", "/cheap", "/cheap", "/dear"} {
		res, _ := proxies[i%3].Do(t, "GET", "api", path, "X-User", "canary-user")
		got = append(got, fmt.Sprintf("%d/%s", res.StatusCode, res.Header.Get("Retry-After")))
	}
	// 2+1+1 units fill the bucket of 4; the fourth unit leaks after an hour.
	if want := "[200/ 200/ 200/ 429/3600 429/7200]"; fmt.Sprint(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
	if res, _ := proxies[0].Do(t, "GET", "api", "/cheap", "X-User", "other"); res.StatusCode != http.StatusOK {
		t.Errorf("another user's bucket: got %d, want 200", res.StatusCode)
	}
	keys, err := proxytest.RedisClient(t, addr).Keys(context.Background(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Errorf("redis holds keys %q, want two buckets", keys)
	}
	for _, k := range keys {
		if strings.Contains(k, "canary") {
			t.Errorf("redis key %q holds the label in clear", k)
		}
	}
}
