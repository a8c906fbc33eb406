package proxy_test

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/syncbuf"
)

// auditLines returns the audit log's lines once there are at least n, failing the test if they
// do not arrive in time or one is not JSON.
func auditLines(t *testing.T, buf *syncbuf.Buffer, n int) []audit.Entry {
	t.Helper()
	poll.Until(t, 5*time.Second, fmt.Sprintf("%d audit lines", n), func() bool {
		return strings.Count(buf.String(), "\n") >= n
	})
	var out []audit.Entry
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// TestAuditForwardDecisions drives one request of each decision kind through the forward
// proxy (allowed with a credential, denied by the route table, refused without proxy
// credentials, a blind tunnel, an intercepted tunnel with a request inside) and checks the
// audit lines: who, where, what, with which secret version, and never a secret.
func TestAuditForwardDecisions(t *testing.T) {
	tok := writeSecret(t, t.TempDir(), "token", canary+"-audit")
	backend := proxytest.NewBackend(t, nil)
	tlsBackend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls-ok")
	}))
	t.Cleanup(tlsBackend.Close)
	roots := x509.NewCertPool()
	roots.AddCert(tlsBackend.Certificate())
	ca, caPool := newCA(t)
	roots.AddCert(ca.Cert())
	var out syncbuf.Buffer
	routes := fmt.Sprintf(`
		api: Host(/^h[.]test$/) -> bearerinjector(%q) -> "http://%s";
		icpt: Method("CONNECT") && Host(/^a[.]test:443$/) -> <loopback>;
		inner: Host(/^a[.]test(:443)?$/) -> bearerinjector(%q) -> "%s";
		tun: Method("CONNECT") && Host(/^127[.]0[.]0[.]1:/) -> <dynamic>;`,
		tok, backend.Addr(), tok, tlsBackend.URL)
	p := proxytest.New(t, routes, proxytest.Options{
		CredentialsPaths: []string{tok},
		Transport:        proxy.TransportOptions{RootCAs: roots},
		Audit:            audit.New(&out, nil),
		Forward: proxy.ForwardOptions{
			Guard:     proxytest.NewGuard(t, testResolver(), "127.0.0.0/8").Guard,
			CA:        ca,
			ProxyAuth: func() ([]byte, error) { return []byte("alice:" + canary), nil },
		},
	})
	client := proxytest.ForwardClient(t, "http://alice:"+canary+"@"+p.Listener.Addr().String(), caPool)
	pool := caPool.Clone()
	pool.AddCert(tlsBackend.Certificate())
	client.Transport.(*http.Transport).TLSClientConfig.RootCAs = pool
	get := func(url string, want int) {
		t.Helper()
		res, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, res); res.StatusCode != want {
			t.Fatalf("%s: got %d %q, want %d", url, res.StatusCode, body, want)
		}
	}
	get("http://h.test/x?key=query-value", http.StatusOK) // 1 credential + 1 allowed
	get("http://b.test/y", http.StatusForbidden)          // 1 denied
	get(tlsBackend.URL+"/z", http.StatusOK)               // 1 tunnelled, when the tunnel ends
	get("https://a.test/inner", http.StatusOK)            // 1 credential + 1 allowed, then 1 intercepted
	client.CloseIdleConnections()                         // ends both tunnels
	anon := proxytest.ForwardClient(t, p.URL, nil)
	res, err := anon.Get("http://h.test/x") // 1 denied: no proxy credentials
	if err != nil {
		t.Fatal(err)
	}
	readBody(t, res)

	lines := auditLines(t, &out, 8)
	count := map[string]int{}
	for _, e := range lines {
		key := e.Event + "/" + e.Decision
		count[key]++
		switch key {
		case "credential/":
			if e.Filter != "bearerinjector" || e.Secret != tok || e.Outcome != "injected" || len(e.Fingerprint) != 12 ||
				e.ProxyUser != "alice" || e.Status != 200 || e.Host != "127.0.0.1" || e.Port == 0 {
				t.Errorf("credential line %+v", e)
			}
		case "forward/allowed":
			if e.ProxyUser != "alice" || e.Status != 200 || (e.Route != "api" && e.Route != "inner") {
				t.Errorf("allowed line %+v", e)
			}
			if e.Route == "api" && (e.Path != "/x" || e.Scheme != "http") {
				t.Errorf("allowed line %+v, want path /x without its query", e)
			}
		case "forward/denied":
			if e.Status != http.StatusForbidden && e.Status != http.StatusProxyAuthRequired {
				t.Errorf("denied line %+v", e)
			}
			if e.Status == http.StatusForbidden && (e.Host != "b.test" || e.Port != 80 || e.ProxyUser != "alice") {
				t.Errorf("denied line %+v, want b.test:80 by alice", e)
			}
		case "forward/tunnelled", "forward/intercepted":
			if e.Method != "CONNECT" || e.Status != 200 || e.ProxyUser != "alice" || e.Port == 0 {
				t.Errorf("%s line %+v", key, e)
			}
		}
		if e.Client == "" || e.Time.IsZero() {
			t.Errorf("line without client or time: %+v", e)
		}
	}
	want := map[string]int{"credential/": 2, "forward/allowed": 2, "forward/denied": 2, "forward/tunnelled": 1, "forward/intercepted": 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: got %d lines, want %d (all: %v)", k, count[k], n, count)
		}
	}
	if strings.Contains(out.String(), canary) || strings.Contains(out.String(), "query-value") {
		t.Errorf("a secret or a query reached the audit log:\n%s", out.String())
	}
	checkNoCanary(t, p)
}

// TestAuditFingerprintRotation checks that the fingerprint of a secret stays while its value
// does and changes with the first request that carries the rotated value.
func TestAuditFingerprintRotation(t *testing.T) {
	dir := t.TempDir()
	tok := writeSecret(t, dir, "token", canary+"-v1")
	backend := proxytest.NewBackend(t, nil)
	var out syncbuf.Buffer
	p := proxytest.New(t, fmt.Sprintf(`api: * -> bearerinjector(%q) -> "http://%s"`, tok, backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}, Audit: audit.New(&out, nil)})
	for range 2 {
		if res, body := p.Do(t, "GET", "api.test", "/"); res.StatusCode != http.StatusOK {
			t.Fatalf("got %d %q", res.StatusCode, body)
		}
	}
	lines := auditLines(t, &out, 2)
	v1 := lines[0].Fingerprint
	if v1 == "" || lines[1].Fingerprint != v1 {
		t.Fatalf("same secret, fingerprints %q and %q", v1, lines[1].Fingerprint)
	}
	if err := os.WriteFile(tok, []byte(canary+"-v2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := 2
	poll.Until(t, 5*time.Second, "the rotated token sent", func() bool {
		p.Do(t, "GET", "api.test", "/")
		n++
		return backend.Last(t).Header.Get("Authorization") == "Bearer "+canary+"-v2"
	})
	lines = auditLines(t, &out, n)
	if v2 := lines[n-1].Fingerprint; v2 == v1 || len(v2) != 12 {
		t.Errorf("after rotation: fingerprint %q, before %q", v2, v1)
	}
	if strings.Contains(out.String(), canary) {
		t.Errorf("a secret reached the audit log:\n%s", out.String())
	}
}
