package mitm

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newTestCA writes a CA into a temp dir and loads it with opts.
func newTestCA(t *testing.T, opts Options) *CA {
	t.Helper()
	certPath, keyPath, err := InitCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewCA(certPEM, keyPEM, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func pool(ca *CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert())
	return p
}

func TestInitAndLoadCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	certPath, keyPath, err := InitCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		mode os.FileMode
	}{{certPath, 0o644}, {keyPath, 0o600}} {
		fi, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != tc.mode {
			t.Errorf("%s: got mode %o, want %o", tc.path, got, tc.mode)
		}
	}
	ca, err := LoadCA(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert()
	if c.Subject.CommonName != CAName || !c.IsCA || c.MaxPathLen != 0 || !c.MaxPathLenZero ||
		c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("got CA %q IsCA=%v MaxPathLen=%d zero=%v usage=%b, want a path-length-0 signing CA named %q",
			c.Subject.CommonName, c.IsCA, c.MaxPathLen, c.MaxPathLenZero, c.KeyUsage, CAName)
	}
	if years := c.NotAfter.Sub(c.NotBefore).Hours() / 24 / 365; years < 9.9 || years > 10.1 {
		t.Errorf("got validity of %.1f years, want 10", years)
	}

	before, _ := os.ReadFile(keyPath)
	if _, _, err := InitCA(dir); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("got %v from a second InitCA, want a refusal to overwrite", err)
	}
	if after, _ := os.ReadFile(keyPath); string(after) != string(before) {
		t.Error("got the key file changed by a refused InitCA, want it untouched")
	}
}

func TestInitCARefusesWhenOnlyOneFileExists(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, CertFile), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := InitCA(dir); err == nil {
		t.Fatal("got no error, want a refusal")
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got a key file left behind (%v), want none", err)
	}
}

func TestLoadCARejects(t *testing.T) {
	dir := t.TempDir()
	certA, keyA, err := InitCA(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	_, keyB, err := InitCA(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	leafDir := filepath.Join(dir, "leaf")
	os.Mkdir(leafDir, 0o700)
	ca, err := LoadCA(certA, keyA)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Certificate("leaf.test")
	if err != nil {
		t.Fatal(err)
	}
	leafCert := filepath.Join(leafDir, "leaf.crt")
	os.WriteFile(leafCert, pemCert(leaf.Certificate[0]), 0o644)

	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"missing cert", filepath.Join(dir, "nope.crt"), keyA, "reading ca certificate"},
		{"mismatched key", certA, keyB, "loading ca"},
		{"not a ca", leafCert, keyA, "loading ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCA(tc.cert, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestNewCARejectsExpired(t *testing.T) {
	certPath, keyPath, err := InitCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := os.ReadFile(certPath)
	keyPEM, _ := os.ReadFile(keyPath)
	later := func() time.Time { return time.Now().Add(11 * 365 * 24 * time.Hour) }
	if _, err := NewCA(certPEM, keyPEM, Options{Now: later}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("got %v, want an expiry error", err)
	}
}

func TestLeafVerifies(t *testing.T) {
	ca := newTestCA(t, Options{})
	for _, tc := range []struct {
		host, verifyAs string
	}{
		{"api.example.test", "api.example.test"},
		{"API.Example.Test.", "api.example.test"},
		{"my_service.internal.test", "my_service.internal.test"},
		{"127.0.0.1", "127.0.0.1"},
		{"::1", "::1"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"::ffff:10.0.0.1", "10.0.0.1"},
	} {
		t.Run(tc.host, func(t *testing.T) {
			cert, err := ca.Certificate(tc.host)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cert.Leaf.Verify(x509.VerifyOptions{
				DNSName:   tc.verifyAs,
				Roots:     pool(ca),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				t.Errorf("got %v, want the leaf to verify for %q", err, tc.verifyAs)
			}
			if err := cert.Leaf.VerifyHostname("other.test"); err == nil {
				t.Error("got the leaf valid for other.test, want only its own host")
			}
			if d := time.Until(cert.Leaf.NotAfter); d < 23*time.Hour || d > 25*time.Hour {
				t.Errorf("got %s of validity left, want about 24h", d)
			}
			if !cert.Leaf.NotBefore.Before(time.Now().Add(-time.Minute)) {
				t.Errorf("got NotBefore %s, want it backdated", cert.Leaf.NotBefore)
			}
		})
	}
}

func TestCertificateRejectsBadHosts(t *testing.T) {
	ca := newTestCA(t, Options{})
	for _, host := range []string{"", "*.example.test", "a..b", "-a.test", "a b.test", "fe80::1%eth0", strings.Repeat("a", 64) + ".test", "host:443"} {
		t.Run(host, func(t *testing.T) {
			if _, err := ca.Certificate(host); !errors.Is(err, ErrInvalidHost) {
				t.Errorf("got %v, want %v", err, ErrInvalidHost)
			}
		})
	}
}

func TestCacheReuseAndEviction(t *testing.T) {
	ca := newTestCA(t, Options{CacheSize: 2})
	get := func(host string) *tls.Certificate {
		t.Helper()
		c, err := ca.Certificate(host)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a1 := get("a.test")
	if a2 := get("A.test."); a2 != a1 {
		t.Error("got a new leaf for the same host, want the cached one")
	}
	get("b.test")
	get("a.test") // a is now the most recently used, so c evicts b
	get("c.test")
	if got := ca.cached(); got != 2 {
		t.Errorf("got %d cached, want 2", got)
	}
	minted := ca.minted.Load()
	if get("a.test") != a1 {
		t.Error("got a re-minted leaf for a.test, want it kept as recently used")
	}
	get("b.test")
	if got, want := ca.minted.Load(), minted+1; got != want {
		t.Errorf("got %d mints, want %d (only the evicted b.test minted again)", got, want)
	}
}

func TestCacheRenewsNearExpiry(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	ca := newTestCA(t, Options{Now: func() time.Time { return time.Unix(0, now.Load()) }})
	first, err := ca.Certificate("a.test")
	if err != nil {
		t.Fatal(err)
	}
	now.Add(int64(13 * time.Hour))
	second, err := ca.Certificate("a.test")
	if err != nil {
		t.Fatal(err)
	}
	if second == first || !second.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Error("got the old leaf 13h later, want a fresh one")
	}
	if got := ca.cached(); got != 1 {
		t.Errorf("got %d cached, want 1", got)
	}
}

func TestConcurrentCallersMintOnce(t *testing.T) {
	ca := newTestCA(t, Options{})
	const callers = 50
	var wg sync.WaitGroup
	certs := make([]*tls.Certificate, callers)
	start := make(chan struct{})
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c, err := ca.Certificate("same.test")
			if err != nil {
				t.Error(err)
			}
			certs[i] = c
		}()
	}
	close(start)
	wg.Wait()
	if got := ca.minted.Load(); got != 1 {
		t.Errorf("got %d mints, want 1", got)
	}
	for i, c := range certs {
		if c != certs[0] {
			t.Errorf("caller %d got a different leaf, want the shared one", i)
		}
	}
}

// handshake runs a TLS handshake over loopback TCP between a server with cfg and a client that
// trusts only ca, and returns the client's error and the leaf it saw.
func handshake(t *testing.T, ca *CA, cfg *tls.Config, serverName string) (*x509.Certificate, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s := tls.Server(c, cfg)
		defer s.Close()
		if s.Handshake() == nil {
			io.Copy(s, s) // echo until the client closes
		}
	}()
	defer func() { <-served }()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(raw, &tls.Config{RootCAs: pool(ca), ServerName: serverName, NextProtos: []string{"h2", "http/1.1"}})
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		return nil, err
	}
	if got := c.ConnectionState().NegotiatedProtocol; got != "http/1.1" {
		t.Errorf("got ALPN %q, want http/1.1", got)
	}
	fmt.Fprint(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Errorf("got echo %q (%v), want ping", buf, err)
	}
	return c.ConnectionState().PeerCertificates[0], nil
}

func TestTLSHandshake(t *testing.T) {
	ca := newTestCA(t, Options{})
	for _, tc := range []struct {
		name       string
		cfg        *tls.Config
		serverName string // the client sends it as SNI unless it is an IP address
		wantErr    bool
	}{
		{"sni", ca.TLSConfig(), "api.example.test", false},
		{"no sni", ca.TLSConfig(), "127.0.0.1", true},
		{"connect host without sni", ca.ForHost("127.0.0.1"), "127.0.0.1", false},
		{"connect host with matching sni", ca.ForHost("API.example.test"), "api.example.test", false},
		{"connect host with other sni", ca.ForHost("api.example.test"), "evil.test", true},
		{"client expects another name", ca.ForHost("api.example.test"), "127.0.0.1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf, err := handshake(t, ca, tc.cfg, tc.serverName)
			if tc.wantErr {
				if err == nil {
					t.Errorf("got a handshake, want it to fail")
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want a handshake", err)
			}
			if err := leaf.VerifyHostname(tc.serverName); err != nil {
				t.Errorf("got %v, want a leaf for %q", err, tc.serverName)
			}
		})
	}
}

func TestTrustInstructions(t *testing.T) {
	got := TrustInstructions("/etc/skipper/ca dir/ca.crt")
	for _, want := range []string{
		"update-ca-certificates", "update-ca-trust", "security add-trusted-cert",
		"--cacert", "SSL_CERT_FILE=", "NODE_EXTRA_CA_CERTS=", "REQUESTS_CA_BUNDLE=",
		"'/etc/skipper/ca dir/ca.crt'",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got instructions without %q:\n%s", want, got)
		}
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func BenchmarkCertificate(b *testing.B) {
	certPath, keyPath, err := InitCA(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ca, err := LoadCA(certPath, keyPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("mint", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := ca.Certificate(fmt.Sprintf("h%d.test", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := ca.Certificate("h1.test"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
