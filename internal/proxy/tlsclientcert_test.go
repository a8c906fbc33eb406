package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/syncbuf"
)

// TestTLSClientCertFromSecretsKeepsIdentitiesApart sends interleaved requests, with and without
// a body (HTTP/2 and HTTP/1.1), over routes that reach one mutual-TLS backend with certificate
// A, certificate B or none, through a network backend, a load balancer, a dynamic backend the
// route names and one the client names through the forward proxy's guard. Each request must
// arrive with its route's certificate, and no connection may carry two identities.
func TestTLSClientCertFromSecretsKeepsIdentitiesApart(t *testing.T) {
	ca := proxytest.NewCA(t)
	backend := proxytest.NewMTLSBackend(t, ca)
	creds := t.TempDir()
	certA, keyA, serialA := ca.WriteClientCert(t, creds, "a", "a")
	certB, keyB, serialB := ca.WriteClientCert(t, creds, "b", "b")
	with := func(cert, key string) string { return fmt.Sprintf("tlsClientCertFromSecrets(%q, %q)", cert, key) }
	be := backend.URL
	dest := strings.TrimPrefix(be, "https://")
	routes := fmt.Sprintf(`
		a: Host("^a$") -> %[1]s -> %[3]q;
		b: Host("^b$") -> %[2]s -> %[3]q;
		none: Host("^none$") -> %[3]q;
		lb: Host("^lb$") -> %[1]s -> <roundRobin, %[3]q, %[3]q>;
		dyn: Host("^dyn$") -> %[2]s -> setDynamicBackendUrl(%[3]q) -> <dynamic>;
		fwd: Host("^fwd$") -> %[1]s -> setDynamicBackendScheme("https") -> setDynamicBackendHostFromHeader("X-Dest") -> <dynamic>;
		fwdNone: Host("^fwdnone$") -> setDynamicBackendScheme("https") -> setDynamicBackendHostFromHeader("X-Dest") -> <dynamic>;
		missing: Host("^missing$") -> %[4]s -> %[3]q;
	`, with(certA, keyA), with(certB, keyB), be, with(filepath.Join(creds, "nope.crt"), keyA))
	guard := proxytest.NewGuard(t, testResolver(), "127.0.0.1/32")
	p := proxytest.New(t, routes, proxytest.Options{
		CredentialsPaths: []string{creds},
		Transport:        proxy.TransportOptions{RootCAs: backend.Roots},
		Forward:          proxy.ForwardOptions{Guard: guard.Guard, Transport: proxy.TransportOptions{RootCAs: backend.Roots}},
	})
	do := func(host, body string) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest("POST", p.URL+"/", rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("X-Dest", dest)
		res, err := p.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	check := func(want map[string]string) {
		t.Helper()
		for range 3 {
			for _, host := range []string{"a", "b", "none", "lb", "dyn", "fwd", "fwdnone"} {
				for _, body := range []string{"", "a body"} {
					code, got := do(host, body)
					switch w := want[host]; {
					case w == "" && code == http.StatusOK:
						t.Errorf("%s, body %q: 200 without a client certificate", host, body)
					case w != "" && (code != http.StatusOK || got != w):
						t.Errorf("%s, body %q: got %d with certificate %q, want 200 with %q", host, body, code, got, w)
					}
				}
			}
		}
		byConn := map[string]string{}
		protos := map[string]bool{}
		for _, s := range backend.Seen() {
			protos[s.Proto] = true
			if s.Serial == "" {
				t.Errorf("the backend served a request without a certificate: %+v", s)
			}
			if prev, ok := byConn[s.Remote]; ok && prev != s.Serial {
				t.Errorf("connection %s carried certificates %s and %s", s.Remote, prev, s.Serial)
			}
			byConn[s.Remote] = s.Serial
		}
		if !protos["HTTP/1.1"] || !protos["HTTP/2.0"] {
			t.Errorf("the backend saw %v, want both HTTP/1.1 and HTTP/2.0", protos)
		}
	}
	check(map[string]string{"a": serialA, "b": serialB, "lb": serialA, "dyn": serialB, "fwd": serialA})
	if t.Failed() {
		t.FailNow()
	}

	// A rotated: its routes present the new certificate, its old connections close, B's stay.
	oldA := remotesWith(backend, serialA)
	_, _, serialA2 := ca.WriteClientCert(t, creds, "a", "a2")
	poll.Until(t, 5*time.Second, "the connections with A closed", func() bool {
		for _, r := range oldA {
			if !backend.Closed(r) {
				return false
			}
		}
		return true
	})
	for _, r := range remotesWith(backend, serialB) {
		if backend.Closed(r) {
			t.Errorf("connection %s with B closed when A rotated", r)
		}
	}
	check(map[string]string{"a": serialA2, "b": serialB, "lb": serialA2, "dyn": serialB, "fwd": serialA2})

	// A secret that is missing fails closed, naming the file and never a value.
	if code, _ := do("missing", ""); code != http.StatusServiceUnavailable {
		t.Errorf("missing certificate: got %d, want 503", code)
	}
	keyPEM, err := os.ReadFile(keyA)
	if err != nil {
		t.Fatal(err)
	}
	log := p.Log()
	if !strings.Contains(log, filepath.Join(creds, "nope.crt")) {
		t.Errorf("the log does not name the missing certificate:\n%s", log)
	}
	if keyBody := strings.Split(strings.TrimSpace(string(keyPEM)), "\n")[1]; strings.Contains(log, keyBody) {
		t.Errorf("the log holds key material:\n%s", log)
	}
}

// TestTLSClientCertFromSecretsInterceptedTunnel: requests decrypted from an intercepted CONNECT
// tunnel take their route's certificate to its backend, and a route without one presents none.
func TestTLSClientCertFromSecretsInterceptedTunnel(t *testing.T) {
	ca := proxytest.NewCA(t)
	backend := proxytest.NewMTLSBackend(t, ca)
	creds := t.TempDir()
	certA, keyA, serialA := ca.WriteClientCert(t, creds, "a", "a")
	mitmCA, mitmPool := newCA(t)
	routes := fmt.Sprintf(`
		icpt: Method("CONNECT") && Host(/^[ab][.]test:443$/) -> <loopback>;
		a: Host(/^a[.]test(:443)?$/) -> tlsClientCertFromSecrets(%q, %q) -> %[3]q;
		b: Host(/^b[.]test(:443)?$/) -> %[3]q;`, certA, keyA, backend.URL)
	p := proxytest.New(t, routes, proxytest.Options{
		CredentialsPaths: []string{creds},
		Transport:        proxy.TransportOptions{RootCAs: backend.Roots},
		Forward:          proxy.ForwardOptions{Guard: proxytest.NewGuard(t, testResolver()).Guard, CA: mitmCA},
	})
	client := proxytest.ForwardClient(t, p.URL, mitmPool)
	for _, body := range []string{"", "a body"} {
		for host, want := range map[string]string{"a.test": serialA, "b.test": ""} {
			res, err := client.Post("https://"+host+"/", "text/plain", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			got := readBody(t, res)
			switch {
			case want == "" && res.StatusCode == http.StatusOK:
				t.Errorf("%s, body %q: 200 without a client certificate", host, body)
			case want != "" && (res.StatusCode != http.StatusOK || got != want):
				t.Errorf("%s, body %q: got %d with certificate %q, want 200 with %q", host, body, res.StatusCode, got, want)
			}
		}
	}
	for _, s := range backend.Seen() {
		if s.Serial != serialA {
			t.Errorf("the backend served a request with certificate %q, want only %q", s.Serial, serialA)
		}
	}
}

// TestTLSClientCertFromSecretsFailsClosedWhenFailOpen: with -credentials-fail-open a request
// whose certificate is missing is still refused, never sent without it or with the global one.
func TestTLSClientCertFromSecretsFailsClosedWhenFailOpen(t *testing.T) {
	ca := proxytest.NewCA(t)
	backend := proxytest.NewMTLSBackend(t, ca)
	creds := t.TempDir()
	certG, keyG, _ := ca.WriteClientCert(t, t.TempDir(), "global", "global")
	src, err := filters.NewClientCertSource(runStore(t, nil, certG, keyG), "-client-tls-cert", []string{certG}, []string{keyG}, nil)
	if err != nil {
		t.Fatal(err)
	}
	routes := fmt.Sprintf(`r: * -> tlsClientCertFromSecrets(%q, %q) -> %q;`,
		filepath.Join(creds, "nope.crt"), filepath.Join(creds, "nope.key"), backend.URL)
	p := proxytest.New(t, routes, proxytest.Options{
		CredentialsPaths:    []string{creds},
		CredentialsFailOpen: true,
		Transport:           proxy.TransportOptions{RootCAs: backend.Roots, ClientCert: src},
	})
	for _, body := range []string{"", "a body"} {
		if code, _ := mtlsDo(t, p, "POST", "x", body); code != http.StatusServiceUnavailable {
			t.Errorf("body %q: got %d, want 503", body, code)
		}
	}
	if n := len(backend.Seen()); n != 0 {
		t.Errorf("the backend served %d requests, want none", n)
	}
}

// TestAuditClientCertificate: each request that presents a route's client certificate is a
// credential use in the audit log, under the key's path, and its fingerprint changes when the
// certificate rotates; no key material reaches the log.
func TestAuditClientCertificate(t *testing.T) {
	ca := proxytest.NewCA(t)
	backend := proxytest.NewMTLSBackend(t, ca)
	creds := t.TempDir()
	cert, key, _ := ca.WriteClientCert(t, creds, "a", "a")
	var out syncbuf.Buffer
	p := proxytest.New(t, fmt.Sprintf(`a: * -> tlsClientCertFromSecrets(%q, %q) -> %q`, cert, key, backend.URL),
		proxytest.Options{
			CredentialsPaths: []string{creds},
			Transport:        proxy.TransportOptions{RootCAs: backend.Roots},
			Audit:            audit.New(&out, nil),
		})
	get := func() {
		t.Helper()
		if res, body := p.Do(t, "GET", "a", "/"); res.StatusCode != http.StatusOK {
			t.Fatalf("got %d %q, want 200", res.StatusCode, body)
		}
	}
	get()
	get()
	lines := auditLines(t, &out, 2)
	first := lines[0]
	if first.Filter != filters.TLSClientCertFromSecretsName || first.Secret != key || first.Outcome != filters.OutcomeInjected {
		t.Errorf("got filter %q, secret %q, outcome %q; want %s, %s, injected", first.Filter, first.Secret,
			first.Outcome, filters.TLSClientCertFromSecretsName, key)
	}
	if len(first.Fingerprint) != 12 || lines[1].Fingerprint != first.Fingerprint {
		t.Fatalf("same certificate, fingerprints %q and %q", first.Fingerprint, lines[1].Fingerprint)
	}

	_, _, rotated := ca.WriteClientCert(t, creds, "a", "a2")
	n := 2
	poll.Until(t, 5*time.Second, "the rotated certificate presented", func() bool {
		get()
		n++
		seen := backend.Seen()
		return seen[len(seen)-1].Serial == rotated
	})
	lines = auditLines(t, &out, n)
	if last := lines[n-1].Fingerprint; last == first.Fingerprint || len(last) != 12 {
		t.Errorf("after rotation: fingerprint %q, before %q", last, first.Fingerprint)
	}
	keyPEM, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	if keyBody := strings.Split(strings.TrimSpace(string(keyPEM)), "\n")[1]; strings.Contains(out.String(), keyBody) {
		t.Errorf("key material reached the audit log:\n%s", out.String())
	}
}
