package proxy_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestRoutesOnCleanedPath checks that routes see the path cleaned as Skipper cleans it (a
// final "." leaves a trailing slash), while the backend gets the path as the client sent it.
func TestRoutesOnCleanedPath(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		exact: Path("/a/b") -> status(418) -> <shunt>;
		dir: Path("/a/b/") -> "http://%s";`, backend.Addr()), proxytest.Options{})

	for _, path := range []string{"/a/b/.", "/a/./b/.?x=1"} {
		res, _ := p.Do(t, "GET", "api.test", path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: got %d, want 200 from the backend of route dir", path, res.StatusCode)
		}
		if got := backend.Last(t).RequestURI; got != path {
			t.Errorf("GET %s: backend saw %q, want the path byte for byte", path, got)
		}
	}
}
