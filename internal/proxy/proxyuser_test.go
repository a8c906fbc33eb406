package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestProxyUserSelectsCredentials: one gateway holds a token per caller of the same API; the
// ProxyUser predicate picks the route by the user the forward proxy authenticated, for
// absolute-form requests and inside an intercepted tunnel, and the access log names the user,
// never the password.
func TestProxyUserSelectsCredentials(t *testing.T) {
	dir := t.TempDir()
	alice := writeSecret(t, dir, "alice-token", canary+"-alice")
	bob := writeSecret(t, dir, "bob-token", canary+"-bob")
	var users atomic.Value
	users.Store("# callers\nalice:" + canary + "-pw-a\r\n\nbob:" + canary + "-pw-b\n")
	seen := make(chan string, 8)
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Get("Authorization")
		io.WriteString(w, "ok")
	}))
	t.Cleanup(backend.Close)
	roots := backend.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	ca, caPool := newCA(t)
	guard := proxytest.NewGuard(t, testResolver())
	routes := fmt.Sprintf(`
		icpt: Method("CONNECT") && Host(/^api[.]test:443$/) && ProxyUser("alice") -> <loopback>;
		alice: Host(/^api[.]test(:443)?$/) && ProxyUser("alice") -> bearerinjector(%[1]q) -> "%[3]s";
		bob: Host(/^api[.]test(:443)?$/) && ProxyUser("bob") -> bearerinjector(%[2]q) -> "%[3]s";`, alice, bob, backend.URL)
	p := proxytest.New(t, routes, proxytest.Options{
		CredentialsPaths: []string{dir},
		Transport:        proxy.TransportOptions{RootCAs: roots},
		Forward: proxy.ForwardOptions{Guard: guard.Guard, CA: ca, ProxyAuthFile: "/s/users",
			ProxyAuth: func() ([]byte, error) { return []byte(users.Load().(string)), nil }},
	})
	get := func(userinfo, url string) int {
		t.Helper()
		client := proxytest.ForwardClient(t, "http://"+userinfo+"@"+p.Listener.Addr().String(), caPool)
		res, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, res)
		return res.StatusCode
	}
	for _, tc := range []struct {
		userinfo, url, want string
	}{
		{"alice:" + canary + "-pw-a", "http://api.test/x", "Bearer " + canary + "-alice"},
		{"bob:" + canary + "-pw-b", "http://api.test/x", "Bearer " + canary + "-bob"},
		{"alice:" + canary + "-pw-a", "https://api.test/x", "Bearer " + canary + "-alice"}, // intercepted
	} {
		if got := get(tc.userinfo, tc.url); got != http.StatusOK {
			t.Fatalf("%s as %s: got %d, want 200", tc.url, strings.Split(tc.userinfo, ":")[0], got)
		}
		if got := <-seen; got != tc.want {
			t.Errorf("%s as %s: backend got %q, want %q", tc.url, strings.Split(tc.userinfo, ":")[0], got, tc.want)
		}
	}
	// bob's CONNECT matches no route: the tunnel is for alice only.
	client := proxytest.ForwardClient(t, "http://bob:"+canary+"-pw-b@"+p.Listener.Addr().String(), caPool)
	if _, err := client.Get("https://api.test/x"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Errorf("bob's CONNECT: got %v, want 403 Forbidden", err)
	}
	for _, userinfo := range []string{"alice:" + canary + "-pw-b", "carol:" + canary + "-pw-a", "alice:" + canary + "-pw-a%0D", "alice:" + canary + "-pw"} {
		if got := get(userinfo, "http://api.test/x"); got != http.StatusProxyAuthRequired {
			t.Errorf("%q: got %d, want 407", strings.Split(userinfo, ":")[0], got)
		}
	}
	log := p.Log()
	if !strings.Contains(log, ` - alice [`) || !strings.Contains(log, ` - bob [`) {
		t.Errorf("the access log does not name the users:\n%s", log)
	}

	// A users file that does not parse refuses everyone, and the log names the line.
	users.Store("alice:" + canary + "-pw-a\nbob\n")
	if got := get("alice:"+canary+"-pw-a", "http://api.test/x"); got != http.StatusProxyAuthRequired {
		t.Errorf("broken users file: got %d, want 407", got)
	}
	if !strings.Contains(p.Log(), "/s/users:2: want user:password") {
		t.Errorf("the log does not name the broken line:\n%s", p.Log())
	}
	checkNoCanary(t, p)
}
