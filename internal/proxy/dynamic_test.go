package proxy_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/routing"
)

// TestDynamicBackendFilters sends requests through <dynamic> routes whose destination the
// setDynamicBackend filters choose, and checks where they arrive, the Host the backend sees,
// and which destinations went through the SSRF guard.
func TestDynamicBackendFilters(t *testing.T) {
	// Each request needs a connection of its own, so that the guard's dial count shows
	// which transport carried it.
	closing := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "ok")
	}
	backend := proxytest.NewBackend(t, closing)
	other := proxytest.NewBackend(t, closing)
	b, o := backend.Addr(), other.Addr()
	routes := fmt.Sprintf(`
		url: Path("/url") -> setDynamicBackendUrl("http://%[1]s/ignored?x=1") -> <dynamic>;
		urlWins: Path("/url-wins") -> setDynamicBackendHost(%[2]q) -> setDynamicBackendUrl("http://%[1]s") -> <dynamic>;
		host: Path("/host") -> setDynamicBackendScheme("http") -> setDynamicBackendHost(%[1]q) -> <dynamic>;
		hostThenHeader: Path("/host-then-header") -> setDynamicBackendHost(%[1]q) -> setRequestHeader("Host", "api.test") -> <dynamic>;
		fromHeader: Path("/from-header") -> setDynamicBackendHostFromHeader("X-Dest") -> <dynamic>;
		urlFromHeader: Path("/url-from-header") -> setDynamicBackendUrlFromHeader("X-Dest") -> <dynamic>;
		schemeFromHeader: Path("/scheme-from-header") -> setDynamicBackendSchemeFromHeader("X-Scheme") -> <dynamic>;
		none: Path("/none") -> <dynamic>;
		network: Path("/network") -> setDynamicBackendHost("named.test") -> "http://%[1]s";
	`, b, o)
	guard := proxytest.NewGuard(t, testResolver(), "127.0.0.1/32")
	p := proxytest.New(t, routes, proxytest.Options{Forward: proxy.ForwardOptions{Guard: guard.Guard}})

	tests := []struct {
		name, path, host string
		header           []string
		wantStatus       int
		wantAt           *proxytest.Backend // nil: no backend
		wantHost         string
		wantGuarded      bool // dialed through the SSRF guard
	}{
		{name: "literal url", path: "/url", host: "client.test", wantStatus: 200, wantAt: backend, wantHost: b},
		{name: "url wins over host", path: "/url-wins", host: "client.test", wantStatus: 200, wantAt: backend, wantHost: b},
		{name: "literal host and scheme", path: "/host", host: "client.test", wantStatus: 200, wantAt: backend, wantHost: b},
		{name: "a later filter sets the Host", path: "/host-then-header", host: "client.test", wantStatus: 200,
			wantAt: backend, wantHost: "api.test"},
		{name: "host from header", path: "/from-header", host: "client.test", header: []string{"X-Dest", o},
			wantStatus: 200, wantAt: other, wantHost: o, wantGuarded: true},
		{name: "url from header", path: "/url-from-header", host: "client.test", header: []string{"X-Dest", "http://" + o + "/x"},
			wantStatus: 200, wantAt: other, wantHost: o, wantGuarded: true},
		{name: "missing header falls back to the Host", path: "/from-header", host: o, wantStatus: 200,
			wantAt: other, wantHost: o, wantGuarded: true},
		{name: "unparsable url header falls back to the Host", path: "/url-from-header", host: o,
			header: []string{"X-Dest", "not a url"}, wantStatus: 200, wantAt: other, wantHost: o, wantGuarded: true},
		{name: "scheme from header", path: "/scheme-from-header", host: o, header: []string{"X-Scheme", "http"},
			wantStatus: 200, wantAt: other, wantHost: o, wantGuarded: true},
		{name: "no filter: the Host", path: "/none", host: b, wantStatus: 200, wantAt: backend, wantHost: b, wantGuarded: true},
		{name: "bad host from header", path: "/from-header", host: "client.test", header: []string{"X-Dest", "a.test/x"},
			wantStatus: 400},
		{name: "bad scheme from header", path: "/scheme-from-header", host: o, header: []string{"X-Scheme", "ftp"},
			wantStatus: 400},
		{name: "internal address from header refused", path: "/from-header", host: "client.test",
			header: []string{"X-Dest", "internal.test:80"}, wantStatus: 403},
		{name: "network route keeps its backend", path: "/network", host: "client.test", wantStatus: 200,
			wantAt: backend, wantHost: "named.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := [2]int{len(backend.Received()), len(other.Received())}
			dials := guard.Dials()
			res, body := p.Do(t, "GET", tc.host, tc.path, tc.header...)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("got %d %q, want %d", res.StatusCode, body, tc.wantStatus)
			}
			after := [2]int{len(backend.Received()), len(other.Received())}
			want := before
			switch tc.wantAt {
			case backend:
				want[0]++
			case other:
				want[1]++
			}
			if after != want {
				t.Fatalf("backends received %v requests in all, want %v", after, want)
			}
			if tc.wantAt != nil {
				if got := tc.wantAt.Last(t); got.Host != tc.wantHost || got.RequestURI != tc.path {
					t.Errorf("backend got Host %q URI %q, want %q %q", got.Host, got.RequestURI, tc.wantHost, tc.path)
				}
			}
			if guarded := guard.Dials() > dials; tc.wantAt != nil && guarded != tc.wantGuarded {
				t.Errorf("got dialed through the guard %v, want %v", guarded, tc.wantGuarded)
			}
		})
	}
}

// TestBadRouteArgsDropTheRoute compiles routes with bad arguments for the dynamic backend,
// client timeout filters: only the good route is left, and each bad one has its error.
func TestBadRouteArgsDropTheRoute(t *testing.T) {
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{})...)
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{
		`setDynamicBackendUrl("a.test")`,
		`setDynamicBackendUrl("ftp://a.test")`,
		`setDynamicBackendUrl("http://user@a.test")`,
		`setDynamicBackendUrl("http://a.test", "x")`,
		`setDynamicBackendUrl(1)`,
		`setDynamicBackendHost("")`,
		`setDynamicBackendHost("a.test/x")`,
		`setDynamicBackendHost("a.test:port")`,
		`setDynamicBackendScheme("ftp")`,
		`setDynamicBackendScheme()`,
		`setDynamicBackendUrlFromHeader("bad header")`,
		`setDynamicBackendHostFromHeader()`,
		`setDynamicBackendSchemeFromHeader(3)`,
		`readTimeout("soon")`,
		`readTimeout("0s")`,
		`readTimeout(10)`,
		`writeTimeout("-1s")`,
		`writeTimeout()`,
	}
	var src strings.Builder
	src.WriteString(`good: * -> setDynamicBackendUrl("https://a.test:8443") -> setDynamicBackendHost("[::1]:80")
		-> setDynamicBackendScheme("HTTPS") -> setDynamicBackendUrlFromHeader("X-U") -> setDynamicBackendHostFromHeader("X-H")
		-> setDynamicBackendSchemeFromHeader("X-S") -> readTimeout("1s") -> writeTimeout("1m") -> <dynamic>;`)
	for i, f := range bad {
		fmt.Fprintf(&src, "\nr%d: * -> %s -> <dynamic>;", i, f)
	}
	defs, err := routing.Parse("bad.eskip", src.String())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
	if len(errs) != len(bad) {
		t.Errorf("got %d route errors, want %d: %v", len(errs), len(bad), errs)
	}
	for _, err := range errs {
		if !errors.Is(err, filters.ErrInvalidArgs) {
			t.Errorf("got error %v, want one wrapping ErrInvalidArgs", err)
		}
	}
	if got := table.Len(); got != 1 {
		t.Errorf("got %d routes in the table, want 1 (good)", got)
	}
}

// TestPathParamPlaceholders checks ${name} placeholders for the route's path parameters in
// request and response filters, through <loopback> routes, and unresolved ones.
func TestPathParamPlaceholders(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`
		user: Path("/users/:id") -> setRequestHeader("X-User", "${id}") -> setRequestHeader("X-None", "${nope}")
			-> setResponseHeader("X-Echo", "u-${id}") -> %[1]q;
		files: Path("/files/*rest") -> setPath("/v2${rest}") -> setQuery("f", "${rest}") -> %[1]q;
		sub: PathSubtree("/api") -> setRequestHeader("X-Rest", "${*}") -> %[1]q;
		loop: Path("/old/:tenant/:id") -> setPath("/new/${id}") -> <loopback>;
		looped: Path("/new/:id") -> setRequestHeader("X-Tenant", "${tenant}") -> setRequestHeader("X-Id", "${id}") -> %[1]q;
	`, backend.URL)
	p := proxytest.New(t, routes, proxytest.Options{})
	tests := []struct {
		path, wantURI string
		wantSent      map[string]string // "" means absent
		wantEcho      string
	}{
		{"/users/42", "/users/42", map[string]string{"X-User": "42", "X-None": ""}, "u-42"},
		{"/files/a/b", "/v2/a/b?f=%2Fa%2Fb", nil, ""},
		{"/api/v1/x", "/api/v1/x", map[string]string{"X-Rest": "/v1/x"}, ""},
		{"/old/acme/7", "/new/7", map[string]string{"X-Tenant": "acme", "X-Id": "7"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res, body := p.Do(t, "GET", "any.test", tc.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("got %d %q, want 200", res.StatusCode, body)
			}
			got := backend.Last(t)
			if got.RequestURI != tc.wantURI {
				t.Errorf("backend got URI %q, want %q", got.RequestURI, tc.wantURI)
			}
			for name, want := range tc.wantSent {
				if v, ok := got.Header[name]; (want == "" && ok) || (want != "" && (len(v) != 1 || v[0] != want)) {
					t.Errorf("backend got %s %q, want %q", name, v, want)
				}
			}
			if v := res.Header.Get("X-Echo"); v != tc.wantEcho {
				t.Errorf("client got X-Echo %q, want %q", v, tc.wantEcho)
			}
		})
	}
}
