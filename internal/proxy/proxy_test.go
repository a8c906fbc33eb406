package proxy_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// Every secret in these tests starts with canary, so that checkNoCanary can assert that no value
// ever reached the log.
const canary = "canary-7c1d0e"

// writeSecret writes value, with a trailing newline, to dir/name and returns the file's path.
func writeSecret(t *testing.T, dir, name, value string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkNoCanary(t *testing.T, p *proxytest.Proxy) {
	t.Helper()
	if log := p.Log(); strings.Contains(log, canary) {
		t.Errorf("a secret value reached the log:\n%s", log)
	}
}

func TestForwardsRequestWithInjectedToken(t *testing.T) {
	dir := t.TempDir()
	tok := writeSecret(t, dir, "token", canary+"-tok")
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`Host("host1") -> bearerinjector(%q) -> "http://%s/"`, tok, backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})

	res, body := p.Do(t, "GET", "host1", "/foo/a%2Fb?x=1&y=a%20b", "User-Agent", "curl/8.5.0", "Accept", "*/*")
	if res.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("got %d %q, want 200 \"ok\"", res.StatusCode, body)
	}
	got := backend.Last(t)
	checks := []struct{ what, got, want string }{
		{"method", got.Method, "GET"},
		{"request URI", got.RequestURI, "/foo/a%2Fb?x=1&y=a%20b"},
		{"proto", got.Proto, "HTTP/1.1"},
		{"Host", got.Host, backend.Addr()},
		{"Authorization", got.Header.Get("Authorization"), "Bearer " + canary + "-tok"},
		{"User-Agent", got.Header.Get("User-Agent"), "curl/8.5.0"},
		{"Accept", got.Header.Get("Accept"), "*/*"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("backend saw %s %q, want %q", c.what, c.got, c.want)
		}
	}
	for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Host", "Forwarded", "Via", "Accept-Encoding"} {
		if v, ok := got.Header[h]; ok {
			t.Errorf("backend saw %s: %q, want no such header", h, v)
		}
	}
	checkNoCanary(t, p)
}

func TestNoUserAgentAddedWhenClientSentNone(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})

	req, _ := http.NewRequest("GET", p.URL+"/", nil)
	req.Header["User-Agent"] = nil // tells Go's client to send none
	res, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ua, ok := backend.Last(t).Header["User-Agent"]; ok {
		t.Errorf("backend saw User-Agent %q, want none", ua)
	}
}

func TestClientAuthorizationNeverReachesBackend(t *testing.T) {
	dir := t.TempDir()
	tok := writeSecret(t, dir, "token", canary+"-good")
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`Host("host1") -> bearerinjector(%q) -> "http://%s"`, tok, backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})

	tests := []struct {
		name   string
		header []string
	}{
		{"plain", []string{"Authorization", "Bearer evil"}},
		{"named in Connection", []string{"Authorization", "Bearer evil", "Connection", "Authorization"}},
		{"Connection lists it among others", []string{"Authorization", "Bearer evil", "Connection", "keep-alive, Authorization"}},
		{"twice", []string{"Authorization", "Bearer evil", "Authorization", "Bearer evil2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := p.Do(t, "GET", "host1", "/", tc.header...)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("got status %d, want 200", res.StatusCode)
			}
			got := backend.Last(t).Header["Authorization"]
			if len(got) != 1 || got[0] != "Bearer "+canary+"-good" {
				t.Errorf("backend saw Authorization %q, want only the injected token", got)
			}
		})
	}
	checkNoCanary(t, p)
}

func TestHopByHopHeadersRemovedBothWays(t *testing.T) {
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Backend-Hop")
		w.Header().Set("X-Backend-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("Proxy-Authenticate", "Basic")
		w.Header().Set("X-End-To-End", "kept")
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})

	res, _ := p.Do(t, "GET", "any", "/",
		"Connection", "X-Client-Hop", "X-Client-Hop", "1", "Keep-Alive", "timeout=5",
		"Proxy-Authorization", "Basic Zm9vOmJhcg==", "Proxy-Connection", "keep-alive",
		"Te", "gzip", "Upgrade", "websocket", "X-End-To-End", "kept")
	got := backend.Last(t).Header
	for _, h := range []string{"X-Client-Hop", "Keep-Alive", "Proxy-Authorization", "Proxy-Connection", "Te", "Upgrade"} {
		if v, ok := got[h]; ok {
			t.Errorf("backend saw hop-by-hop header %s: %q", h, v)
		}
	}
	if got.Get("X-End-To-End") != "kept" {
		t.Errorf("backend lost the end-to-end header X-End-To-End")
	}
	for _, h := range []string{"X-Backend-Hop", "Keep-Alive", "Proxy-Authenticate"} {
		if v, ok := res.Header[h]; ok {
			t.Errorf("client saw hop-by-hop header %s: %q", h, v)
		}
	}
	if res.Header.Get("X-End-To-End") != "kept" {
		t.Errorf("client lost the end-to-end header X-End-To-End")
	}
}

func TestCredentialUnavailableFailsClosed(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		gone:  Host("gone")  -> bearerinjector(%q) -> "http://%s";
		empty: Host("empty") -> setRequestHeaderFromSecret("X-Api-Key", %q) -> "http://%s";`,
		missing, backend.Addr(), empty, backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})

	for _, route := range []string{"gone", "empty"} {
		t.Run(route, func(t *testing.T) {
			for range 3 {
				res, body := p.Do(t, "GET", route, "/", "Authorization", "Bearer client-own")
				if res.StatusCode != http.StatusServiceUnavailable {
					t.Fatalf("got status %d, want 503", res.StatusCode)
				}
				if !strings.Contains(body, fmt.Sprintf("%q", route)) {
					t.Errorf("body %q does not name the route %q", body, route)
				}
			}
			if n := countLines(p.Log(), "level=warning", "route="+route); n != 1 {
				t.Errorf("got %d warnings for route %s, want 1:\n%s", n, route, p.Log())
			}
		})
	}
	if n := len(backend.Received()); n != 0 {
		t.Errorf("backend received %d requests, want 0", n)
	}
}

// countLines counts the lines of log that contain every one of parts.
func countLines(log string, parts ...string) int {
	n := 0
	for line := range strings.Lines(log) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

func TestProxyErrors(t *testing.T) {
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}()
	hangup := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})
	stuck := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers only when the proxy gives up
	})
	p := proxytest.New(t, fmt.Sprintf(`
		refused: Host("refused") -> "http://%s";
		hangup:  Host("hangup")  -> "http://%s";
		stuck:   Host("stuck")   -> "http://%s";
		shunt:   Host("shunt")   -> <shunt>;`, refused, hangup.Addr(), stuck.Addr()),
		proxytest.Options{Transport: proxy.TransportOptions{ResponseHeaderTimeout: 200 * time.Millisecond}})

	tests := []struct {
		host     string
		wantCode int
		wantBody string
	}{
		{"nowhere", http.StatusNotFound, "Not Found\n"},
		{"refused", http.StatusBadGateway, "Bad Gateway\n"},
		{"hangup", http.StatusInternalServerError, "Internal Server Error\n"},
		{"stuck", http.StatusGatewayTimeout, "Gateway Timeout\n"},
		{"shunt", http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			res, body := p.Do(t, "GET", tc.host, "/")
			if res.StatusCode != tc.wantCode || body != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tc.wantCode, tc.wantBody)
			}
			if tc.wantBody != "" {
				if ct := res.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
					t.Errorf("got Content-Type %q, want text/plain; charset=utf-8", ct)
				}
			}
		})
	}
}

func TestStreamsBodiesBothWays(t *testing.T) {
	const size = 3 << 20
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	sum := sha256.Sum256(payload)
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(payload)
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})

	tests := []struct {
		name string
		body func() io.Reader
	}{
		{"content-length", func() io.Reader { return bytes.NewReader(payload) }},
		{"chunked", func() io.Reader { return io.MultiReader(bytes.NewReader(payload)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := p.Client().Post(p.URL+"/upload", "application/octet-stream", tc.body())
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(got) != sum {
				t.Errorf("client got %d bytes that differ from the %d the backend sent", len(got), size)
			}
			if up := backend.Last(t).Body; sha256.Sum256(up) != sum {
				t.Errorf("backend got %d bytes that differ from the %d the client sent", len(up), size)
			}
		})
	}
}

func TestStreamingResponseIsFlushedAsItComes(t *testing.T) {
	next := make(chan struct{})
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-next: // the client has seen the first event
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: two\n\n")
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})

	res, err := p.Client().Get(p.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if sc.Text() != "" {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	for _, want := range []string{"data: one", "data: two"} {
		select {
		case got := <-lines:
			if got != want {
				t.Fatalf("got event %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %q did not arrive: the proxy held it back", want)
		}
		if want == "data: one" {
			close(next)
		}
	}
}

func TestResponsePassesUnchanged(t *testing.T) {
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Set-Cookie", "a=1")
		h.Add("Set-Cookie", "b=2")
		h.Set("Server", "backend/1.0")
		h.Set("Location", "/elsewhere")
		h.Set("Trailer", "X-Checksum")
		w.WriteHeader(http.StatusFound)
		io.WriteString(w, "moved")
		h.Set("X-Checksum", "abc")
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})

	client := p.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Get(p.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusFound || string(body) != "moved" {
		t.Errorf("got %d %q, want 302 \"moved\" (redirects are passed back, not followed)", res.StatusCode, body)
	}
	if got := res.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Errorf("got Set-Cookie %q, want [a=1 b=2] in order", got)
	}
	if got := res.Header.Get("Server"); got != "backend/1.0" {
		t.Errorf("got Server %q, want the backend's", got)
	}
	if got := res.Trailer.Get("X-Checksum"); got != "abc" {
		t.Errorf("got trailer X-Checksum %q, want abc", got)
	}
	if len(backend.Received()) != 1 {
		t.Errorf("backend got %d requests, want 1", len(backend.Received()))
	}
}

func TestHeadStaysHead(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})
	res, _ := p.Do(t, "HEAD", "any", "/")
	if res.StatusCode != http.StatusOK {
		t.Errorf("got %d, want 200", res.StatusCode)
	}
	if m := backend.Last(t).Method; m != "HEAD" {
		t.Errorf("backend saw %s, want HEAD", m)
	}
}

func TestCredentialFailOpenForwardsWithoutIt(t *testing.T) {
	dir := t.TempDir()
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: * -> bearerinjector(%q) -> setRequestHeader("X-After", "ran") -> "http://%s"`,
		filepath.Join(dir, "missing"), backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}, CredentialsFailOpen: true})

	for range 3 {
		res, _ := p.Do(t, "GET", "any", "/", "Authorization", "Bearer client-own")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("got status %d, want 200 (fail-open)", res.StatusCode)
		}
	}
	got := backend.Last(t)
	if a, ok := got.Header["Authorization"]; ok {
		t.Errorf("backend saw Authorization %q, want none: fail-open never forwards the client's own", a)
	}
	if x := got.Header.Get("X-After"); x != "ran" {
		t.Errorf("the filters after the failed one did not run: X-After %q", x)
	}
	if n := countLines(p.Log(), "level=warning", "fail-open"); n != 1 {
		t.Errorf("got %d fail-open warnings, want 1:\n%s", n, p.Log())
	}
}
