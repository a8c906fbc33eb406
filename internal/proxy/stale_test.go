package proxy_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestStaleBackendConnection: a backend that closes or half-closes its idle keep-alive
// connections gets every bodyless request answered, whatever the method, and its breaker counts
// no failure (issue 11, finding 4). With one failure to open it, a failure would turn the next
// request into a 503.
func TestStaleBackendConnection(t *testing.T) {
	backends := []struct {
		name  string
		start func(t *testing.T) *proxytest.ClosingBackend
	}{
		{"closed when idle", func(t *testing.T) *proxytest.ClosingBackend {
			return proxytest.NewIdleClosingBackend(t, 100*time.Millisecond)
		}},
		{"half-closed", func(t *testing.T) *proxytest.ClosingBackend { return proxytest.NewHalfClosingBackend(t) }},
	}
	methods := []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, "PROPPATCH"}
	for _, bc := range backends {
		for _, method := range methods {
			t.Run(bc.name+"/"+method, func(t *testing.T) {
				b := bc.start(t)
				p := proxytest.New(t, fmt.Sprintf(`r: * -> consecutiveBreaker(1, "1h") -> %q`, b.URL), proxytest.Options{})
				if res, _ := p.Do(t, http.MethodGet, "a.test", "/"); res.StatusCode != http.StatusOK {
					t.Fatalf("first GET: got %d, want 200", res.StatusCode)
				}
				select {
				case <-b.Closed():
				case <-time.After(10 * time.Second):
					t.Fatal("the backend did not close its connection within 10s")
				}
				if res, body := p.Do(t, method, "a.test", "/"); res.StatusCode != http.StatusOK {
					t.Errorf("%s on the stale connection: got %d %q, want 200", method, res.StatusCode, body)
				}
				if res, _ := p.Do(t, http.MethodGet, "a.test", "/"); res.StatusCode != http.StatusOK {
					t.Errorf("GET after the %s: got %d, want 200: the breaker counted a failure", method, res.StatusCode)
				}
				if n := b.Late(); n != 0 {
					t.Errorf("%d requests went out on a half-closed connection, want 0", n)
				}
			})
		}
	}
}
