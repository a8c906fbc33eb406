package proxy_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestConsistentHashBalanceFactor checks consistent hashing with bounded loads through the
// proxy: a key's requests stay on its endpoint while that endpoint is within the balance factor
// of the average load, spill over to the next endpoint once it is not, and come back when its
// load drops. Without the filter they stay whatever the load.
func TestConsistentHashBalanceFactor(t *testing.T) {
	for _, tc := range []struct {
		name, filter string
		spill        bool
	}{
		{"bounded", `consistentHashBalanceFactor(1.25) -> `, true},
		{"unbounded", ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			hold := func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/hold" {
					<-release
				}
				w.Write([]byte("ok"))
			}
			a, b := proxytest.NewBackend(t, hold), proxytest.NewBackend(t, hold)
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			t.Cleanup(free) // before the backends close, which waits for their handlers
			p := proxytest.New(t, fmt.Sprintf(`r: Host("lb") -> consistentHashKey("${request.header.X-Key}") -> %s<consistentHash, "http://%s", "http://%s">`,
				tc.filter, a.Addr(), b.Addr()), proxytest.Options{})
			backends := []*proxytest.Backend{a, b}
			// where returns the backend that received a request for /x with X-Key k.
			where := func(k string) int {
				t.Helper()
				before := []int{len(a.Received()), len(b.Received())}
				if res, body := p.Do(t, "GET", "lb", "/x", "X-Key", k); res.StatusCode != http.StatusOK {
					t.Fatalf("got %d %q, want 200", res.StatusCode, body)
				}
				for i, be := range backends {
					if len(be.Received()) > before[i] {
						return i
					}
				}
				t.Fatal("no backend received the request")
				return -1
			}
			home := where("k")
			var wg sync.WaitGroup
			t.Cleanup(wg.Wait)
			for range 2 { // two requests in flight at home: 2 > (2+1)/2 * 1.25
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest("GET", p.URL+"/hold", nil)
					req.Host = "lb"
					req.Header.Set("X-Key", "k")
					if res, err := p.Client().Do(req); err == nil {
						res.Body.Close()
					}
				}()
			}
			poll.Until(t, 5*time.Second, "two held requests at the key's endpoint", func() bool {
				n := 0
				for _, r := range backends[home].Received() {
					if r.RequestURI == "/hold" {
						n++
					}
				}
				return n == 2
			})
			want := home
			if tc.spill {
				want = 1 - home
			}
			if got := where("k"); got != want {
				t.Errorf("with two requests in flight at endpoint %d, the key went to %d, want %d", home, got, want)
			}
			free()
			wg.Wait()
			// The proxy counts a request out once its handler returns, just after the client has
			// the whole answer.
			poll.Until(t, 5*time.Second, "the key back at its own endpoint once the load is gone", func() bool {
				return where("k") == home
			})
		})
	}
}
