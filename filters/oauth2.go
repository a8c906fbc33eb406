package filters

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
)

// OAuth2ClientCredentialsName is the route name of the filter that sets
// "Authorization: Bearer <token>" with a token from the OAuth2 client-credentials grant.
const OAuth2ClientCredentialsName = "oauth2ClientCredentials"

// oauth2Spec is the spec of the OAuth2 filters: they differ in their grant and so in their
// arguments, and share the token manager and the filter.
type oauth2Spec struct {
	m     *TokenManager
	grant grantKind
}

type oauth2Filter struct {
	m     *TokenManager
	key   tokenKey
	dest  []*url.URL                 // the token URL: where the grant's secrets go
	entry atomic.Pointer[tokenEntry] // replaced when the manager has dropped it
}

var (
	_ Spec         = (*oauth2Spec)(nil)
	_ Filter       = (*oauth2Filter)(nil)
	_ SecretUser   = (*oauth2Filter)(nil)
	_ SecretSender = (*oauth2Filter)(nil)
)

// NewOAuth2ClientCredentials returns the spec of
// oauth2ClientCredentials(tokenURL, clientIDSecret, clientSecretSecret[, scopes[, audience]]),
// which replaces every Authorization header with "Bearer " and an access token that m gets
// from tokenURL with the client-credentials grant (RFC 6749 §4.4), authenticating with HTTP
// Basic and the current values of the two secrets. scopes is a space-separated list (RFC 6749
// §3.3); audience, when given, is sent as the "audience" parameter that Auth0 and others use.
//
// tokenURL must be an absolute http or https URL without user info or fragment. Routes with
// the same token URL, client ID secret, client secret secret, scopes (in any order) and
// audience share one token.
//
// When there is no valid token, because the endpoint is unreachable, answers an error, or a
// secret is unusable, the filter removes the Authorization header and returns a *TokenError,
// so the request is never forwarded with the client's own credential or none. m must not be
// nil; with a nil m every Create fails.
func NewOAuth2ClientCredentials(m *TokenManager) Spec {
	return &oauth2Spec{m: m, grant: grantClientCredentials}
}

func (s *oauth2Spec) Name() string { return s.grant.filterName() }

func (s *oauth2Spec) Create(args []any) (Filter, error) {
	k, err := s.grant.parseArgs(args)
	if err != nil {
		return nil, err
	}
	if s.m == nil {
		return nil, fmt.Errorf("%s: %w: no token manager configured", s.grant.filterName(), ErrCredentialUnavailable)
	}
	u, err := url.Parse(k.tokenURL) // checked by parseArgs
	if err != nil {
		return nil, argsErrorf("%s: argument 1 (token URL): %v", s.grant.filterName(), err)
	}
	f := &oauth2Filter{m: s.m, key: k, dest: []*url.URL{u}}
	f.entry.Store(s.m.register(k))
	return f, nil
}

// clientCredentialsArgs parses oauth2ClientCredentials' arguments.
func clientCredentialsArgs(args []any) (tokenKey, error) {
	const name = OAuth2ClientCredentialsName
	a, err := stringArgs(name, args, 3, "token URL", "client ID secret name", "client secret secret name",
		"scopes", "audience")
	if err != nil {
		return tokenKey{}, err
	}
	if err := checkTokenURL(name, a[0]); err != nil {
		return tokenKey{}, err
	}
	if err := checkSecretName(name, 2, "client ID secret name", a[1]); err != nil {
		return tokenKey{}, err
	}
	if err := checkSecretName(name, 3, "client secret secret name", a[2]); err != nil {
		return tokenKey{}, err
	}
	k := tokenKey{grant: grantClientCredentials, tokenURL: a[0], clientID: a[1], clientSecret: a[2]}
	return k, optionalScopesAudience(name, a, 4, &k)
}

// optionalScopesAudience sets k's scopes and audience from a's arguments scopesPos and
// scopesPos+1 (counting from 1) when they are there.
func optionalScopesAudience(name string, a []string, scopesPos int, k *tokenKey) error {
	var err error
	if len(a) >= scopesPos {
		if k.scopes, err = normalizeScopes(name, scopesPos, a[scopesPos-1]); err != nil {
			return err
		}
	}
	if len(a) > scopesPos {
		if err := checkHeaderText(name, scopesPos+1, "audience", a[scopesPos]); err != nil {
			return err
		}
		k.audience = a[scopesPos]
	}
	return nil
}

// checkTokenURL accepts an absolute http or https URL. Its errors do not quote the URL, which
// could hold a password in its user info.
func checkTokenURL(name, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return argsErrorf("%s: argument 1 (token URL) must be an absolute http or https URL", name)
	case u.User != nil:
		return argsErrorf("%s: argument 1 (token URL) must not contain user info: put credentials in secrets", name)
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return argsErrorf("%s: argument 1 (token URL) must not have a fragment", name)
	}
	return nil
}

// normalizeScopes splits a space-separated scope list, checks each scope against RFC 6749
// §3.3, and returns them sorted and without duplicates, so that the order in the route does
// not split the cache.
func normalizeScopes(name string, pos int, s string) (string, error) {
	scopes := strings.Fields(s)
	for _, sc := range scopes {
		for i := 0; i < len(sc); i++ {
			// scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
			if c := sc[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return "", argsErrorf("%s: argument %d (scopes) contains byte 0x%02x, which RFC 6749 §3.3 does not allow in a scope",
					name, pos, c)
			}
		}
	}
	slices.Sort(scopes)
	return strings.Join(slices.Compact(scopes), " "), nil
}

func (f *oauth2Filter) Request(r *http.Request) error {
	e := f.entry.Load()
	if e.dead.Load() {
		e = f.m.register(f.key)
		f.entry.Store(e)
	}
	t, err := f.m.token(r.Context(), e)
	if err != nil {
		RecordCredentialUse(r, CredentialUse{Filter: f.key.grant.filterName(), Secret: f.key.authSecret(), Err: err})
		// Fail closed: never let the client's own Authorization through in place of ours.
		delete(r.Header, headerAuthorization)
		return err
	}
	h := string(t.header)
	RecordCredentialUse(r, CredentialUse{Filter: f.key.grant.filterName(), Secret: f.key.authSecret(), Also: h[len(bearerPrefix):]})
	setHeader(r, headerAuthorization, h)
	return nil
}

// SecretDestinations returns the token URL, where the grant's secrets go.
func (f *oauth2Filter) SecretDestinations() []*url.URL { return f.dest }

// SecretNames returns the names of the secrets the filter's grant reads, in argument order.
func (f *oauth2Filter) SecretNames() []string { return f.key.secretNames() }
