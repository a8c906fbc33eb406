package filters

import "net/http"

// BearerInjectorName is the route name of the filter that sets "Authorization: Bearer <secret>".
const BearerInjectorName = "bearerinjector"

const (
	headerAuthorization = "Authorization" // canonical, so it can index http.Header directly
	bearerPrefix        = "Bearer "
)

type bearerSpec struct{ src SecretSource }

type bearerFilter struct {
	src    SecretSource
	secret string
}

var (
	_ Spec       = (*bearerSpec)(nil)
	_ Filter     = (*bearerFilter)(nil)
	_ SecretUser = (*bearerFilter)(nil)
)

// NewBearerInjector returns the spec of bearerinjector(secretName), which replaces every
// Authorization header of the request with "Bearer " and the secret's current value, looked up
// in src on each request so that rotated secrets take effect at once.
//
// When the secret is missing, empty or unusable in a header, the filter removes the
// Authorization header and returns a *CredentialError, so the request is never forwarded with
// the client's own credential or none. src must not be nil; with a nil src every Create fails.
func NewBearerInjector(src SecretSource) Spec { return &bearerSpec{src: src} }

func (*bearerSpec) Name() string { return BearerInjectorName }

func (s *bearerSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(BearerInjectorName, args, 1, "secret name")
	if err != nil {
		return nil, err
	}
	if err := checkSecretName(BearerInjectorName, 1, "secret name", a[0]); err != nil {
		return nil, err
	}
	if s.src == nil {
		return nil, nilSourceError(BearerInjectorName)
	}
	return &bearerFilter{src: s.src, secret: a[0]}, nil
}

func (f *bearerFilter) Request(r *http.Request) error {
	v, err := secretValue(f.src, BearerInjectorName, f.secret)
	RecordCredentialUse(r, CredentialUse{Filter: BearerInjectorName, Secret: f.secret, Value: v, Err: err})
	if err != nil {
		// Fail closed: never let the client's own Authorization through in place of ours.
		delete(r.Header, headerAuthorization)
		return err
	}
	setHeader(r, headerAuthorization, joinValue(bearerPrefix, v, ""))
	return nil
}

// SecretNames returns the name of the secret the filter injects.
func (f *bearerFilter) SecretNames() []string { return []string{f.secret} }
