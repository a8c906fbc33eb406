package filters_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestCorsOriginBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewCorsOrigin(), []argsCase{
		{"number", []any{"https://a.test", 1.0}, "corsOrigin: argument 2 (origin) must be a string, got float64"},
		{"control character", []any{"https://a.test\n"}, "corsOrigin: argument 1 (origin) contains control character 0x0a"},
	})
}

func TestCorsOriginThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		any: Host("any.test") -> corsOrigin() -> "http://%[1]s";
		some: Host("some.test") -> corsOrigin("https://a.test", "https://b.test") -> "http://%[1]s";
		shunt: Host("shunt.test") -> corsOrigin("https://a.test") -> status(204) -> <shunt>;`, backend.Addr()),
		proxytest.Options{})
	for _, tc := range []struct {
		host, origin string
		want         []string
	}{
		{"any.test", "", []string{"*"}},
		{"any.test", "https://z.test", []string{"*"}},
		{"some.test", "https://b.test", []string{"https://b.test"}},
		{"some.test", "https://z.test", nil},
		{"some.test", "", nil},
		{"shunt.test", "https://a.test", []string{"https://a.test"}},
	} {
		var h []string
		if tc.origin != "" {
			h = []string{"Origin", tc.origin}
		}
		res, _ := p.Do(t, "GET", tc.host, "/", h...)
		if got := res.Header["Access-Control-Allow-Origin"]; !slices.Equal(got, tc.want) {
			t.Errorf("%s with Origin %q: got %q, want %q", tc.host, tc.origin, got, tc.want)
		}
	}
}
