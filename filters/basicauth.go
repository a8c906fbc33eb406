package filters

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/skipper-egress/skipper/secrets"
)

// BasicAuthFromSecretName is the route name of the filter that sets
// "Authorization: Basic base64(user:password)" from two secrets.
const BasicAuthFromSecretName = "basicAuthFromSecret"

const basicPrefix = "Basic "

type basicSpec struct{ src SecretSource }

type basicFilter struct {
	src      SecretSource
	user     string // secret names
	password string
}

var (
	_ Spec       = (*basicSpec)(nil)
	_ Filter     = (*basicFilter)(nil)
	_ SecretUser = (*basicFilter)(nil)
)

// NewBasicAuthFromSecret returns the spec of basicAuthFromSecret(userSecret, passwordSecret),
// which replaces every Authorization header with HTTP Basic credentials (RFC 7617) built from
// the current values of the two secrets, looked up in src on each request.
//
// Both values must be non-empty and free of control characters, and the user name may not
// contain a colon, which RFC 7617 §2 forbids because it would move the split into the password.
// Otherwise the filter removes the Authorization header and returns a *CredentialError naming
// the first unusable secret. src must not be nil; with a nil src every Create fails.
func NewBasicAuthFromSecret(src SecretSource) Spec { return &basicSpec{src: src} }

func (*basicSpec) Name() string { return BasicAuthFromSecretName }

func (s *basicSpec) Create(args []any) (Filter, error) {
	const name = BasicAuthFromSecretName
	a, err := stringArgs(name, args, 2, "user secret name", "password secret name")
	if err != nil {
		return nil, err
	}
	if err := checkSecretName(name, 1, "user secret name", a[0]); err != nil {
		return nil, err
	}
	if err := checkSecretName(name, 2, "password secret name", a[1]); err != nil {
		return nil, err
	}
	if s.src == nil {
		return nil, nilSourceError(name)
	}
	return &basicFilter{src: s.src, user: a[0], password: a[1]}, nil
}

func (f *basicFilter) Request(r *http.Request) error {
	user, password, err := f.credentials()
	if err != nil {
		RecordCredentialUse(r, CredentialUse{Filter: BasicAuthFromSecretName, Secret: f.password, Err: err})
		delete(r.Header, headerAuthorization)
		return err
	}
	v := basicValue(user, password)
	RecordCredentialUse(r, CredentialUse{Filter: BasicAuthFromSecretName, Secret: f.password, Value: password, Also: v[len(basicPrefix):]})
	setHeader(r, headerAuthorization, v)
	return nil
}

// SecretNames returns the names of the user and password secrets.
func (f *basicFilter) SecretNames() []string { return []string{f.user, f.password} }

func (f *basicFilter) credentials() (user, password secrets.Secret, err error) {
	user, err = secretValue(f.src, BasicAuthFromSecretName, f.user)
	if err != nil {
		return nil, nil, err
	}
	if bytes.IndexByte(user, ':') >= 0 {
		return nil, nil, &CredentialError{Filter: BasicAuthFromSecretName, SecretName: f.user,
			Reason: "user name contains a colon"}
	}
	password, err = secretValue(f.src, BasicAuthFromSecretName, f.password)
	if err != nil {
		return nil, nil, err
	}
	return user, password, nil
}

// basicValue returns "Basic " + base64(user ":" password). The plain text is encoded in chunks
// through a small stack buffer, so the only heap allocation is the returned string and the
// joined credentials are never copied to the heap.
func basicValue(user, password secrets.Secret) string {
	enc := base64.StdEncoding
	var sb strings.Builder
	sb.Grow(len(basicPrefix) + enc.EncodedLen(len(user)+1+len(password)))
	sb.WriteString(basicPrefix)
	w := b64Writer{sb: &sb}
	w.write(user)
	w.write([]byte{':'})
	w.write(password)
	w.flush()
	return sb.String()
}

// b64Writer base64-encodes a stream into a strings.Builder, 48 bytes at a time. 48 is a
// multiple of 3, so only the final flush can produce padding.
type b64Writer struct {
	sb  *strings.Builder
	in  [48]byte
	n   int
	out [64]byte
}

func (w *b64Writer) write(p []byte) {
	for len(p) > 0 {
		c := copy(w.in[w.n:], p)
		w.n += c
		p = p[c:]
		if w.n == len(w.in) {
			w.flush()
		}
	}
}

func (w *b64Writer) flush() {
	enc := base64.StdEncoding
	enc.Encode(w.out[:], w.in[:w.n])
	w.sb.Write(w.out[:enc.EncodedLen(w.n)])
	w.n = 0
}
