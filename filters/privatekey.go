package filters

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
	"github.com/skipper-egress/skipper/secrets"
)

// kidSuffix is appended to a private key's secret name to find its optional key ID.
const kidSuffix = ".kid"

// minRSABits is the smallest RSA key that signs: RFC 7518 §3.3 requires 2048 bits for RS256.
const minRSABits = 2048

// signingKey is a private key that signs JWT assertions: RS256 with an RSA key, ES256 with an
// EC P-256 key. It never prints its key.
type signingKey struct {
	method jwt.SigningMethod
	key    crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey
	kid    string        // the "kid" header, or empty
}

// Format writes "[redacted key]" for every verb, so the key never ends up in a log line.
func (signingKey) Format(f fmt.State, _ rune) { f.Write([]byte("[redacted key]")) }

// loadSigningKey reads the PEM private key in the secret name, and its key ID from the secret
// name+".kid" when that exists, at the time of the call, so that a rotated key is used at the
// next token request. On failure it returns a *CredentialError that names the secret and says
// what is wrong, never quoting the file's bytes.
func loadSigningKey(src SecretSource, filter, name string) (*signingKey, error) {
	v, err := secretValueBytes(src, filter, name)
	if err != nil {
		return nil, err
	}
	k, reason := parsePrivateKeyPEM(v)
	if reason != "" {
		return nil, &CredentialError{Filter: filter, SecretName: name, Reason: reason}
	}
	kidName := name + kidSuffix
	kid, err := src.Get(kidName)
	switch {
	case errors.Is(err, secrets.ErrNotFound):
		return k, nil // no key ID: the server tries its keys for the client
	case err != nil:
		return nil, &CredentialError{Filter: filter, SecretName: kidName, Reason: "lookup failed: " + err.Error(), Err: err}
	case len(kid) == 0:
		return nil, &CredentialError{Filter: filter, SecretName: kidName, Reason: "empty value"}
	}
	if i := httpsyntax.InvalidValueByte(kid); i >= 0 {
		return nil, &CredentialError{Filter: filter, SecretName: kidName, Reason: controlReason(kid[i])}
	}
	k.kid = string(kid)
	return k, nil
}

// parsePrivateKeyPEM finds the first private key block of data, skipping others (OpenSSL puts
// "EC PARAMETERS" ahead of an EC key, some tools a certificate), and parses it. reason says
// what is wrong when it cannot be used; it names formats and sizes only, never key material.
func parsePrivateKeyPEM(data []byte) (_ *signingKey, reason string) {
	rest := data
	sawPEM := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		if _, encrypted := b.Headers["DEK-Info"]; encrypted || b.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, "the private key is encrypted: give it unencrypted, the file is the secret"
		}
		var key any
		var err error
		switch b.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			// The parser's own text can describe the bytes it choked on; name the format only.
			return nil, fmt.Sprintf("PEM block %q does not parse as a %s private key", b.Type, blockFormat(b.Type))
		}
		return signingKeyOf(key)
	}
	if !sawPEM {
		return nil, "not PEM: want a PEM private key (PKCS#1, PKCS#8 or SEC1)"
	}
	return nil, `no PEM private key block: want "RSA PRIVATE KEY", "EC PRIVATE KEY" or "PRIVATE KEY"`
}

func blockFormat(typ string) string {
	switch typ {
	case "RSA PRIVATE KEY":
		return "PKCS#1 RSA"
	case "EC PRIVATE KEY":
		return "SEC1 EC"
	}
	return "PKCS#8"
}

// signingKeyOf picks the JWS algorithm for a parsed key.
func signingKeyOf(key any) (*signingKey, string) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return nil, fmt.Sprintf("RSA key of %d bits: RS256 needs at least %d (RFC 7518 §3.3)", bits, minRSABits)
		}
		return &signingKey{method: jwt.SigningMethodRS256, key: k}, ""
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, "EC key on curve " + k.Curve.Params().Name + ": only P-256 (ES256) is supported"
		}
		return &signingKey{method: jwt.SigningMethodES256, key: k}, ""
	default:
		return nil, fmt.Sprintf("%s key: only RSA (RS256) and EC P-256 (ES256) keys are supported",
			strings.TrimPrefix(fmt.Sprintf("%T", key), "*"))
	}
}

// sign returns the compact JWS of claims signed with k, with k's key ID in the header.
func (k *signingKey) sign(claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(k.method, claims)
	if k.kid != "" {
		t.Header["kid"] = k.kid
	}
	s, err := t.SignedString(k.key)
	if err != nil {
		// The signers' errors name the algorithm or the key type, never the key.
		return "", fmt.Errorf("signing the assertion with %s: %w", k.method.Alg(), err)
	}
	return s, nil
}
