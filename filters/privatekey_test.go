package filters_test

import (
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/secrets"
)

// TestSigningKeyFormats: RSA keys in PKCS#1 and PKCS#8 sign RS256, P-256 keys in SEC1 (with
// or without OpenSSL's EC PARAMETERS block) and PKCS#8 sign ES256, and the signature verifies
// with the public key; the key ID comes from the ".kid" secret when there is one.
func TestSigningKeyFormats(t *testing.T) {
	rk, ek := rsaKeys()[0], ecKeys()[0]
	ecParams := pemBlock("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})
	tests := []struct {
		name, pem, alg string
		pub            any
		kid            string
	}{
		{"RSA PKCS#1", rsaKey(0).pem, "RS256", &rk.PublicKey, ""},
		{"RSA PKCS#8", pkcs8(t, rk), "RS256", &rk.PublicKey, "rsa-2026"},
		{"EC SEC1", sec1(t, ek), "ES256", &ek.PublicKey, ""},
		{"EC SEC1 after EC PARAMETERS", ecParams + sec1(t, ek), "ES256", &ek.PublicKey, "ec-1"},
		{"EC PKCS#8", pkcs8(t, ek), "ES256", &ek.PublicKey, ""},
		{"CRLF line ends", strings.ReplaceAll(sec1(t, ek), "\n", "\r\n"), "ES256", &ek.PublicKey, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := filtertest.Secrets{"/s/key": tc.pem}
			if tc.kid != "" {
				src.Set("/s/key.kid", tc.kid)
			}
			jws, err := filters.SignAssertion(src, "/s/key", map[string]any{"iss": "me", "n": 1})
			if err != nil {
				t.Fatalf("SignAssertion: %v", err)
			}
			header, claims, err := verifyJWT(jws, tc.pub)
			if err != nil {
				t.Fatalf("the assertion does not verify with the public key: %v", err)
			}
			if header["alg"] != tc.alg || header["typ"] != "JWT" {
				t.Errorf("got header %v, want alg %s, typ JWT", header, tc.alg)
			}
			if kid, ok := header["kid"]; tc.kid == "" && ok || tc.kid != "" && kid != tc.kid {
				t.Errorf("got kid %v (present: %v), want %q", kid, ok, tc.kid)
			}
			if claims["iss"] != "me" || claims["n"] != 1.0 {
				t.Errorf("got claims %v, want iss me, n 1", claims)
			}
		})
	}
}

// TestSigningKeyErrors: a key that cannot sign gives a CredentialError naming the secret and
// what is wrong, never a byte of the file.
func TestSigningKeyErrors(t *testing.T) {
	const canaryKey = "CANARYKEYBYTES"
	garbage := pemBlock("RSA PRIVATE KEY", []byte(canaryKey))
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384 := genEC(elliptic.P384())
	small := genRSA(1024)
	encrypted := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n" +
		base64.StdEncoding.EncodeToString([]byte(canaryKey)) + "\n-----END RSA PRIVATE KEY-----\n"
	tests := []struct {
		name, secret, kid, want string
	}{
		{name: "missing", want: `test: credential unavailable: secret "/s/key": not found`},
		{name: "empty", secret: "", want: `secret "/s/key": empty value`},
		{name: "not PEM", secret: canaryKey, want: `secret "/s/key": not PEM: want a PEM private key (PKCS#1, PKCS#8 or SEC1)`},
		{name: "garbage in PEM", secret: garbage,
			want: `secret "/s/key": PEM block "RSA PRIVATE KEY" does not parse as a PKCS#1 RSA private key`},
		{name: "garbage PKCS#8", secret: pemBlock("PRIVATE KEY", []byte(canaryKey)),
			want: `does not parse as a PKCS#8 private key`},
		{name: "garbage SEC1", secret: pemBlock("EC PRIVATE KEY", []byte(canaryKey)),
			want: `does not parse as a SEC1 EC private key`},
		{name: "certificate only", secret: pemBlock("CERTIFICATE", []byte(canaryKey)),
			want: `no PEM private key block: want "RSA PRIVATE KEY", "EC PRIVATE KEY" or "PRIVATE KEY"`},
		{name: "encrypted", secret: encrypted, want: "the private key is encrypted"},
		{name: "encrypted PKCS#8", secret: pemBlock("ENCRYPTED PRIVATE KEY", []byte(canaryKey)), want: "the private key is encrypted"},
		{name: "RSA 1024", secret: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)),
			want: "RSA key of 1024 bits: RS256 needs at least 2048 (RFC 7518 §3.3)"},
		{name: "P-384", secret: pkcs8(t, p384), want: "EC key on curve P-384: only P-256 (ES256) is supported"},
		{name: "Ed25519", secret: pkcs8(t, ed), want: "ed25519.PrivateKey key: only RSA (RS256) and EC P-256 (ES256) keys are supported"},
		{name: "empty kid", secret: rsaKey(0).pem, kid: "", want: `secret "/s/key.kid": empty value`},
		{name: "kid with CR", secret: rsaKey(0).pem, kid: "k\r", want: `secret "/s/key.kid": value contains control character 0x0d`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := filtertest.Secrets{}
			if tc.name != "missing" {
				src.Set("/s/key", tc.secret)
			}
			if strings.Contains(tc.name, "kid") {
				src.Set("/s/key.kid", tc.kid)
			}
			jws, err := filters.SignAssertion(src, "/s/key", map[string]any{"iss": "me"})
			if err == nil {
				t.Fatalf("got assertion of %d bytes and no error, want an error", len(jws))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %q, want it to contain %q", err, tc.want)
			}
			var ce *filters.CredentialError
			if !errors.As(err, &ce) || !errors.Is(err, filters.ErrCredentialUnavailable) {
				t.Errorf("got %T, want a *CredentialError wrapping ErrCredentialUnavailable", err)
			}
			checkNotContains(t, "error", err.Error(), canaryKey, "MII", base64.StdEncoding.EncodeToString([]byte(canaryKey)))
		})
	}
}

// TestSigningKeyRotation reads keys through the secrets store: a rewritten key file is used
// at the next signature, and a broken one fails closed until it is fixed.
func TestSigningKeyRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(rsaKey(0).pem)
	store, err := secrets.NewStore(secrets.Options{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		content string
		pub     any
	}{
		{"first key", rsaKey(0).pem, rsaKey(0).pub},
		{"rotated to EC", ecKey(t, 1).pem, ecKey(t, 1).pub},
		{"broken", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", nil},
		{"fixed", rsaKey(1).pem, rsaKey(1).pub},
	}
	for _, s := range steps {
		write(s.content)
		store.Refresh()
		jws, err := filters.SignAssertion(store, path, map[string]any{"iss": "me"})
		if s.pub == nil {
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("%s: got error %v, want one naming %s", s.name, err, path)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if _, _, err := verifyJWT(jws, s.pub); err != nil {
			t.Fatalf("%s: does not verify with the new key: %v", s.name, err)
		}
	}
}
