package proxy_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// forwardedNames are the headers -forwarded-headers may set.
var forwardedNames = []string{
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Method", "X-Forwarded-Uri", "X-Forwarded-Port", "X-Forwarded-Proto",
}

// proxyPort returns the port the test proxy listens on.
func proxyPort(t *testing.T, p *proxytest.Proxy) string {
	t.Helper()
	_, port, err := net.SplitHostPort(p.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// TestForwardedHeaders sends a request through the proxy with each setting and checks the
// X-Forwarded-* headers the backend receives; a header not in want must be absent or, when the
// client sent it, unchanged.
func TestForwardedHeaders(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	others := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	const auto = "<port>" // stands for the proxy's port in want
	tests := []struct {
		name    string
		headers proxy.ForwardedHeaders
		method  string
		header  []string // sent by the client
		want    map[string]string
	}{
		{"none by default", proxy.ForwardedHeaders{}, "GET", nil, nil},
		{"none by default, client's own passes", proxy.ForwardedHeaders{}, "GET",
			[]string{"X-Forwarded-For", "10.0.0.1"}, map[string]string{"X-Forwarded-For": "10.0.0.1"}},
		{"for", proxy.ForwardedHeaders{For: true}, "GET", nil, map[string]string{"X-Forwarded-For": "127.0.0.1"}},
		{"for appends", proxy.ForwardedHeaders{For: true}, "GET",
			[]string{"X-Forwarded-For", "10.0.0.1"}, map[string]string{"X-Forwarded-For": "10.0.0.1, 127.0.0.1"}},
		{"for joins several lines", proxy.ForwardedHeaders{For: true}, "GET",
			[]string{"X-Forwarded-For", "10.0.0.1", "X-Forwarded-For", "10.0.0.2, 10.0.0.3"},
			map[string]string{"X-Forwarded-For": "10.0.0.1, 10.0.0.2, 10.0.0.3, 127.0.0.1"}},
		{"host", proxy.ForwardedHeaders{Host: true}, "GET", nil, map[string]string{"X-Forwarded-Host": "api.test:8080"}},
		{"host replaces the client's", proxy.ForwardedHeaders{Host: true}, "GET",
			[]string{"X-Forwarded-Host", "evil.test"}, map[string]string{"X-Forwarded-Host": "api.test:8080"}},
		{"method", proxy.ForwardedHeaders{Method: true}, "DELETE", nil, map[string]string{"X-Forwarded-Method": "DELETE"}},
		{"uri", proxy.ForwardedHeaders{URI: true}, "GET", nil, map[string]string{"X-Forwarded-Uri": "/a/b%2Fc?x=1&y"}},
		{"port", proxy.ForwardedHeaders{Port: "8443"}, "GET", nil, map[string]string{"X-Forwarded-Port": "8443"}},
		{"port auto", proxy.ForwardedHeaders{Port: proxy.ForwardedAuto}, "GET", nil, map[string]string{"X-Forwarded-Port": auto}},
		{"proto", proxy.ForwardedHeaders{Proto: "https"}, "GET", nil, map[string]string{"X-Forwarded-Proto": "https"}},
		{"proto auto over plain HTTP", proxy.ForwardedHeaders{Proto: proxy.ForwardedAuto}, "GET", nil,
			map[string]string{"X-Forwarded-Proto": "http"}},
		{"all", proxy.ForwardedHeaders{For: true, Host: true, Method: true, URI: true, Port: "80", Proto: "http"}, "POST", nil,
			map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": "api.test:8080", "X-Forwarded-Method": "POST",
				"X-Forwarded-Uri": "/a/b%2Fc?x=1&y", "X-Forwarded-Port": "80", "X-Forwarded-Proto": "http"}},
		{"client excluded", proxy.ForwardedHeaders{For: true, Host: true, Proto: "http", Exclude: loopback}, "GET",
			[]string{"X-Forwarded-For", "10.0.0.1"}, map[string]string{"X-Forwarded-For": "10.0.0.1"}},
		{"client not excluded", proxy.ForwardedHeaders{For: true, Exclude: others}, "GET", nil,
			map[string]string{"X-Forwarded-For": "127.0.0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			backend := proxytest.NewBackend(t, nil)
			p := proxytest.New(t, fmt.Sprintf(`* -> "%s"`, backend.URL), proxytest.Options{ForwardedHeaders: tc.headers})
			if res, _ := p.Do(t, tc.method, "api.test:8080", "/a/b%2Fc?x=1&y", tc.header...); res.StatusCode != http.StatusOK {
				t.Fatalf("got status %d, want 200", res.StatusCode)
			}
			got := backend.Last(t).Header
			for _, name := range forwardedNames {
				want, ok := tc.want[name]
				if want == auto {
					want = proxyPort(t, p)
				}
				if v, sent := got[name]; !ok && sent {
					t.Errorf("backend got %s %q, want none", name, v)
				} else if ok && strings.Join(v, "|") != want {
					t.Errorf("backend got %s %q, want %q", name, v, want)
				}
			}
		})
	}
}

// TestForwardedHeadersOverTLS checks the automatic port and proto over HTTPS, for HTTP/2 and for
// HTTP/1.1, whose TLS the proxy's listener terminates itself: both requests must be seen as TLS.
func TestForwardedHeadersOverTLS(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`* -> "%s"`, backend.URL), proxytest.Options{
		TLS:              true,
		ForwardedHeaders: proxy.ForwardedHeaders{Port: proxy.ForwardedAuto, Proto: proxy.ForwardedAuto},
	})
	h1conf := p.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	h1conf.NextProtos = []string{"http/1.1"}
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: h1conf}}
	defer h1.CloseIdleConnections()

	for _, tc := range []struct {
		name   string
		client *http.Client
		proto  string
	}{
		{"HTTP/2", p.Client(), "HTTP/2.0"},
		{"HTTP/1.1", h1, "HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 2 { // the second request reuses the connection
				res, err := tc.client.Get(p.URL + "/")
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.Proto != tc.proto || res.StatusCode != http.StatusOK {
					t.Fatalf("request %d: got %s %d, want %s 200", i+1, res.Proto, res.StatusCode, tc.proto)
				}
				h := backend.Last(t).Header
				if got := h.Get("X-Forwarded-Proto"); got != "https" {
					t.Errorf("request %d: backend got X-Forwarded-Proto %q, want https", i+1, got)
				}
				if got, want := h.Get("X-Forwarded-Port"), proxyPort(t, p); got != want {
					t.Errorf("request %d: backend got X-Forwarded-Port %q, want %q", i+1, got, want)
				}
			}
		})
	}
}

// TestForwardedHeadersBeforeMatching: predicates and placeholders see the headers the proxy set.
func TestForwardedHeadersBeforeMatching(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`
		seen: Header("X-Forwarded-Method", "PUT") -> setRequestHeader("X-Client", "${request.header.X-Forwarded-For}") -> "%s";
		other: * -> status(418) -> <shunt>;`, backend.URL)
	p := proxytest.New(t, routes, proxytest.Options{ForwardedHeaders: proxy.ForwardedHeaders{For: true, Method: true}})
	if res, _ := p.Do(t, "PUT", "api.test", "/"); res.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200 from the route that matches X-Forwarded-Method", res.StatusCode)
	}
	if got := backend.Last(t).Header.Get("X-Client"); got != "127.0.0.1" {
		t.Errorf("backend got X-Client %q, want 127.0.0.1 from the placeholder", got)
	}
	if res, _ := p.Do(t, "GET", "api.test", "/"); res.StatusCode != http.StatusTeapot {
		t.Errorf("GET: got status %d, want 418", res.StatusCode)
	}
}
