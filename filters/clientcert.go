package filters

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/secrets"
)

// ClientCertifier gives backend connections a TLS client certificate (mutual TLS): the
// tlsClientCertFromSecrets filter for its route, and the ClientCertSource of -client-tls-cert for
// every https backend. The proxy keeps a separate pool of connections, and a separate TLS session
// cache, for each ClientIdentity it is handed, so that a connection opened with one identity
// never carries a request meant for another, and a session resumed without a certificate never
// stands in for one.
type ClientCertifier interface {
	// ClientIdentity returns the identity to present now: the same pointer while the files are
	// unchanged, a new one once they rotate. An error wraps ErrCredentialUnavailable and names
	// the files, never their content.
	ClientIdentity() (*ClientIdentity, error)
}

// ClientIdentity is a set of client certificates, as loaded once. It is never modified: a
// rotation makes a new one.
type ClientIdentity struct {
	// Key names where the identity comes from (its files); the connections of a Key are
	// replaced when a new ClientIdentity of that Key appears.
	Key string
	// Certificates are offered to the backend, the first that suits its request is presented.
	Certificates []tls.Certificate
}

// ClientCertSource reads certificate and key pairs through a SecretSource and parses them once
// per change of their values. A pair whose new values do not parse, as when the certificate file
// was replaced and its key not yet, keeps the identity loaded before, and the failure is logged
// with the files' paths. It is safe for concurrent use.
type ClientCertSource struct {
	src   SecretSource
	name  string   // who uses it, for errors: a filter's name or a flag
	paths []string // cert, key, cert, key…
	key   string
	log   logrus.FieldLogger

	mu  sync.Mutex // serializes loads
	cur atomic.Pointer[loadedIdentity]
}

// loadedIdentity is what the values vals, as the source returned them, gave: the identity (the
// last good one when they did not parse) or, when there never was one, the error.
type loadedIdentity struct {
	vals []secrets.Secret
	id   *ClientIdentity
	err  error
}

var _ ClientCertifier = (*ClientCertSource)(nil)

// NewClientCertSource returns a source of the pairs certFiles[i], keyFiles[i], secrets of src.
// name says who uses it in errors, such as "-client-tls-cert". It fails when the lists are empty
// or of different lengths; it reads nothing yet.
func NewClientCertSource(src SecretSource, name string, certFiles, keyFiles []string, log logrus.FieldLogger) (*ClientCertSource, error) {
	if len(certFiles) == 0 || len(certFiles) != len(keyFiles) {
		return nil, fmt.Errorf("%s: %d certificate files and %d key files, want one key for each certificate",
			name, len(certFiles), len(keyFiles))
	}
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	s := &ClientCertSource{src: src, name: name, log: log}
	var key strings.Builder
	key.WriteString(name)
	for i := range certFiles {
		s.paths = append(s.paths, certFiles[i], keyFiles[i])
		key.WriteString("\x00" + certFiles[i] + "\x00" + keyFiles[i])
	}
	s.key = key.String()
	return s, nil
}

// ClientIdentity returns the current identity. While the secrets' values are the ones last
// parsed it only compares them. A missing or empty secret is an error wrapping
// ErrCredentialUnavailable: no identity is presented rather than an outdated one.
func (s *ClientCertSource) ClientIdentity() (*ClientIdentity, error) {
	var buf [2]secrets.Secret
	vals := buf[:0]
	for _, p := range s.paths {
		v, err := secretValueBytes(s.src, s.name, p)
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
	}
	if c := s.cur.Load(); c != nil && sameValues(c.vals, vals) {
		return c.id, c.err
	}
	return s.load(vals)
}

// load parses vals, unless another caller has just done so.
func (s *ClientCertSource) load(vals []secrets.Secret) (*ClientIdentity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.cur.Load()
	if prev != nil && sameValues(prev.vals, vals) {
		return prev.id, prev.err
	}
	next := &loadedIdentity{vals: append([]secrets.Secret(nil), vals...)}
	id := &ClientIdentity{Key: s.key}
	for i := 0; i < len(vals); i += 2 {
		cert, err := tls.X509KeyPair(vals[i], vals[i+1])
		if err != nil {
			// The parser's errors describe the PEM blocks, never quote them.
			err = &CredentialError{Filter: s.name, SecretName: s.paths[i] + " and " + s.paths[i+1],
				Reason: "not a certificate and matching key: " + err.Error()}
			next.err = err
			break
		}
		id.Certificates = append(id.Certificates, cert)
	}
	switch {
	case next.err == nil:
		next.id = id
		if prev != nil {
			s.log.WithField("path", s.paths[0]).Infof("%s: client certificate loaded", s.name)
		}
	case prev != nil && prev.id != nil:
		s.log.WithError(next.err).Errorf("%s: client certificate not reloaded, keeping the previous one", s.name)
		next.id, next.err = prev.id, nil
	}
	s.cur.Store(next)
	return next.id, next.err
}

// sameValues reports whether a and b hold the same values. A secrets.Store hands out the same
// backing array for as long as a value is unchanged, so comparing pointers is enough for it;
// the bytes are compared for sources that copy.
func sameValues(a, b []secrets.Secret) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) || len(a[i]) == 0 {
			return false
		}
		if &a[i][0] != &b[i][0] && !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
