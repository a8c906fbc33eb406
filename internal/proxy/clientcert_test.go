package proxy_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/syncbuf"
	"github.com/skipper-egress/skipper/secrets"
)

// runStore returns a running secrets store of paths, logging to log.
func runStore(t *testing.T, log logrus.FieldLogger, paths ...string) *secrets.Store {
	t.Helper()
	store, err := secrets.NewStore(secrets.Options{Paths: paths, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.Run(ctx) //nolint:errcheck // returns when ctx is done
	}()
	t.Cleanup(func() { cancel(); <-done })
	return store
}

// mtlsDo sends method with body (none when empty) for host through p and returns the status and
// the answer: the serial number of the client certificate the MTLSBackend saw.
func mtlsDo(t *testing.T, p *proxytest.Proxy, method, host, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, p.URL+"/", rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	res, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// remotesWith returns the connections over which b saw serial.
func remotesWith(b *proxytest.MTLSBackend, serial string) []string {
	var rs []string
	for _, s := range b.Seen() {
		if s.Serial == serial {
			rs = append(rs, s.Remote)
		}
	}
	return rs
}

func TestClientTLSCertIsPresentedAndRotated(t *testing.T) {
	ca := proxytest.NewCA(t)
	backend := proxytest.NewMTLSBackend(t, ca)
	dir := t.TempDir()
	certFile, keyFile, serialA := ca.WriteClientCert(t, dir, "client", "a")
	logs := &syncbuf.Buffer{}
	log := logrus.New()
	log.SetOutput(logs)
	src, err := filters.NewClientCertSource(runStore(t, log, certFile, keyFile), "-client-tls-cert",
		[]string{certFile}, []string{keyFile}, log)
	if err != nil {
		t.Fatal(err)
	}
	p := proxytest.New(t, `r: Host("mtls") -> "`+backend.URL+`";`, proxytest.Options{
		Transport: proxy.TransportOptions{RootCAs: backend.Roots, ClientCert: src},
	})

	// Bodyless requests take package h1 over HTTP/1.1, those with a body net/http's HTTP/2.
	for _, body := range []string{"", "a body"} {
		if code, got := mtlsDo(t, p, "POST", "mtls", body); code != http.StatusOK || got != serialA {
			t.Fatalf("body %q: got %d with certificate %q, want 200 with %q", body, code, got, serialA)
		}
	}
	protos := map[string]bool{}
	for _, s := range backend.Seen() {
		protos[s.Proto] = true
	}
	if !protos["HTTP/1.1"] || !protos["HTTP/2.0"] {
		t.Fatalf("the backend saw %v, want both HTTP/1.1 and HTTP/2.0", protos)
	}
	oldConns := remotesWith(backend, serialA)

	// Rotated: the connections made with the old certificate close without a request asking.
	_, _, serialB := ca.WriteClientCert(t, dir, "client", "b")
	poll.Until(t, 5*time.Second, "the connections with the old certificate closed", func() bool {
		for _, r := range oldConns {
			if !backend.Closed(r) {
				return false
			}
		}
		return true
	})
	for _, body := range []string{"", "a body"} {
		if code, got := mtlsDo(t, p, "POST", "mtls", body); code != http.StatusOK || got != serialB {
			t.Fatalf("after rotation, body %q: got %d with certificate %q, want 200 with %q", body, code, got, serialB)
		}
	}

	// A certificate whose key does not match (written before its key) keeps the pair before.
	keyB, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	certC, _, _ := ca.ClientCertPEM(t, "c")
	if err := os.WriteFile(certFile, certC, 0o600); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "the bad pair logged", func() bool {
		return strings.Contains(logs.String(), "keeping the previous one")
	})
	if code, got := mtlsDo(t, p, "GET", "mtls", ""); code != http.StatusOK || got != serialB {
		t.Fatalf("after a bad pair: got %d with certificate %q, want 200 with %q", code, got, serialB)
	}
	out := logs.String() + p.Log()
	if !strings.Contains(out, certFile) {
		t.Errorf("the log does not name %s:\n%s", certFile, out)
	}
	keyBody := strings.Split(strings.TrimSpace(string(keyB)), "\n")[1]
	if strings.Contains(out, keyBody) {
		t.Errorf("the log holds key material:\n%s", out)
	}
}
