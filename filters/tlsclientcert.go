package filters

import (
	"net/http"
	"sync"

	"github.com/sirupsen/logrus"
)

// TLSClientCertFromSecretsName is the route name of the filter that gives the route's backend
// connections a client certificate (mutual TLS).
const TLSClientCertFromSecretsName = "tlsClientCertFromSecrets"

type tlsClientCertSpec struct {
	src SecretSource
	log logrus.FieldLogger

	mu      sync.Mutex
	sources map[[2]string]*ClientCertSource // by certificate and key secret
}

type tlsClientCertFilter struct {
	*ClientCertSource
	cert, key string
}

var (
	_ Spec            = (*tlsClientCertSpec)(nil)
	_ Filter          = (*tlsClientCertFilter)(nil)
	_ SecretUser      = (*tlsClientCertFilter)(nil)
	_ ClientCertifier = (*tlsClientCertFilter)(nil)
)

// NewTLSClientCertFromSecrets returns the spec of tlsClientCertFromSecrets(certSecret,
// keySecret): the route's connections to https backends present the certificate and key, PEM
// secrets of src read as they rotate. The proxy gives them connections and TLS sessions of
// their own (see ClientCertifier). Routes naming the same two secrets share one source, so
// they share their connections, also across route table reloads.
//
// With a secret missing or empty, or a pair that never loaded, the filter fails the request as
// bearerinjector does (503); a pair that stops loading keeps the one before. log receives the
// failed reloads, by path. src must not be nil; with a nil src every Create fails.
func NewTLSClientCertFromSecrets(src SecretSource, log logrus.FieldLogger) Spec {
	return &tlsClientCertSpec{src: src, log: log, sources: make(map[[2]string]*ClientCertSource)}
}

func (*tlsClientCertSpec) Name() string { return TLSClientCertFromSecretsName }

func (s *tlsClientCertSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(TLSClientCertFromSecretsName, args, 2, "certificate secret", "key secret")
	if err != nil {
		return nil, err
	}
	for i, what := range []string{"certificate secret", "key secret"} {
		if err := checkSecretName(TLSClientCertFromSecretsName, i+1, what, a[i]); err != nil {
			return nil, err
		}
	}
	if s.src == nil {
		return nil, nilSourceError(TLSClientCertFromSecretsName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{a[0], a[1]}
	src := s.sources[k]
	if src == nil {
		if src, err = NewClientCertSource(s.src, TLSClientCertFromSecretsName, a[:1], a[1:], s.log); err != nil {
			return nil, err
		}
		s.sources[k] = src
	}
	return &tlsClientCertFilter{ClientCertSource: src, cert: a[0], key: a[1]}, nil
}

// Request fails the request when the route has no usable certificate, so that it is counted and
// answered as any unavailable credential; the proxy presents the certificate when it connects.
func (f *tlsClientCertFilter) Request(*http.Request) error {
	_, err := f.ClientIdentity()
	return err
}

// SecretNames returns the names of the certificate and key secrets.
func (f *tlsClientCertFilter) SecretNames() []string { return []string{f.cert, f.key} }
