package filters_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
)

// testKey is a private key in one PEM encoding, with its public key for verifying.
type testKey struct {
	pem string
	pub crypto.PublicKey
	alg string
}

var (
	rsaKeys = sync.OnceValue(func() [2]*rsa.PrivateKey { return [2]*rsa.PrivateKey{genRSA(2048), genRSA(2048)} })
	ecKeys  = sync.OnceValue(func() [2]*ecdsa.PrivateKey {
		return [2]*ecdsa.PrivateKey{genEC(elliptic.P256()), genEC(elliptic.P256())}
	})
)

func genRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func genEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pkcs8(t testing.TB, k any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func sec1(t testing.TB, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("EC PRIVATE KEY", der)
}

// rsaKey and ecKey return the i-th (0 or 1) test key, PKCS#1 and SEC1 encoded.
func rsaKey(i int) testKey {
	k := rsaKeys()[i]
	return testKey{pem: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k)), pub: &k.PublicKey, alg: "RS256"}
}

func ecKey(t testing.TB, i int) testKey {
	k := ecKeys()[i]
	return testKey{pem: sec1(t, k), pub: &k.PublicKey, alg: "ES256"}
}

// verifyJWT checks a compact JWS the way an authorization server does, with the standard
// library only (independent of the signer): the header's alg, the signature over
// header.payload with pub. It returns the header and the claims.
func verifyJWT(token string, pub crypto.PublicKey) (header, claims map[string]any, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("got %d parts, want 3", len(parts))
	}
	raw := make([][]byte, 3)
	for i, p := range parts {
		if raw[i], err = base64.RawURLEncoding.DecodeString(p); err != nil {
			return nil, nil, fmt.Errorf("part %d: %w", i, err)
		}
	}
	if err := json.Unmarshal(raw[0], &header); err != nil {
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	if err := json.Unmarshal(raw[1], &claims); err != nil {
		return nil, nil, fmt.Errorf("claims: %w", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if header["alg"] != "RS256" {
			return nil, nil, fmt.Errorf("alg %v, want RS256", header["alg"])
		}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], raw[2]); err != nil {
			return nil, nil, fmt.Errorf("signature: %w", err)
		}
	case *ecdsa.PublicKey:
		if header["alg"] != "ES256" {
			return nil, nil, fmt.Errorf("alg %v, want ES256", header["alg"])
		}
		// RFC 7518 §3.4: R and S as two 32-byte big-endian numbers, not ASN.1.
		if len(raw[2]) != 64 {
			return nil, nil, fmt.Errorf("ES256 signature of %d bytes, want 64", len(raw[2]))
		}
		r, s := new(big.Int).SetBytes(raw[2][:32]), new(big.Int).SetBytes(raw[2][32:])
		if !ecdsa.Verify(pub, digest[:], r, s) {
			return nil, nil, errors.New("signature: ES256 verification failed")
		}
	default:
		return nil, nil, fmt.Errorf("unknown key type %T", pub)
	}
	return header, claims, nil
}
