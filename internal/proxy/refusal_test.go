package proxy_test

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestForwardRefusalsHideAddresses sends forward-proxy requests for names that resolve to
// internal addresses, refused by the SSRF guard, and for a name that resolves to an allowed
// address where nothing listens: the answers say why (403 and the guard's reason, 502), but no
// answer names an address a name resolved to, while the log does, for the operator.
func TestForwardRefusalsHideAddresses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	_, closedPort, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close() // nothing listens there now: the dial is refused

	res := testResolver()
	res["gone.test"] = []netip.Addr{netip.MustParseAddr("127.0.0.3")}
	guard := proxytest.NewGuard(t, res, "127.0.0.3/32")
	p := proxytest.New(t, `
		header: Path("/from-header") -> setDynamicBackendHostFromHeader("X-Dest") -> <dynamic>;
		fwd: * -> <dynamic>;`, proxytest.Options{Forward: proxy.ForwardOptions{Guard: guard.Guard}})
	client := proxytest.ForwardClient(t, p.URL, nil)
	gone := "gone.test:" + closedPort

	tests := []struct {
		name       string
		send       func(t *testing.T) *http.Response
		wantStatus int
		wantBody   string // what the answer says instead
		hidden     string // the resolved address, which the log names
	}{
		{"absolute form, loopback", func(t *testing.T) *http.Response {
			return get(t, client, "http://loop.test:80/")
		}, http.StatusForbidden, `destination "loop.test" refused: loopback`, "127.0.0.1"},
		{"CONNECT, private", func(t *testing.T) *http.Response {
			_, _, res := sendConnect(t, p.Listener.Addr().String(), "internal.test:443")
			return res
		}, http.StatusForbidden, `destination "internal.test" refused: private`, "10.1.2.3"},
		{"dynamic backend from a header, private", func(t *testing.T) *http.Response {
			req, err := http.NewRequest("GET", p.URL+"/from-header", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Dest", "internal.test:80")
			res, err := p.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}, http.StatusForbidden, `destination "internal.test" refused: private`, "10.1.2.3"},
		{"absolute form, connection refused", func(t *testing.T) *http.Response {
			return get(t, client, "http://"+gone+"/")
		}, http.StatusBadGateway, "Bad Gateway\n", "127.0.0.3"},
		{"CONNECT, connection refused", func(t *testing.T) *http.Response {
			_, _, res := sendConnect(t, p.Listener.Addr().String(), gone)
			return res
		}, http.StatusBadGateway, "Bad Gateway\n", "127.0.0.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logged := strings.Count(p.Log(), tc.hidden)
			res := tc.send(t)
			body := readBody(t, res)
			if res.StatusCode != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Errorf("got %d %q, want %d with %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if strings.Contains(body, tc.hidden) {
				t.Errorf("the answer %q names the resolved address %s", body, tc.hidden)
			}
			if strings.Count(p.Log(), tc.hidden) <= logged {
				t.Errorf("the log does not name the resolved address %s:\n%s", tc.hidden, p.Log())
			}
		})
	}
	if n := guard.Dials(); n != 2 {
		t.Errorf("guard dialed %d times, want 2: only the allowed address", n)
	}
}

// get sends GET url with client and returns the response.
func get(t *testing.T, client *http.Client, url string) *http.Response {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return res
}
