//go:build !race

// The race detector changes allocation counts, so this guard runs only without it.

package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters/filtertest"
)

// TestOAuth2CachedTokenAllocs guards the cached-token request path: only the one-element
// []string that http.Header holds the shared header value in.
func TestOAuth2CachedTokenAllocs(t *testing.T) {
	f := cachedTokenFilter(t)
	r := filtertest.Request(t, "GET", "http://host1/", "Authorization", "Bearer evil")
	got := testing.AllocsPerRun(100, func() {
		if err := f.Request(r); err != nil {
			t.Fatal(err)
		}
	})
	if got != 1 {
		t.Errorf("got %v allocations per request, want 1", got)
	}
}
