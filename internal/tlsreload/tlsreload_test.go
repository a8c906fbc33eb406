package tlsreload_test

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/syncbuf"
	"github.com/skipper-egress/skipper/internal/tlsreload"
)

// served runs a TLS handshake against r with serverName and returns the first DNS name of the
// certificate the client was shown.
func served(t *testing.T, r *tlsreload.Reloader, serverName string) string {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	go tls.Server(s, &tls.Config{GetCertificate: r.GetCertificate}).Handshake() //nolint:errcheck // the client reports
	// The test checks which certificate is served, not whether it chains to a root.
	client := tls.Client(c, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := client.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return client.ConnectionState().PeerCertificates[0].DNSNames[0]
}

func newLog() (*logrus.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	l := logrus.New()
	l.SetOutput(buf)
	return l, buf
}

func TestPicksCertificateByServerName(t *testing.T) {
	dir := t.TempDir()
	certA, keyA, _ := proxytest.WriteCert(t, dir, "a", "a.test")
	certB, keyB, _ := proxytest.WriteCert(t, dir, "b", "b.test", "*.b.test")
	r, err := tlsreload.New(tlsreload.Options{CertFiles: []string{certA, certB}, KeyFiles: []string{keyA, keyB}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a.test": "a.test", "b.test": "b.test", "x.b.test": "b.test", "other.test": "a.test"} {
		if got := served(t, r, name); got != want {
			t.Errorf("server name %s: got the certificate for %s, want %s", name, got, want)
		}
	}
}

func TestReloadsWhenFilesChange(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := proxytest.WriteCert(t, dir, "site", "v1.test")
	log, logs := newLog()
	r, err := tlsreload.New(tlsreload.Options{CertFiles: []string{cert}, KeyFiles: []string{key}, PollInterval: 10 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	// Rewritten in place.
	proxytest.WriteCert(t, dir, "site", "v2.test")
	poll.Until(t, 5*time.Second, "certificate v2", func() bool { return served(t, r, "x") == "v2.test" })

	// A broken pair: the key no longer matches. The old certificate stays, with an error logged.
	otherDir := t.TempDir()
	_, otherKey, _ := proxytest.WriteCert(t, otherDir, "other", "other.test")
	k, err := os.ReadFile(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	seen := len(logs.String())
	if err := os.WriteFile(key, k, 0o600); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "error about the broken pair", func() bool {
		later := logs.String()[seen:]
		return strings.Contains(later, "level=error") && strings.Contains(later, key)
	})
	if got := served(t, r, "x"); got != "v2.test" {
		t.Errorf("after a broken update: got %s, want the previous certificate v2.test", got)
	}
	if err := r.Reload(); err == nil {
		t.Error("Reload of a broken pair returned no error")
	}

	// Kubernetes' way: both names are symlinks into ..data, which is swapped to a new directory.
	k8s := t.TempDir()
	v3 := filepath.Join(k8s, "..v3")
	must(t, os.Mkdir(v3, 0o755))
	proxytest.WriteCert(t, v3, "tls", "v3.test")
	must(t, os.Symlink("..v3", filepath.Join(k8s, "..data")))
	link := func(name string) string {
		p := filepath.Join(k8s, name)
		must(t, os.Symlink(filepath.Join("..data", name), p))
		return p
	}
	crt, ky := link("tls.crt"), link("tls.key")
	r2, err := tlsreload.New(tlsreload.Options{CertFiles: []string{crt}, KeyFiles: []string{ky}, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done2 := make(chan struct{})
	go func() { r2.Run(ctx); close(done2) }()
	defer func() { cancel(); <-done2 }()
	v4 := filepath.Join(k8s, "..v4")
	must(t, os.Mkdir(v4, 0o755))
	proxytest.WriteCert(t, v4, "tls", "v4.test")
	must(t, os.Symlink("..v4", filepath.Join(k8s, "..data_tmp")))
	must(t, os.Rename(filepath.Join(k8s, "..data_tmp"), filepath.Join(k8s, "..data")))
	poll.Until(t, 5*time.Second, "certificate v4 after the ..data swap", func() bool { return served(t, r2, "x") == "v4.test" })
}

func TestReloadOnDemand(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := proxytest.WriteCert(t, dir, "site", "v1.test")
	r, err := tlsreload.New(tlsreload.Options{CertFiles: []string{cert}, KeyFiles: []string{key}, PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	proxytest.WriteCert(t, dir, "site", "v2.test")
	if got := served(t, r, "x"); got != "v1.test" {
		t.Fatalf("before Reload: got %s, want v1.test", got)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := served(t, r, "x"); got != "v2.test" {
		t.Errorf("after Reload: got %s, want v2.test", got)
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := proxytest.WriteCert(t, dir, "site", "a.test")
	tests := []struct {
		name        string
		certs, keys []string
		want        string
	}{
		{"no pairs", nil, nil, "0 certificate files and 0 key files"},
		{"uneven", []string{cert}, nil, "1 certificate files and 0 key files"},
		{"missing file", []string{filepath.Join(dir, "nope.crt")}, []string{key}, "nope.crt"},
		{"swapped", []string{key}, []string{cert}, "loading " + key},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tlsreload.New(tlsreload.Options{CertFiles: tc.certs, KeyFiles: tc.keys})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
