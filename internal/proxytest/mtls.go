package proxytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// CA issues client certificates for tests of mutual TLS.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// Pool trusts the CA alone.
	Pool *x509.CertPool
}

// NewCA returns a CA of its own, valid for a day.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(t),
		Subject:               pkix.Name{CommonName: "test client CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{cert: cert, key: key, Pool: pool}
}

func randSerial(t testing.TB) *big.Int {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	return serial
}

// ClientCertPEM issues a client certificate for cn and returns it and its key as PEM, and its
// serial number in decimal.
func (ca *CA) ClientCertPEM(t testing.TB, cn string) (certPEM, keyPEM []byte, serial string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(t),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM = pemPair(t, der, key)
	return certPEM, keyPEM, tmpl.SerialNumber.String()
}

// WriteClientCert issues a client certificate for cn, writes it to dir/name.crt and its key to
// dir/name.key (replacing what they held, certificate first), and returns the paths and the
// certificate's serial number.
func (ca *CA) WriteClientCert(t testing.TB, dir, name, cn string) (certFile, keyFile, serial string) {
	t.Helper()
	certPEM, keyPEM, serial := ca.ClientCertPEM(t, cn)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, serial
}

// MTLSBackend is an https backend, offering HTTP/2 and HTTP/1.1, that requires a client
// certificate of its CA and records which one each request came with.
type MTLSBackend struct {
	*httptest.Server
	// Roots trusts the backend's own certificate.
	Roots *x509.CertPool

	mu     sync.Mutex
	seen   []Seen
	closed map[string]bool // remote addresses of the connections closed
}

// Seen is a request an MTLSBackend received.
type Seen struct {
	Path   string
	Serial string // of the client certificate, in decimal
	Remote string // the connection's remote address
	Proto  string // "HTTP/1.1" or "HTTP/2.0"
	Resume bool   // the TLS session was resumed
}

// NewMTLSBackend starts an MTLSBackend trusting ca's client certificates; it answers 200.
func NewMTLSBackend(t testing.TB, ca *CA) *MTLSBackend {
	t.Helper()
	cert, roots := NewCert(t, "127.0.0.1", "localhost")
	b := &MTLSBackend{Roots: roots, closed: make(map[string]bool)}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := Seen{Path: r.URL.Path, Remote: r.RemoteAddr, Proto: r.Proto, Resume: r.TLS.DidResume}
		if len(r.TLS.PeerCertificates) > 0 {
			s.Serial = r.TLS.PeerCertificates[0].SerialNumber.String()
		}
		b.mu.Lock()
		b.seen = append(b.seen, s)
		b.mu.Unlock()
		w.Write([]byte(s.Serial)) //nolint:errcheck // the client reports
	}))
	b.EnableHTTP2 = true
	b.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes without a certificate fail, as they should
	b.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.Pool}
	b.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateClosed || s == http.StateHijacked {
			b.mu.Lock()
			b.closed[c.RemoteAddr().String()] = true
			b.mu.Unlock()
		}
	}
	b.StartTLS()
	t.Cleanup(b.Close)
	return b
}

// Seen returns the requests received so far.
func (b *MTLSBackend) Seen() []Seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Seen(nil), b.seen...)
}

// Closed reports whether the connection from remote has closed.
func (b *MTLSBackend) Closed(remote string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed[remote]
}
