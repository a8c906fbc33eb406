// Package mitm terminates TLS for CONNECT destinations that a route intercepts: it holds a
// local certificate authority and mints leaf certificates for the requested hosts on the fly.
package mitm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// CAName is the common name of a CA that InitCA writes.
	CAName = "skipper local egress CA"
	// CertFile and KeyFile are the file names InitCA writes in its directory.
	CertFile = "ca.crt"
	KeyFile  = "ca.key"

	caValidity = 10 * 365 * 24 * time.Hour
	// backdate moves NotBefore into the past so that clients whose clock runs a little behind
	// still accept a certificate minted a moment ago.
	backdate = time.Hour
)

// InitCA writes a new CA to dir (created with mode 0700 if missing): an ECDSA P-256 key in
// KeyFile (PKCS #8, mode 0600) and a self-signed certificate in CertFile (mode 0644), valid for
// ten years and allowed to sign leaf certificates only (MaxPathLen 0). It refuses to overwrite
// either file and leaves nothing behind when it fails.
func InitCA(dir string) (certPath, keyPath string, err error) {
	certPath, keyPath = filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s already exists: refusing to overwrite it", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
	}
	certPEM, keyPEM, err := newCA(time.Now())
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	if err := writeNew(keyPath, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(certPath, certPEM, 0o644); err != nil {
		os.Remove(keyPath)
		return "", "", err
	}
	return certPath, keyPath, nil
}

// newCA returns the PEM of a new self-signed CA certificate and its key.
func newCA(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating ca key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: CAName, Organization: []string{"skipper"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating ca certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding ca key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeNew creates path with data and perm, failing if it exists (O_EXCL closes the gap
// between InitCA's check and the write).
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}

// LoadCA reads a CA certificate and its private key from PEM files (the -ca-cert and -ca-key
// flags) and returns a CA with default Options. Errors name the files, never key material.
func LoadCA(certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("reading ca certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading ca key: %w", err)
	}
	ca, err := NewCA(certPEM, keyPEM, Options{})
	if err != nil {
		return nil, fmt.Errorf("loading ca from %s and %s: %w", certPath, keyPath, err)
	}
	return ca, nil
}

// parseCA checks that certPEM and keyPEM are a matching pair (any key type crypto/tls reads:
// PKCS #8, SEC 1 EC, PKCS #1 RSA) and that the certificate may sign certificates now.
func parseCA(certPEM, keyPEM []byte, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls's messages describe the PEM structure, not the key's content.
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, nil, err
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("ca key of type %T cannot sign", pair.PrivateKey)
	}
	switch {
	case !cert.BasicConstraintsValid || !cert.IsCA:
		return nil, nil, errors.New("certificate is not a ca")
	case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return nil, nil, errors.New("ca certificate may not sign certificates (no certSign key usage)")
	case now.After(cert.NotAfter):
		return nil, nil, fmt.Errorf("ca certificate expired at %s", cert.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(cert.NotBefore):
		return nil, nil, fmt.Errorf("ca certificate not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
	}
	return cert, signer, nil
}

// TrustInstructions explains how to make common systems and clients trust the CA certificate at
// certPath; `skipper ca init` prints it.
func TrustInstructions(certPath string) string {
	abs, err := filepath.Abs(certPath)
	if err != nil {
		abs = certPath
	}
	q := shellQuote(abs)
	var b strings.Builder
	fmt.Fprintf(&b, "Wrote the CA certificate %s; keep the key next to it private.\n", abs)
	b.WriteString("Clients must trust this certificate before skipper can intercept their TLS.\n\n")
	b.WriteString("System-wide:\n")
	fmt.Fprintf(&b, "  Debian, Ubuntu:  sudo cp %s /usr/local/share/ca-certificates/skipper-egress-ca.crt && sudo update-ca-certificates\n", q)
	fmt.Fprintf(&b, "  RHEL, Fedora:    sudo cp %s /etc/pki/ca-trust/source/anchors/skipper-egress-ca.crt && sudo update-ca-trust\n", q)
	fmt.Fprintf(&b, "  Alpine:          sudo cp %s /usr/local/share/ca-certificates/skipper-egress-ca.crt && sudo update-ca-certificates\n", q)
	fmt.Fprintf(&b, "  macOS:           sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s\n", q)
	b.WriteString("\nPer client (these replace the default bundle unless noted, so for public hosts\n")
	b.WriteString("point them at a bundle that holds both the system CAs and this one):\n")
	fmt.Fprintf(&b, "  curl:            curl --cacert %s ...\n", q)
	fmt.Fprintf(&b, "  Go:              SSL_CERT_FILE=%s\n", q)
	fmt.Fprintf(&b, "  Node.js:         NODE_EXTRA_CA_CERTS=%s   (added to the defaults)\n", q)
	fmt.Fprintf(&b, "  Python requests: REQUESTS_CA_BUNDLE=%s\n", q)
	fmt.Fprintf(&b, "  OpenSSL-based:   SSL_CERT_FILE=%s\n", q)
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	if strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
