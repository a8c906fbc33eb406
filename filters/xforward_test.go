package filters_test

import (
	"fmt"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestXForwardThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		last: Host("last.test") -> xforward() -> setRequestHeader("Host", "rewritten.test") -> "http://%[1]s";
		first: Host("first.test") -> xforwardFirst() -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	for _, tc := range []struct {
		host, xff, want string
	}{
		{"last.test:8080", "", "127.0.0.1"},
		{"last.test", "10.0.0.1, 10.0.0.2", "10.0.0.1, 10.0.0.2, 127.0.0.1"},
		{"first.test", "10.0.0.1", "127.0.0.1, 10.0.0.1"},
	} {
		var h []string
		if tc.xff != "" {
			h = []string{"X-Forwarded-For", tc.xff}
		}
		p.Do(t, "GET", tc.host, "/", h...)
		got := backend.Last(t)
		checkHeader(t, got.Header, "X-Forwarded-For", tc.want)
		checkHeader(t, got.Header, "X-Forwarded-Host", tc.host)
	}
}
