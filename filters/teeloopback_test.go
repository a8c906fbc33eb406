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

func TestTeeLoopbackBadArgs(t *testing.T) {
	var spec filters.Spec
	for _, s := range filters.NewTeeSpecs(nil) {
		if s.Name() == filters.TeeLoopbackName {
			spec = s
		}
	}
	testBadArgs(t, spec, []argsCase{
		{"none", nil, "teeLoopback: want 1 string argument (tee key), got 0"},
		{"empty", []any{""}, "teeLoopback: argument 1 (tee key) must not be empty"},
		{"number", []any{1.0}, "teeLoopback: argument 1 (tee key) must be a string, got float64"},
	})
}

// TestTeeLoopbackThroughProxy sends a request through a route that injects a credential and
// copies the request through the routes again: the route with the Tee predicate takes the
// copy to its own backend, with the client's header, the path the filters before left and the
// body, and never with the first route's credential; a copy that comes back to a teeLoopback
// filter of the same key is not copied again.
func TestTeeLoopbackThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("teeloop-canary\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backend := proxytest.NewBackend(t, nil)
	shadow := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		split: Host("t.test") -> bearerinjector(%q) -> copyRequestHeader("Authorization", "X-Copy")
			-> modPath("^/api", "/v2") -> teeLoopback("test-A") -> "http://%s";
		shadow: Host("t.test") && Tee("test-A") && True() -> setRequestHeader("X-Shadow", "1") -> "http://%s";
		loop: Host("loop.test") -> teeLoopback("k") -> "http://%[2]s";`,
		filepath.Join(dir, "token"), backend.Addr(), shadow.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})

	req, err := http.NewRequest("POST", p.URL+"/api/items?x=1", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "t.test"
	req.Header.Set("X-Client", "c1")
	res, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("got %d, want 200", res.StatusCode)
	}
	if got := backend.Last(t).Header.Get("Authorization"); got != "Bearer teeloop-canary" {
		t.Errorf("backend got Authorization %q", got)
	}
	poll.Until(t, 5*time.Second, "the shadow copy", func() bool { return len(shadow.Received()) == 1 })
	cp := shadow.Last(t)
	if cp.Method != "POST" || cp.RequestURI != "/v2/items?x=1" || string(cp.Body) != "payload" ||
		cp.Header.Get("X-Client") != "c1" || cp.Header.Get("X-Shadow") != "1" {
		t.Errorf("shadow got %s %s body %q X-Client %q X-Shadow %q; want POST /v2/items?x=1, payload, c1, 1",
			cp.Method, cp.RequestURI, cp.Body, cp.Header.Get("X-Client"), cp.Header.Get("X-Shadow"))
	}
	for k, vs := range cp.Header {
		if strings.Contains(strings.Join(vs, " "), "teeloop-canary") {
			t.Errorf("shadow copy carries the credential in %s", k)
		}
	}

	// The copy matches the loop route again and comes back to its filter, which lets it pass:
	// the backend gets the request and one copy, then the next request.
	before := len(backend.Received())
	p.Do(t, "GET", "loop.test", "/first")
	poll.Until(t, 5*time.Second, "the loop copy", func() bool { return len(backend.Received()) == before+2 })
	p.Do(t, "GET", "loop.test", "/second")
	poll.Until(t, 5*time.Second, "the second request and its copy", func() bool { return len(backend.Received()) >= before+4 })
	var paths []string
	for _, r := range backend.Received()[before:] {
		paths = append(paths, r.RequestURI)
	}
	if got := strings.Join(paths, " "); got != "/first /first /second /second" {
		t.Errorf("backend got %s, want each request and one copy of it", got)
	}
}
