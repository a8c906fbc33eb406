package proxy_test

import (
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestRedirectToRequestParts checks, through the real handler, the redirects that take their
// host from the request as Skipper's do: a scheme-only location, what Skipper's Kubernetes
// HTTPS redirect writes, and redirectTo without a location, a redirect to https.
func TestRedirectToRequestParts(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := `
		schemeOnly: PathSubtree("/s") -> redirectTo(308, "https:") -> <shunt>;
		noLocation: PathSubtree("/n") -> redirectTo(301) -> <shunt>;
		schemePath: PathSubtree("/p") -> redirectTo(302, "http:/elsewhere") -> "` + backend.URL + `";
	`
	p := proxytest.New(t, routes, proxytest.Options{})
	tests := []struct {
		path, wantLocation string
		wantStatus         int
	}{
		{"/s/x?q=1", "https://a.test/s/x?q=1", 308},
		{"/n/a%2Fb?q=1&r=2", "https://a.test/n/a%2Fb?q=1&r=2", 301},
		{"/p/x?q=1", "http://a.test/elsewhere?q=1", 302},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res, _ := doNoRedirect(t, p, tc.path)
			if res.StatusCode != tc.wantStatus {
				t.Errorf("got status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			if got := res.Header.Get("Location"); got != tc.wantLocation {
				t.Errorf("got Location %q, want %q", got, tc.wantLocation)
			}
		})
	}
	if n := len(backend.Received()); n != 0 {
		t.Errorf("backend got %d requests, want none", n)
	}
}

// TestEmptyBackend checks that a route written `-> ""` loads and answers 500, as Skipper's,
// after its filters ran: a redirect on it still answers.
func TestEmptyBackend(t *testing.T) {
	p := proxytest.New(t, `
		empty: Path("/empty") -> setRequestHeader("X-A", "1") -> "";
		redirect: Path("/redirect") -> redirectTo(302, "https:") -> "";
	`, proxytest.Options{})
	if res, _ := doNoRedirect(t, p, "/empty"); res.StatusCode != 500 {
		t.Errorf("got status %d, want 500", res.StatusCode)
	}
	res, _ := doNoRedirect(t, p, "/redirect")
	if res.StatusCode != 302 || res.Header.Get("Location") != "https://a.test/redirect" {
		t.Errorf("got %d %q, want 302 to https://a.test/redirect", res.StatusCode, res.Header.Get("Location"))
	}
}
