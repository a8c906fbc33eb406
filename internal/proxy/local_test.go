package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestLocalAnswers checks the filters that answer the client themselves, and status over a
// backend's answer.
func TestLocalAnswers(t *testing.T) {
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, "from backend")
	})
	routes := fmt.Sprintf(`
		shunt: Path("/shunt") -> <shunt>;
		shuntStatus: Path("/shunt-status") -> status(503) -> status(418) -> <shunt>;
		inline: Path("/inline") -> inlineContent("<h1>Hi</h1>") -> setPath("/never") -> <shunt>;
		inlineType: Path("/inline-type") -> inlineContent("{}", "application/json") -> <shunt>;
		statusBefore: Path("/status-before") -> status(201) -> inlineContent("made") -> <shunt>;
		statusAfter: Path("/status-after") -> inlineContent("made") -> status(201) -> <shunt>;
		redirect: PathSubtree("/old") -> redirectTo(308, "http://new.test:9999") -> %[1]q;
		overBackend: Path("/over") -> status(299) -> %[1]q;
		backend: Path("/backend") -> %[1]q;
	`, backend.URL)
	p := proxytest.New(t, routes, proxytest.Options{})
	tests := []struct {
		path, wantBody, wantType, wantLocation string
		wantStatus                             int
	}{
		{path: "/shunt", wantStatus: 404},
		// Response filters run last first, as in Skipper, so the first status has the last word.
		{path: "/shunt-status", wantStatus: 503},
		{path: "/inline", wantStatus: 200, wantBody: "<h1>Hi</h1>", wantType: "text/html; charset=utf-8"},
		{path: "/inline-type", wantStatus: 200, wantBody: "{}", wantType: "application/json"},
		{path: "/status-before", wantStatus: 201, wantBody: "made", wantType: "text/plain; charset=utf-8"},
		{path: "/status-after", wantStatus: 200, wantBody: "made", wantType: "text/plain; charset=utf-8"},
		{path: "/old/x?q=1", wantStatus: 308, wantLocation: "http://new.test:9999/old/x?q=1"},
		{path: "/over", wantStatus: 299, wantBody: "from backend", wantType: "text/plain; charset=utf-8"},
		{path: "/backend", wantStatus: 202, wantBody: "from backend", wantType: "text/plain; charset=utf-8"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res, body := doNoRedirect(t, p, tc.path)
			if res.StatusCode != tc.wantStatus {
				t.Errorf("got status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			if body != tc.wantBody {
				t.Errorf("got body %q, want %q", body, tc.wantBody)
			}
			if got := res.Header.Get("Content-Type"); got != tc.wantType {
				t.Errorf("got Content-Type %q, want %q", got, tc.wantType)
			}
			if got := res.Header.Get("Location"); got != tc.wantLocation {
				t.Errorf("got Location %q, want %q", got, tc.wantLocation)
			}
		})
	}
	if n := len(backend.Received()); n != 2 {
		t.Errorf("backend got %d requests, want 2 (only /over and /backend reach it)", n)
	}
}

// TestBackendTimeout checks that a backend slower than the route's backendTimeout gives 504 and
// that a fast one is unaffected.
func TestBackendTimeout(t *testing.T) {
	stuck := proxytest.NewBackend(t, func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // until the proxy gives up
	})
	fast := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`
		stuck: Path("/stuck") -> backendTimeout("50ms") -> %q;
		fast: Path("/fast") -> backendTimeout("10s") -> %q;
	`, stuck.URL, fast.URL)
	p := proxytest.New(t, routes, proxytest.Options{})
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/stuck", http.StatusGatewayTimeout, "Gateway Timeout\n"},
		{"/fast", http.StatusOK, "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res, body := p.Do(t, "GET", "a.test", tc.path)
			if res.StatusCode != tc.wantStatus || body != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

// TestPreserveHostFilter checks that preserveHost overrides the proxy's setting per route.
func TestPreserveHostFilter(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`
		keep: Path("/keep") -> preserveHost("true") -> %[1]q;
		own: Path("/own") -> preserveHost("false") -> %[1]q;
		plain: Path("/plain") -> %[1]q;
	`, backend.URL)
	tests := []struct {
		path     string
		preserve bool
		want     string
	}{
		{"/keep", false, "client.test"},
		{"/own", true, backend.Addr()},
		{"/plain", false, backend.Addr()},
		{"/plain", true, "client.test"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s preserve=%v", tc.path, tc.preserve), func(t *testing.T) {
			p := proxytest.New(t, routes, proxytest.Options{PreserveHost: tc.preserve})
			if res, _ := p.Do(t, "GET", "client.test", tc.path); res.StatusCode != 200 {
				t.Fatalf("got status %d, want 200", res.StatusCode)
			}
			if got := backend.Last(t).Host; got != tc.want {
				t.Errorf("backend got Host %q, want %q", got, tc.want)
			}
		})
	}
}

// TestLoopback checks that a <loopback> route's rewritten request is routed again, and that a
// loop fails with 500 after the limit.
func TestLoopback(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`
		entry: Path("/entry") -> setRequestHeader("X-Hop", "entry") -> setPath("/middle") -> <loopback>;
		middle: Path("/middle") -> appendRequestHeader("X-Hop", "middle") -> setPath("/final") -> <loopback>;
		final: Path("/final") -> %q;
		loop: Path("/loop") -> <loopback>;
		lost: Path("/lost") -> setPath("/nowhere") -> <loopback>;
	`, backend.URL)
	p := proxytest.New(t, routes, proxytest.Options{})

	res, body := p.Do(t, "GET", "a.test", "/entry?q=1")
	if res.StatusCode != 200 || body != "ok" {
		t.Fatalf("got %d %q, want 200 \"ok\"", res.StatusCode, body)
	}
	got := backend.Last(t)
	if got.RequestURI != "/final?q=1" {
		t.Errorf("backend got %q, want /final?q=1", got.RequestURI)
	}
	if hops := strings.Join(got.Header["X-Hop"], ","); hops != "entry,middle" {
		t.Errorf("backend got X-Hop %q, want \"entry,middle\"", hops)
	}
	if got.Host != backend.Addr() {
		t.Errorf("backend got Host %q, want %q", got.Host, backend.Addr())
	}

	tests := []struct {
		name, path string
		max        int
		wantStatus int
		wantBody   string
	}{
		{"loop", "/loop", 0, 500, "Internal Server Error\n"},
		{"loop lower limit", "/loop", 2, 500, "Internal Server Error\n"},
		{"no loopbacks allowed", "/entry", -1, 500, "Internal Server Error\n"},
		{"within limit", "/entry", 2, 200, "ok"},
		{"over limit", "/entry", 1, 500, "Internal Server Error\n"},
		{"no route after loopback", "/lost", 0, 404, "Not Found\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := proxytest.New(t, routes, proxytest.Options{MaxLoopbacks: tc.max})
			res, body := p.Do(t, "GET", "a.test", tc.path)
			if res.StatusCode != tc.wantStatus || body != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

// doNoRedirect sends GET path to p with Host a.test and returns the response as it is, without
// following a redirect, with its body read.
func doNoRedirect(t *testing.T, p *proxytest.Proxy, path string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{
		Transport:     p.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequest(http.MethodGet, p.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "a.test"
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading response body: %v", err)
	}
	return res, string(body)
}

// TestBackendTimeoutKeepsClientCancel checks that a client going away still cancels the backend
// call on a route with a long backendTimeout.
func TestBackendTimeoutKeepsClientCancel(t *testing.T) {
	started, ended := make(chan struct{}), make(chan struct{})
	backend := proxytest.NewBackend(t, func(_ http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		close(ended)
	})
	p := proxytest.New(t, fmt.Sprintf(`r: * -> backendTimeout("1h") -> %q`, backend.URL), proxytest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		res, err := p.Client().Do(req)
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	<-started
	cancel()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("backend call not cancelled 10s after the client went away")
	}
	if err := <-errc; err == nil {
		t.Error("got no client error, want the cancellation")
	}
}

// TestResponseFiltersOnEveryAnswer checks that response filters see the answers the proxy makes
// itself and those from behind <loopback> routes, as in Skipper: those of the filters that ran,
// last first, then those of the <loopback> routes the request came through, innermost first.
func TestResponseFiltersOnEveryAnswer(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`
		shunt: Path("/shunt") -> setResponseHeader("X-Seen", "shunt") -> <shunt>;
		inline: Path("/inline") -> setResponseHeader("X-Seen", "inline") -> inlineContent("hi")
			-> setResponseHeader("X-Never", "ran") -> <shunt>;
		limited: Path("/limited") -> setResponseHeader("X-Seen", "limited") -> ratelimit(1, "1h") -> <shunt>;
		outer: Path("/outer") -> setResponseHeader("X-Who", "outer") -> appendResponseHeader("X-Path", "outer")
			-> setPath("/inner") -> <loopback>;
		inner: Path("/inner") -> setResponseHeader("X-Who", "inner") -> appendResponseHeader("X-Path", "inner") -> %q;
		outerShunt: Path("/outer-shunt") -> setResponseHeader("X-Seen", "outer") -> setPath("/shunt") -> <loopback>;
	`, backend.URL)
	p := proxytest.New(t, routes, proxytest.Options{})
	p.Do(t, "GET", "a.test", "/limited") // uses up the limit

	tests := []struct {
		path       string
		wantStatus int
		wantHeader http.Header
	}{
		{"/shunt", 404, http.Header{"X-Seen": {"shunt"}}},
		{"/inline", 200, http.Header{"X-Seen": {"inline"}, "X-Never": nil}},
		{"/limited", 429, http.Header{"X-Seen": {"limited"}}},
		{"/outer", 200, http.Header{"X-Who": {"outer"}, "X-Path": {"inner", "outer"}}},
		{"/outer-shunt", 404, http.Header{"X-Seen": {"outer"}}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res, _ := p.Do(t, "GET", "a.test", tc.path)
			if res.StatusCode != tc.wantStatus {
				t.Errorf("got status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			for name, want := range tc.wantHeader {
				if got := res.Header[name]; strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
			}
		})
	}
}
