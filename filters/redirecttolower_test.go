package filters_test

import (
	"net/http/httptest"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestRedirectToLowerBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewRedirectToLower(), []argsCase{
		{"not 3xx", []any{200.0}, "redirectToLower: argument 1 (status code) must be a whole number from 300 to 399, got 200"},
	})
}

func TestRedirectToLowerThroughProxy(t *testing.T) {
	p := proxytest.New(t, `
		keep: Host("keep.test") -> redirectToLower(301, "https://new.test") -> <shunt>;
		set: Host("set.test") -> redirectToLower(308, "/New/Place") -> <shunt>;`, proxytest.Options{})
	for _, tc := range []struct{ host, path, want string }{
		{"keep.test", "/Some/Path%2FX?Q=A", "https://new.test/some/path%2fx?Q=A"},
		{"set.test", "/x", "/new/place"},
	} {
		rec := httptest.NewRecorder() // not a client: it would follow the redirect
		p.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "http://"+tc.host+tc.path, nil))
		if got := rec.Header().Get("Location"); got != tc.want {
			t.Errorf("%s%s: got Location %q, want %q", tc.host, tc.path, got, tc.want)
		}
	}
}
