package proxy_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/syncbuf"
)

// TestForwardReportOnly: under -forward-report-only, a forward-proxy request that no route
// allows is sent on to the destination the client named, without any credential, and reported;
// the SSRF guard still refuses internal destinations, and routed requests are served as always.
func TestForwardReportOnly(t *testing.T) {
	tok := writeSecret(t, t.TempDir(), "token", canary+"-ro")
	backend := proxytest.NewBackend(t, nil)
	res := testResolver()
	for name, addrs := range bindResolver() {
		res[name] = addrs
	}
	guard := proxytest.NewGuard(t, res, "127.0.0.1/32")
	var mu sync.Mutex
	var reported []string
	var auditOut syncbuf.Buffer
	p := proxytest.New(t, fmt.Sprintf(`a: Host(/^a[.]test/) -> bearerinjector(%q) -> <dynamic>`, tok), proxytest.Options{
		CredentialsPaths:  []string{tok},
		ForwardReportOnly: true,
		WouldDeny: func(r *http.Request, reason string) {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, r.Method+" "+r.Host+": "+reason)
		},
		Forward: proxy.ForwardOptions{Guard: guard.Guard},
		Audit:   audit.New(&auditOut, nil),
	})
	client := proxytest.ForwardClient(t, p.URL, nil)
	bport := port(t, backend.Addr())
	get := func(host string) int {
		t.Helper()
		res, err := client.Get("http://" + host + ":" + bport + "/x")
		if err != nil {
			t.Fatal(err)
		}
		readBody(t, res)
		return res.StatusCode
	}

	if status := get("a.test"); status != http.StatusOK {
		t.Fatalf("a.test: got %d, want 200", status)
	}
	if got := backend.Last(t).Header.Get("Authorization"); got != "Bearer "+canary+"-ro" {
		t.Errorf("a.test: Authorization %q, want the route's token", got)
	}
	if status := get("b.test"); status != http.StatusOK {
		t.Fatalf("b.test (no route): got %d, want 200 under report-only", status)
	}
	if got, ok := backend.Last(t).Header["Authorization"]; ok || backend.Last(t).Host != "b.test:"+bport {
		t.Errorf("b.test: backend got Authorization %q, Host %q: want no credential, Host b.test", got, backend.Last(t).Host)
	}
	poll.Until(t, 5*time.Second, "a would_deny audit line for b.test", func() bool {
		for line := range strings.Lines(auditOut.String()) {
			if strings.Contains(line, `"decision":"would_deny"`) && strings.Contains(line, `"host":"b.test"`) {
				return true
			}
		}
		return false
	})
	if status := get("internal.test"); status != http.StatusForbidden {
		t.Errorf("internal.test: got %d, want the SSRF guard's 403", status)
	}

	// A CONNECT no route allows opens a blind tunnel through the guard.
	conn, br, cres := sendConnect(t, p.Listener.Addr().String(), "b.test:"+bport)
	if cres.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT b.test: got %d, want 200", cres.StatusCode)
	}
	fmt.Fprintf(conn, "GET /tunnel HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n")
	tres, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, tres); tres.StatusCode != http.StatusOK || body != "ok" {
		t.Errorf("through the tunnel: got %d %q, want 200 ok", tres.StatusCode, body)
	}

	mu.Lock()
	defer mu.Unlock()
	want := []string{"GET b.test:" + bport + ": no route allows b.test:" + bport,
		"GET internal.test:" + bport + ": no route allows internal.test:" + bport,
		"CONNECT b.test:" + bport + ": no route allows b.test:" + bport}
	if strings.Join(reported, "\n") != strings.Join(want, "\n") {
		t.Errorf("reported:\n%s\nwant:\n%s", strings.Join(reported, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(p.Log(), "would be denied: no route allows b.test") {
		t.Errorf("the log does not report the request:\n%s", p.Log())
	}
	checkNoCanary(t, p)
}
