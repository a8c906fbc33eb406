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

// teeTimeout bounds the wait for the request in TestTeeThroughProxy: past it, the request
// must be waiting for the hanging shadow backend.
const teeTimeout = 30 * time.Second

func TestTeeBadArgs(t *testing.T) {
	spec := filters.NewTeeSpecs(nil)[0]
	testBadArgs(t, spec, []argsCase{
		{"none", nil, "tee: want 1 or 3 string arguments (url[, regexp, replacement]), got 0"},
		{"two", []any{"http://a.test", "x"}, "tee: want 1 or 3 string arguments (url[, regexp, replacement]), got 2"},
		{"no host", []any{"/path"}, "tee: argument 1 (url) must be an http or https URL with a host"},
		{"bad regexp", []any{"http://a.test", "(", "x"}, "tee: argument 2 (regexp): error parsing regexp: missing closing ): `(`"},
	})
}

// TestTeeThroughProxy sends a request through a route that injects a credential and tees
// it: the backend gets the credential, the shadow copy never does (not even copied into
// another header), and a shadow backend that does not answer does not hold the request up.
func TestTeeThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte("tee-canary-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	shadow := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		<-release // a shadow backend that hangs until the test ends
	})
	t.Cleanup(func() { close(release) }) // before the shadow backend closes: cleanups run last first
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		t: Host("t.test") -> bearerinjector(%q) -> copyRequestHeader("Authorization", "X-Copy")
			-> tee("http://%s", "^/api/(.*)$", "/v2/$1") -> "http://%s";
		nf: Host("nf.test") -> teenf("http://%[2]s") -> "http://%[3]s";`, tok, shadow.Addr(), backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})

	req, err := http.NewRequest("POST", p.URL+"/api/items?x=1", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "t.test"
	req.Header.Set("X-Client", "c1")
	done := make(chan *http.Response, 1)
	go func() {
		res, err := p.Client().Do(req)
		if err != nil {
			t.Error(err)
			done <- nil
			return
		}
		res.Body.Close()
		done <- res
	}()
	select { // the shadow hangs until the test ends: a request that waited for it never returns
	case res := <-done:
		if res != nil && res.StatusCode != 200 {
			t.Fatalf("got %d, want 200", res.StatusCode)
		}
	case <-time.After(teeTimeout):
		t.Fatal("the request waited for the shadow backend")
	}
	if got := backend.Last(t).Header.Get("Authorization"); got != "Bearer tee-canary-secret" {
		t.Errorf("backend got Authorization %q", got)
	}
	poll.Until(t, 5*time.Second, "the shadow copy", func() bool { return len(shadow.Received()) == 1 })
	cp := shadow.Last(t)
	if cp.Method != "POST" || cp.RequestURI != "/v2/items?x=1" || string(cp.Body) != "payload" ||
		cp.Host != shadow.Addr() || cp.Header.Get("X-Client") != "c1" {
		t.Errorf("shadow got %s %s Host %s body %q X-Client %q; want POST /v2/items?x=1 to itself, payload, c1",
			cp.Method, cp.RequestURI, cp.Host, cp.Body, cp.Header.Get("X-Client"))
	}
	for k, vs := range cp.Header {
		if strings.Contains(strings.Join(vs, " "), "tee-canary-secret") {
			t.Errorf("shadow copy carries the credential in %s", k)
		}
	}

	p.Do(t, "GET", "nf.test", "/nf")
	poll.Until(t, 5*time.Second, "the teenf copy", func() bool { return len(shadow.Received()) == 2 })
	if got := shadow.Last(t).RequestURI; got != "/nf" {
		t.Errorf("teenf copy went to %s, want /nf", got)
	}
}
