package proxy_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/routing"
)

// TestBackendIsProxy checks that a backendIsProxy route sends its requests to the backend as to
// an HTTP proxy, for the client's destination: in absolute form with a Host that agrees, to
// each endpoint of a load balancer, and for a client that came over TLS as a CONNECT to port 443.
func TestBackendIsProxy(t *testing.T) {
	answer := func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			http.Error(w, "no tunnels here", http.StatusForbidden)
			return
		}
		w.Write([]byte("via proxy"))
	}
	up1, up2 := proxytest.NewBackend(t, answer), proxytest.NewBackend(t, answer)
	routes := fmt.Sprintf(`
		one: Host("^dest[.]test$") -> setRequestHeader("X-Route", "one") -> backendIsProxy() -> "http://%[1]s";
		lb: Host("^lb[.]test$") -> backendIsProxy() -> <roundRobin, "http://%[1]s", "http://%[2]s">;`, up1.Addr(), up2.Addr())

	p := proxytest.New(t, routes, proxytest.Options{})
	res, body := p.Do(t, "GET", "dest.test", "/a/b?q=1")
	if res.StatusCode != http.StatusOK || body != "via proxy" {
		t.Fatalf("got %d %q, want the upstream proxy's answer", res.StatusCode, body)
	}
	got := up1.Last(t)
	if got.RequestURI != "http://dest.test/a/b?q=1" || got.Host != "dest.test" || got.Header.Get("X-Route") != "one" {
		t.Errorf("upstream proxy got %s %s with Host %q and X-Route %q; want the absolute form for dest.test",
			got.Method, got.RequestURI, got.Host, got.Header.Get("X-Route"))
	}
	for range 2 {
		p.Do(t, "GET", "lb.test", "/x")
	}
	if a, b := up1.Last(t), up2.Last(t); a.RequestURI != "http://lb.test/x" || b.RequestURI != "http://lb.test/x" {
		t.Errorf("load-balanced proxies got %q and %q, want http://lb.test/x at both", a.RequestURI, b.RequestURI)
	}

	tp := proxytest.New(t, routes, proxytest.Options{TLS: true})
	res, _ = tp.Do(t, "GET", "dest.test", "/secret-path")
	if res.StatusCode != http.StatusBadGateway && res.StatusCode != http.StatusInternalServerError {
		t.Errorf("refused tunnel: got %d, want a 5xx", res.StatusCode)
	}
	got = up1.Last(t)
	if got.Method != http.MethodConnect || got.RequestURI != "dest.test:443" {
		t.Errorf("upstream proxy got %s %s, want CONNECT dest.test:443", got.Method, got.RequestURI)
	}
	if got.Header.Get("X-Route") != "" {
		t.Errorf("the CONNECT carried the request's headers")
	}
}

// TestBackendIsProxyRefusesCredentials checks that a backendIsProxy route that injects a
// credential does not load: its destination is whatever Host the client sends.
func TestBackendIsProxyRefusesCredentials(t *testing.T) {
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{Secrets: filtertest.Secrets{}})...)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := routing.Parse("r.eskip", `
		bad: * -> bearerinjector("/secrets/token") -> backendIsProxy() -> "http://proxy.test:3128";
		ok: Host("x") -> backendIsProxy() -> "http://proxy.test:3128";`)
	if err != nil {
		t.Fatal(err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
	if len(errs) != 1 || !errors.Is(errs[0], routing.ErrCredentialViaProxy) {
		t.Fatalf("got errors %v, want one for the route with a credential", errs)
	}
	if table.Len() != 1 {
		t.Errorf("got %d routes, want the one without a credential", table.Len())
	}
}
