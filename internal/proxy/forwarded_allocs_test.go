//go:build !race

// The race detector changes allocation counts, so this guard runs only without it.

package proxy

import (
	"context"
	"crypto/tls"
	"net/http/httptest"
	"testing"

	"github.com/skipper-egress/skipper/routing"
)

// TestPrepareAllocs guards the request path: without -normalize-host and -forwarded-headers,
// readying a request for matching allocates nothing, whether or not ConnContext left a TLS state.
func TestPrepareAllocs(t *testing.T) {
	p := New(Options{Router: routing.NewRouter()})
	plain := httptest.NewRequest("GET", "http://a.test/x", nil)
	state := &tls.ConnectionState{}
	overTLS := plain.WithContext(context.WithValue(context.Background(), tlsStateKey{}, state))
	for _, tc := range []struct {
		name string
		r    func() // runs prepare once
	}{
		{"plain", func() { p.prepare(plain) }},
		{"over TLS", func() { overTLS.TLS = nil; p.prepare(overTLS) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.r); got != 0 {
				t.Errorf("got %v allocations, want 0", got)
			}
		})
	}
	if plain.TLS != nil || overTLS.TLS != state {
		t.Errorf("got TLS %p and %p, want nil and the state ConnContext kept (%p)", plain.TLS, overTLS.TLS, state)
	}
}
