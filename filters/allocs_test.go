//go:build !race

// The race detector changes allocation counts, so this guard runs only without it.

package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/secrets"
)

// TestCredentialAllocs guards the request path: the value string and the one-element []string
// that http.Header holds it in, nothing else.
func TestCredentialAllocs(t *testing.T) {
	src := staticSource{secrets.Secret(token)}
	tests := []struct {
		name string
		spec filters.Spec
		args []any
		want float64
	}{
		{"bearerinjector", filters.NewBearerInjector(src), []any{"/s/tok"}, 2},
		{"setRequestHeaderFromSecret", filters.NewSetRequestHeaderFromSecret(src), []any{"X-Key", "/s/tok", "a", "b"}, 2},
		{"basicAuthFromSecret", filters.NewBasicAuthFromSecret(src), []any{"/s/u", "/s/p"}, 2},
		{"setRequestHeader", filters.NewSetRequestHeader(), []any{"X-A", "b"}, 1},
		{"dropRequestHeader", filters.NewDropRequestHeader(), []any{"Authorization"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, tc.spec, tc.args...)
			r := filtertest.Request(t, "GET", "http://host1/", "Authorization", "Bearer evil")
			got := testing.AllocsPerRun(100, func() {
				if err := f.Request(r); err != nil {
					t.Fatal(err)
				}
			})
			if got != tc.want {
				t.Errorf("got %v allocations per request, want %v", got, tc.want)
			}
		})
	}
}
