package proxy_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/routing"
	"github.com/skipper-egress/skipper/secrets"
)

// bindResolver resolves the names of the binding tests to loopback, where the guard (allowed
// 127.0.0.1) reaches the test's backends.
func bindResolver() proxytest.Resolver {
	lo := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	return proxytest.Resolver{"a.test": lo, "b.test": lo, "api.a.test": lo}
}

// port returns the port of a host:port.
func port(t *testing.T, hostport string) string {
	t.Helper()
	_, p, ok := strings.Cut(hostport, ":")
	if !ok {
		t.Fatalf("%q has no port", hostport)
	}
	return p
}

// TestBindingRefusesDynamicDestination: a bound secret reaches the host it is bound to through a
// <dynamic> route, and a request of the same route to another host is answered 403 and never
// dialed, also when the client names the host through the forward proxy.
func TestBindingRefusesDynamicDestination(t *testing.T) {
	tok := writeSecret(t, t.TempDir(), "token", canary+"-bind")
	backend := proxytest.NewBackend(t, nil)
	guard := proxytest.NewGuard(t, bindResolver(), "127.0.0.1/32")
	p := proxytest.New(t, fmt.Sprintf(`dyn: Host(/[.]test(:[0-9]+)?$/) -> bearerinjector(%q) -> <dynamic>`, tok),
		proxytest.Options{
			CredentialsPaths: []string{tok},
			CredentialsBind:  []string{tok + "=*.a.test,A.Test."}, // case and trailing dot do not matter
			Forward:          proxy.ForwardOptions{Guard: guard.Guard},
		})
	client := proxytest.ForwardClient(t, p.URL, nil)
	bport := port(t, backend.Addr())

	for _, host := range []string{"a.test", "api.a.test"} {
		res, err := client.Get("http://" + host + ":" + bport + "/x")
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, res); res.StatusCode != http.StatusOK {
			t.Fatalf("%s: got %d %q, want 200", host, res.StatusCode, body)
		}
		if got := backend.Last(t).Header.Get("Authorization"); got != "Bearer "+canary+"-bind" {
			t.Errorf("%s: backend got Authorization %q, want the token", host, got)
		}
	}
	dials := guard.Dials()
	res, err := client.Get("http://b.test:" + bport + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, res)
	if res.StatusCode != http.StatusForbidden || strings.Contains(body, tok) {
		t.Errorf("b.test: got %d %q, want 403 that does not name the secret", res.StatusCode, body)
	}
	if n := len(backend.Received()); n != 2 {
		t.Errorf("backend got %d requests, want 2: the refused one was sent", n)
	}
	if guard.Dials() != dials {
		t.Error("the refused request was dialed")
	}
	if log := p.Log(); !strings.Contains(log, "b.test:"+bport) || !strings.Contains(log, tok) {
		t.Errorf("the log does not name the secret and the refused destination:\n%s", log)
	}
	checkNoCanary(t, p)
}

// TestBindingRefusesInterceptedDestination: inside an intercepted tunnel, the destination is the
// CONNECT authority; a secret bound to a.test goes there and not to b.test.
func TestBindingRefusesInterceptedDestination(t *testing.T) {
	dir := t.TempDir()
	tok := writeSecret(t, dir, "token", canary+"-icpt")
	cert, roots := proxytest.NewCert(t, "a.test", "b.test")
	backend := httptest.NewUnstartedServer(nil)
	seen := make(chan http.Header, 4)
	backend.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen <- r.Header.Clone() })
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	backend.StartTLS()
	t.Cleanup(backend.Close)
	ca, caPool := newCA(t)
	guard := proxytest.NewGuard(t, bindResolver(), "127.0.0.1/32")
	routes := fmt.Sprintf(`
		icpt: Method("CONNECT") -> <loopback>;
		api: * -> bearerinjector(%q) -> <dynamic>;`, tok)
	// The hosts file beside the secret binds it, as the flag could.
	if err := os.WriteFile(filepath.Join(dir, "token.hosts"), []byte("# the API\na.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := proxytest.New(t, routes, proxytest.Options{
		CredentialsPaths: []string{dir},
		Forward:          proxy.ForwardOptions{Guard: guard.Guard, CA: ca, Transport: proxy.TransportOptions{RootCAs: roots}},
	})
	client := proxytest.ForwardClient(t, p.URL, caPool)
	bport := port(t, strings.TrimPrefix(backend.URL, "https://"))

	res, err := client.Get("https://a.test:" + bport + "/x")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, res); res.StatusCode != http.StatusOK {
		t.Fatalf("a.test: got %d %q, want 200", res.StatusCode, body)
	}
	if got := (<-seen).Get("Authorization"); got != "Bearer "+canary+"-icpt" {
		t.Errorf("a.test: backend got Authorization %q, want the token", got)
	}
	res, err = client.Get("https://b.test:" + bport + "/x")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, res); res.StatusCode != http.StatusForbidden {
		t.Errorf("b.test: got %d %q, want 403", res.StatusCode, body)
	}
	if len(seen) != 0 {
		t.Error("the refused request reached the backend")
	}

	// The hosts file is rotated as secrets are: once it names b.test alone, a.test is refused.
	if err := os.WriteFile(filepath.Join(dir, "token.hosts"), []byte("b.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "a.test refused after the hosts file changed", func() bool {
		res, err := client.Get("https://a.test:" + bport + "/x")
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, res)
		if res.StatusCode == http.StatusOK {
			<-seen
		}
		return res.StatusCode == http.StatusForbidden
	})
	checkNoCanary(t, p)
}

// TestBindingBothMustAllow: with a flag and a hosts file, a destination needs both; a hosts file
// that does not parse allows nothing, and says which line is wrong.
func TestBindingBothMustAllow(t *testing.T) {
	dir := t.TempDir()
	tok := writeSecret(t, dir, "token", canary+"-both")
	hosts := filepath.Join(dir, "token.hosts")
	if err := os.WriteFile(hosts, []byte("a.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backend := proxytest.NewBackend(t, nil)
	guard := proxytest.NewGuard(t, bindResolver(), "127.0.0.1/32")
	p := proxytest.New(t, fmt.Sprintf(`dyn: * -> bearerinjector(%q) -> <dynamic>`, tok), proxytest.Options{
		CredentialsPaths: []string{dir},
		CredentialsBind:  []string{tok + "=a.test,b.test"},
		Forward:          proxy.ForwardOptions{Guard: guard.Guard},
	})
	client := proxytest.ForwardClient(t, p.URL, nil)
	get := func(host string) int {
		t.Helper()
		res, err := client.Get("http://" + host + ":" + port(t, backend.Addr()) + "/x")
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, res)
		return res.StatusCode
	}
	if got := get("a.test"); got != http.StatusOK {
		t.Errorf("a.test: got %d, want 200", got)
	}
	if got := get("b.test"); got != http.StatusForbidden {
		t.Errorf("b.test (flag allows, file does not): got %d, want 403", got)
	}
	if err := os.WriteFile(hosts, []byte("a.test\nb.test:99999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "a.test refused once the hosts file is broken", func() bool {
		return get("a.test") == http.StatusForbidden
	})
	if log := p.Log(); !strings.Contains(log, "token.hosts:2") {
		t.Errorf("the log does not name the broken line token.hosts:2:\n%s", log)
	}
	checkNoCanary(t, p)
}

// TestBindingAtCompile: a route whose static backend, or any load-balancer endpoint, its secret
// may not go to is left out with an error naming the route, the secret and the host; so is a
// route whose secret is bound nowhere when bindings are required.
func TestBindingAtCompile(t *testing.T) {
	dir := t.TempDir()
	tok := writeSecret(t, dir, "token", canary)
	other := writeSecret(t, dir, "other", canary)
	// An OAuth2 grant's secret goes to its token URL, never to the backend: bound to the
	// login host, it may serve a route to any API and no route with another token URL.
	grantSecret := writeSecret(t, dir, "grant", canary)
	store, err := secrets.NewStore(secrets.Options{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := filters.NewTokenManager(filters.TokenManagerOptions{Secrets: store})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{Secrets: store, Tokens: tokens})...)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := routing.Parse("test", fmt.Sprintf(`
		ok: Path("/ok") -> bearerinjector(%[1]q) -> "https://api.example.com";
		okPort: Path("/ok2") -> bearerinjector(%[1]q) -> "http://[2001:db8::1]:8080";
		static: Path("/s") -> bearerinjector(%[1]q) -> "https://evil.example.org";
		lb: Path("/lb") -> bearerinjector(%[1]q) -> <"https://api.example.com", "https://evil.example.org">;
		unbound: Path("/u") -> bearerinjector(%[2]q) -> <dynamic>;
		noSecret: Path("/n") -> "https://evil.example.org";
		grant: Path("/g") -> oauth2ClientCredentials("https://login.example.com/token", %[3]q, %[3]q) -> "https://api.example.net";
		grantEvil: Path("/ge") -> oauth2ClientCredentials("https://evil.example.org/token", %[3]q, %[3]q) -> "https://login.example.com";`,
		tok, other, grantSecret))
	if err != nil {
		t.Fatal(err)
	}
	bind, err := secrets.NewBindings(secrets.BindingOptions{
		Flags: []string{tok + "=api.example.com:443,[2001:db8::1]:8080", grantSecret + "=login.example.com"}, Hosts: store, Require: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg, Bindings: bind})
	if table.Len() != 4 {
		t.Errorf("%d routes compiled, want ok, okPort, noSecret and grant", table.Len())
	}
	want := map[string]string{
		"static":    `secret "` + tok + `" may not be sent to evil.example.org:443`,
		"lb":        `secret "` + tok + `" may not be sent to evil.example.org:443`,
		"unbound":   `secret "` + other + `": no -credentials-bind flag and no ` + other + `.hosts file`,
		"grantEvil": `secret "` + grantSecret + `" may not be sent to evil.example.org:443`,
	}
	for _, err := range errs {
		var re *routing.RouteError
		if !errors.As(err, &re) || want[re.ID] == "" || !strings.Contains(err.Error(), want[re.ID]) {
			t.Errorf("unexpected error: %v", err)
			continue
		}
		if !errors.Is(err, secrets.ErrUnboundDestination) {
			t.Errorf("%v does not wrap ErrUnboundDestination", err)
		}
		delete(want, re.ID)
	}
	for id, msg := range want {
		t.Errorf("route %s: no error %q", id, msg)
	}
}
