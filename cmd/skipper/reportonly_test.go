package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestForwardReportOnlyFlag: with -forward-report-only, a forward request no route allows
// reaches its destination without credentials and is logged as a would-be denial; without the
// flag it is refused.
func TestForwardReportOnlyFlag(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	target := "http://localhost:" + strings.Split(backend.Addr(), ":")[1] + "/x"
	for _, tc := range []struct {
		reportOnly bool
		want       int
	}{{false, http.StatusForbidden}, {true, http.StatusOK}} {
		t.Run(fmt.Sprint(tc.reportOnly), func(t *testing.T) {
			p := start(t, `-inline-routes=r: Host(/^a[.]test$/) -> <shunt>`, "-forward-allow-cidrs=127.0.0.1,::1",
				fmt.Sprintf("-forward-report-only=%v", tc.reportOnly))
			proxyURL, _ := url.Parse("http://" + p.addr)
			client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
			t.Cleanup(client.CloseIdleConnections)
			res, err := client.Get(target)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Fatalf("got %d, want %d", res.StatusCode, tc.want)
			}
			if tc.reportOnly {
				poll.Until(t, 2*time.Second, "the would-be denial in the log", func() bool {
					return strings.Contains(p.Log(), "forward proxy request would be denied: no route allows localhost:")
				})
			}
		})
	}
}
