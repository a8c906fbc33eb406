package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestEnableAccessLogUnderDisabled checks that -access-log-disabled leaves the access log to
// the routes' enableAccessLog filters, as in Skipper: a route with it logs, one without does
// not. The unlogged request goes first on the same kept-alive connection, so its handler has
// returned, access log and all, before the logged one is read.
func TestEnableAccessLogUnderDisabled(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := start(t, "-access-log-disabled", fmt.Sprintf(`-inline-routes=
		plain: Host("plain.test") -> "http://%[1]s";
		on: Host("on.test") -> enableAccessLog() -> "http://%[1]s";`, backend.Addr()))
	p.get(t, "plain.test", "/quiet")
	p.get(t, "on.test", "/loud")
	poll.Until(t, 2*time.Second, "the access line of /loud", func() bool {
		return strings.Contains(p.Log(), `"GET /loud HTTP/1.1" 200`)
	})
	if strings.Contains(p.Log(), "/quiet") {
		t.Errorf("got an access line for /quiet, on a route without enableAccessLog:\n%s", p.Log())
	}
}
