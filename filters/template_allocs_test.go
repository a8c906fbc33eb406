//go:build !race

// The race detector changes allocation counts, so this guard runs only without it.

package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

// params is a PathParams of fixed values.
type params map[string]string

func (p params) Get(name string) string { return p[name] }

// TestTemplateAllocs guards the placeholder path: the header's []string, plus the expanded
// string when the value has more than one piece.
func TestTemplateAllocs(t *testing.T) {
	tests := []struct {
		name string
		spec filters.Spec
		args []any
		want float64
	}{
		{"lone placeholder", filters.NewSetRequestHeader(), []any{"X-A", "${request.header.X-Src}"}, 1},
		{"placeholder in text", filters.NewSetRequestHeader(), []any{"X-A", "t-${request.header.X-Src}-${request.method}"}, 2},
		{"unresolved", filters.NewSetRequestHeader(), []any{"X-A", "${request.header.X-None}"}, 0},
		{"copyRequestHeader", filters.NewCopyRequestHeader(), []any{"X-Src", "X-Dst"}, 1},
		{"comment", filters.NewComment(), []any{"text"}, 0},
		{"path parameter", filters.NewSetRequestHeader(), []any{"X-A", "${id}"}, 1},
		{"path parameter in text", filters.NewSetPath(), []any{"/v2/${id}"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, tc.spec, tc.args...)
			r := filtertest.Request(t, "GET", "http://host1/path", "X-Src", "core")
			r = r.WithContext(filters.NewExchange(r.Context(), r, params{"id": "7"}))
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
