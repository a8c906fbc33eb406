package proxy_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/fakeclock"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestPhysicsShedder runs Skipper's physicsShedder through the proxy on a fake clock. After 60
// ticks of steady 5 ms answers (no refusal: the baseline is primed and flat), 20 requests take
// 100 ms at once; on the next tick the resistance jumps far above mu + 3 sigma, and in mode
// active the shedder refuses most of the next 100 requests with 503 and Admission-Control:
// true, without calling the backend. In mode inactive it refuses none.
func TestPhysicsShedder(t *testing.T) {
	for _, mode := range []string{"active", "inactive"} {
		t.Run(mode, func(t *testing.T) {
			clock := fakeclock.New(time.Unix(1_700_000_000, 0))
			release := make(chan struct{})
			var once sync.Once
			backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/steady":
					clock.Advance(5 * time.Millisecond)
				case "/hold":
					<-release
				}
				w.Write([]byte("ok"))
			})
			t.Cleanup(func() { once.Do(func() { close(release) }) })
			p := proxytest.New(t, fmt.Sprintf(`r: Host("api") -> physicsShedder("t", %q, "50ms") -> "%s"`, mode, backend.URL),
				proxytest.Options{FilterClock: clock.Now})

			for i := range 60 { // one request per 100 ms tick
				clock.Advance(95 * time.Millisecond)
				if res, _ := p.Do(t, "GET", "api", "/steady"); res.StatusCode != http.StatusOK {
					t.Fatalf("steady request %d: got %d, want 200", i+1, res.StatusCode)
				}
			}
			var wg sync.WaitGroup
			for range 20 {
				wg.Go(func() {
					if res, _ := p.Do(t, "GET", "api", "/hold"); res.StatusCode != http.StatusOK {
						t.Errorf("held request: got %d, want 200", res.StatusCode)
					}
				})
			}
			poll.Until(t, 5*time.Second, "20 held requests at the backend", func() bool { return len(backend.Received()) == 80 })
			clock.Advance(100 * time.Millisecond)
			once.Do(func() { close(release) })
			wg.Wait()
			clock.Advance(time.Millisecond) // into the next tick: the slow answers are counted

			refused := 0
			for i := range 100 {
				res, body := p.Do(t, "GET", "api", "/fast")
				switch res.StatusCode {
				case http.StatusOK:
				case http.StatusServiceUnavailable:
					refused++
					if res.Header.Get("Admission-Control") != "true" || body != "Service Unavailable\n" {
						t.Errorf("request %d: refused with Admission-Control %q and body %q", i+1, res.Header.Get("Admission-Control"), body)
					}
				default:
					t.Fatalf("request %d: got %d", i+1, res.StatusCode)
				}
			}
			if got := len(backend.Received()); got != 80+100-refused {
				t.Errorf("backend got %d requests, want %d", got, 80+100-refused)
			}
			t.Logf("refused %d of 100", refused)
			// Active: p is about 0.59, so 59 refusals are expected; fewer than 20 has a
			// probability below 1e-15.
			if mode == "active" && refused < 20 {
				t.Errorf("refused %d of 100 requests after the latency jump, want most", refused)
			}
			if mode != "active" && refused != 0 {
				t.Errorf("mode %s refused %d requests, want none", mode, refused)
			}
		})
	}
}
