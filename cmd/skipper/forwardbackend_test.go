package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestForwardBackend checks the <forward> backend as Skipper's: with -forward-backend-url, the
// route's requests go there, path and query as sent, without the route's filters (an unknown
// one included); without the flag the route loads and its requests get 500.
func TestForwardBackend(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := `-inline-routes=fwd: Path("/fwd") -> setRequestHeader("X-Filtered", "yes") -> noSuchFilter() -> <forward>; ` +
		`other: * -> setRequestHeader("X-Filtered", "yes") -> "http://` + backend.Addr() + `"`

	p := start(t, routes, "-forward-backend-url=http://"+backend.Addr()+"/ignored/path")
	res, body := p.get(t, "a.test", "/fwd?q=1")
	if res.StatusCode != 200 || body != "ok" {
		t.Fatalf("<forward> with the flag: got %d %q, want 200 \"ok\"\n%s", res.StatusCode, body, p.Log())
	}
	got := backend.Last(t)
	if got.RequestURI != "/fwd?q=1" || got.Header.Get("X-Filtered") != "" {
		t.Errorf("backend got %s with X-Filtered %q, want /fwd?q=1 without the route's filters", got.RequestURI, got.Header.Get("X-Filtered"))
	}
	if _, body := p.get(t, "a.test", "/other"); body != "ok" || backend.Last(t).Header.Get("X-Filtered") != "yes" {
		t.Errorf("the other route lost its filter")
	}
	if log := p.Log(); !strings.Contains(log, "-forward-backend-url: path") || !strings.Contains(log, "/ignored/path") {
		t.Errorf("no warning about the ignored path:\n%s", p.Log())
	}

	q := start(t, routes)
	if res, _ := q.get(t, "a.test", "/fwd"); res.StatusCode != 500 {
		t.Errorf("<forward> without the flag: got %d, want 500", res.StatusCode)
	}
	if !strings.Contains(q.Log(), "-forward-backend-url is not set") {
		t.Errorf("no warning about the missing flag:\n%s", q.Log())
	}
}

func TestForwardBackendURLInvalid(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"127.0.0.1:9000", `-forward-backend-url: invalid backend "127.0.0.1:9000": no scheme; did you mean "http://127.0.0.1:9000"?`},
		{"ftp://a", `-forward-backend-url: invalid backend "ftp://a": scheme must be http, https or h2c`},
	} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"-inline-routes=* -> <forward>", "-forward-backend-url=" + tc.url}, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.url, code, stderr.String(), exitUsage, tc.want)
		}
	}
}
