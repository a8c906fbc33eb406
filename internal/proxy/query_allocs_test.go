//go:build !race

// The race detector changes allocation counts, so this guard runs only without it.

package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/skipper-egress/skipper/routing"
)

// TestQueryCheckAllocs guards the request path: telling that a request's query is one
// url.ParseQuery accepts allocates nothing, where ParseQuery itself builds a map.
func TestQueryCheckAllocs(t *testing.T) {
	for _, q := range []string{"a=1", "a=1&b=%20x+y&c&=&d=%C3%A9", "x=" + string(make([]byte, 1000))} {
		if err := queryError(q); err != nil {
			t.Fatalf("queryError(%.40q): %v", q, err)
		}
		if got := testing.AllocsPerRun(100, func() { _ = queryError(q) }); got != 0 {
			t.Errorf("%.40q: got %v allocations, want 0", q, got)
		}
	}
}

// TestQueryCheckDoesNotAllocate checks the whole request path: a request with a valid query
// costs no more allocations than the same request without it.
func TestQueryCheckDoesNotAllocate(t *testing.T) {
	p := New(Options{Router: routing.NewRouter()}) // no route: every request is answered 404
	allocs := func(target string) float64 {
		r := httptest.NewRequest("GET", target, nil)
		return testing.AllocsPerRun(100, func() {
			w := httptest.NewRecorder()
			p.ServeHTTP(w, r)
			if w.Code != http.StatusNotFound {
				t.Fatalf("%s: got %d, want 404", target, w.Code)
			}
		})
	}
	without, with := allocs("/x"), allocs("/x?a=1&b=%20x+y&c")
	if with != without {
		t.Errorf("got %v allocations with a query, %v without, want as many", with, without)
	}
}
