package proxy_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestSwapSecretPlaceholder is the README's example: an agent that holds only a placeholder
// reaches the API, through skipper as its HTTPS proxy with interception, with the real key in
// its header and query; the same placeholder sent to another host leaves as the placeholder.
func TestSwapSecretPlaceholder(t *testing.T) {
	const ph = "sk-placeholder-openai"
	dir := t.TempDir()
	key := writeSecret(t, dir, "openai", canary+"-real")
	other := writeSecret(t, dir, "other", canary+"-other")
	type got struct {
		header http.Header
		query  string
	}
	seen := make(chan got, 8)
	cert, roots := proxytest.NewCert(t, "a.test", "b.test")
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- got{r.Header.Clone(), r.URL.RawQuery}
	}))
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	backend.StartTLS()
	t.Cleanup(backend.Close)
	ca, caPool := newCA(t)
	guard := proxytest.NewGuard(t, bindResolver(), "127.0.0.1/32")
	routes := fmt.Sprintf(`
		icpt: Method("CONNECT") -> <loopback>;
		api: * -> swapSecretPlaceholder(%[1]q, %[2]q) -> <dynamic>;
		mixed: Path("/mixed") -> bearerinjector(%[3]q) -> swapSecretPlaceholder(%[1]q, %[2]q) -> <dynamic>;
		missing: Path("/missing") -> swapSecretPlaceholder(%[1]q, %[4]q) -> <dynamic>;`,
		ph, key, other, filepath.Join(dir, "missing"))
	p := proxytest.New(t, routes, proxytest.Options{
		CredentialsPaths: []string{dir},
		CredentialsBind:  []string{key + "=a.test", other + "=b.test"},
		Forward:          proxy.ForwardOptions{Guard: guard.Guard, CA: ca, Transport: proxy.TransportOptions{RootCAs: roots}},
	})
	client := proxytest.ForwardClient(t, p.URL, caPool)
	bport := port(t, strings.TrimPrefix(backend.URL, "https://"))
	do := func(host, path string) int {
		t.Helper()
		req, err := http.NewRequest("GET", "https://"+host+":"+bport+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+ph)
		req.Header.Add("X-Keys", "first "+ph+" then "+ph)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, res)
		return res.StatusCode
	}
	const query = "?key=" + ph + "&pre=x-sk%2Dplaceholder%2Dopenai&plain=a+b%26c&" + ph + "=1"

	if status := do("a.test", "/v1/models"+query); status != http.StatusOK {
		t.Fatalf("a.test: got %d, want 200", status)
	}
	g := <-seen
	if a := g.header.Get("Authorization"); a != "Bearer "+canary+"-real" {
		t.Errorf("a.test: Authorization %q, want the real key", a)
	}
	if x := g.header.Get("X-Keys"); x != "first "+canary+"-real then "+canary+"-real" {
		t.Errorf("a.test: X-Keys %q, want both placeholders swapped", x)
	}
	q, err := url.ParseQuery(g.query)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"key": {canary + "-real"}, "pre": {"x-" + canary + "-real"}, "plain": {"a b&c"}, canary + "-real": {"1"}}
	if fmt.Sprint(q) != fmt.Sprint(want) {
		t.Errorf("a.test: query %q parses to %v, want %v", g.query, q, want)
	}
	if !strings.Contains(g.query, "&plain=a+b%26c&") {
		t.Errorf("a.test: query %q, want the parts without the placeholder byte for byte", g.query)
	}

	// Toward a host the key is not bound to, the placeholder leaves as it came.
	if status := do("b.test", "/v1/models"+query); status != http.StatusOK {
		t.Fatalf("b.test: got %d, want 200", status)
	}
	g = <-seen
	if a, x := g.header.Get("Authorization"), g.header.Get("X-Keys"); a != "Bearer "+ph || x != "first "+ph+" then "+ph {
		t.Errorf("b.test: Authorization %q, X-Keys %q, want the placeholders", a, x)
	}
	if g.query != query[1:] {
		t.Errorf("b.test: query %q, want %q", g.query, query[1:])
	}

	// Another secret of the route that may not go to the destination still refuses the
	// request; the swap's own does not.
	if status := do("a.test", "/mixed"); status != http.StatusForbidden {
		t.Errorf("mixed to a.test: got %d, want 403 (the bearer secret is bound to b.test)", status)
	}
	if status := do("b.test", "/mixed"); status != http.StatusOK {
		t.Errorf("mixed to b.test: got %d, want 200", status)
	} else if g := <-seen; g.header.Get("Authorization") != "Bearer "+canary+"-other" || g.header.Get("X-Keys") != "first "+ph+" then "+ph {
		t.Errorf("mixed to b.test: got Authorization %q, X-Keys %q", g.header.Get("Authorization"), g.header.Get("X-Keys"))
	}

	// An unusable secret fails closed when there is a placeholder to swap.
	if status := do("a.test", "/missing"); status != http.StatusServiceUnavailable {
		t.Errorf("missing secret: got %d, want 503", status)
	}
	if len(seen) != 0 {
		t.Error("a refused request reached the backend")
	}
	checkNoCanary(t, p)
}
