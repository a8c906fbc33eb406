package filters

import "net/http"

// SetRequestHeaderFromSecretName is the route name of the filter that sets a request header to a
// secret's value, with an optional prefix and suffix.
const SetRequestHeaderFromSecretName = "setRequestHeaderFromSecret"

type secretHeaderSpec struct{ src SecretSource }

type secretHeaderFilter struct {
	src    SecretSource
	header string // canonical
	secret string
	prefix string
	suffix string
}

var (
	_ Spec       = (*secretHeaderSpec)(nil)
	_ Filter     = (*secretHeaderFilter)(nil)
	_ SecretUser = (*secretHeaderFilter)(nil)
)

// NewSetRequestHeaderFromSecret returns the spec of
// setRequestHeaderFromSecret(header, secretName[, prefix[, suffix]]), which replaces every
// instance of header with prefix + the secret's current value + suffix, looked up in src on each
// request. The header name must be a valid token; it may not be Host, which is not a header in
// Go and would silently not carry the credential. prefix and suffix may not contain control
// characters.
//
// When the secret is missing, empty or unusable in a header, the filter removes the header and
// returns a *CredentialError, so the request is never forwarded with the client's own value or
// none. src must not be nil; with a nil src every Create fails.
func NewSetRequestHeaderFromSecret(src SecretSource) Spec { return &secretHeaderSpec{src: src} }

func (*secretHeaderSpec) Name() string { return SetRequestHeaderFromSecretName }

func (s *secretHeaderSpec) Create(args []any) (Filter, error) {
	const name = SetRequestHeaderFromSecretName
	a, err := stringArgs(name, args, 2, "header name", "secret name", "prefix", "suffix")
	if err != nil {
		return nil, err
	}
	var prefix, suffix string
	if len(a) > 2 {
		prefix = a[2]
	}
	if len(a) > 3 {
		suffix = a[3]
	}
	if err := checkHeaderName(name, 1, a[0]); err != nil {
		return nil, err
	}
	header := http.CanonicalHeaderKey(a[0])
	if header == headerHost {
		return nil, argsErrorf("%s: argument 1 (header name) cannot be Host", name)
	}
	if err := checkSecretName(name, 2, "secret name", a[1]); err != nil {
		return nil, err
	}
	if err := checkHeaderText(name, 3, "prefix", prefix); err != nil {
		return nil, err
	}
	if err := checkHeaderText(name, 4, "suffix", suffix); err != nil {
		return nil, err
	}
	if s.src == nil {
		return nil, nilSourceError(name)
	}
	return &secretHeaderFilter{src: s.src, header: header, secret: a[1], prefix: prefix, suffix: suffix}, nil
}

func (f *secretHeaderFilter) Request(r *http.Request) error {
	v, err := secretValue(f.src, SetRequestHeaderFromSecretName, f.secret)
	RecordCredentialUse(r, CredentialUse{Filter: SetRequestHeaderFromSecretName, Secret: f.secret, Value: v, Err: err})
	if err != nil {
		delete(r.Header, f.header)
		return err
	}
	setHeader(r, f.header, joinValue(f.prefix, v, f.suffix))
	return nil
}

// SecretNames returns the name of the secret the filter injects.
func (f *secretHeaderFilter) SecretNames() []string { return []string{f.secret} }
