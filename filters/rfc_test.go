package filters_test

import (
	"fmt"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestRFCFiltersThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		host: Host("host.test") -> preserveHost("true") -> rfcHost() -> "http://%[1]s";
		path: Host("path.test") -> rfcPath() -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	for _, tc := range []struct{ host, want string }{
		{"host.test.", "host.test"},
		{"host.test.:8080", "host.test:8080"},
		{"host.test", "host.test"},
	} {
		p.Do(t, "GET", tc.host, "/")
		if got := backend.Last(t).Host; got != tc.want {
			t.Errorf("Host %s: backend got %s, want %s", tc.host, got, tc.want)
		}
	}
	p.Do(t, "GET", "path.test", "/a%2Fb/c%3Bd")
	if got := backend.Last(t).RequestURI; got != "/a%2Fb/c%3Bd" {
		t.Errorf("backend got %s, want the path as sent", got)
	}
}
