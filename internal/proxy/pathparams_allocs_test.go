//go:build !race

// The race detector changes allocation counts, so this guard runs only without it.

package proxy

import (
	"net/http/httptest"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

// TestPathParamsAllocs guards the request path: a route whose filters use no path-parameter
// placeholder costs no allocation for its parameters, one that does costs the parameters and
// their interface value.
func TestPathParamsAllocs(t *testing.T) {
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{})...)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, route string
		want        float64
	}{
		{"no placeholder", `r: Path("/users/:id") -> setRequestHeader("X-A", "${request.path}") -> <shunt>`, 0},
		{"placeholder", `r: Path("/users/:id") -> setRequestHeader("X-A", "${id}") -> <shunt>`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defs, err := routing.Parse("t", tc.route)
			if err != nil {
				t.Fatal(err)
			}
			table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			r := httptest.NewRequest("GET", "http://a.test/users/42", nil)
			route := table.Match(r)
			if got := pathParams(route, r); (got != nil) != (tc.want > 0) {
				t.Fatalf("got params %v, want some: %v", got, tc.want > 0)
			}
			if got := testing.AllocsPerRun(100, func() { pathParams(route, r) }); got != tc.want {
				t.Errorf("got %v allocations, want %v", got, tc.want)
			}
		})
	}
}
