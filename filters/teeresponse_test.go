package filters_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestTeeResponseBadArgs(t *testing.T) {
	var spec filters.Spec
	for _, s := range filters.NewTeeSpecs(nil) {
		if s.Name() == filters.TeeResponseName {
			spec = s
		}
	}
	testBadArgs(t, spec, []argsCase{
		{"none", nil, "teeResponse: want 1 string argument (url), got 0"},
		{"two", []any{"http://a.test", "x"}, "teeResponse: want 1 string argument (url), got 2"},
		{"no host", []any{"/path"}, "teeResponse: argument 1 (url) must be an http or https URL with a host"},
	})
}

// TestTeeResponseThroughProxy sends requests through a route that injects a credential and
// copies the answers' bodies: the shadow gets each non-empty body in a POST to "/", and
// nothing of the request or the answer besides, least of all the credential.
func TestTeeResponseThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("teeresponse-canary\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shadow := proxytest.NewBackend(t, nil)
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "b1")
		w.Header().Set("Set-Cookie", "session=s1")
		if r.URL.Path == "/empty" {
			w.Header().Set("Content-Length", "0")
			return
		}
		fmt.Fprintf(w, "answer to %s", r.URL.Path)
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> bearerinjector(%q) -> teeResponse("http://%s/ignored/path?q=1")
		-> "http://%s"`, filepath.Join(dir, "token"), shadow.Addr(), backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})

	res, body := p.Do(t, "GET", "t.test", "/empty", "X-Client", "c1")
	if res.StatusCode != 200 || body != "" {
		t.Fatalf("got %d %q, want 200 and no body", res.StatusCode, body)
	}
	res, body = p.Do(t, "GET", "t.test", "/items", "X-Client", "c1", "Cookie", "c=1")
	if res.StatusCode != 200 || body != "answer to /items" {
		t.Fatalf("got %d %q, want 200 %q", res.StatusCode, body, "answer to /items")
	}
	if got := backend.Last(t).Header.Get("Authorization"); got != "Bearer teeresponse-canary" {
		t.Errorf("backend got Authorization %q", got)
	}
	poll.Until(t, 5*time.Second, "the shadow copy", func() bool { return len(shadow.Received()) >= 1 })
	cp := shadow.Received()[0] // the empty answer, sent first, was not copied
	if cp.Method != "POST" || cp.RequestURI != "/" || string(cp.Body) != "answer to /items" || cp.Host != shadow.Addr() {
		t.Errorf("shadow got %s %s Host %s body %q; want POST / to itself with the answer's body",
			cp.Method, cp.RequestURI, cp.Host, cp.Body)
	}
	for k, vs := range cp.Header {
		v := strings.Join(vs, " ")
		if strings.Contains(v, "teeresponse-canary") || strings.Contains(v, "c1") || strings.Contains(v, "b1") ||
			strings.Contains(v, "s1") || strings.Contains(v, "c=1") {
			t.Errorf("shadow copy carries %s: %q, from the request or the answer", k, v)
		}
	}
}
