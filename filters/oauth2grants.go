package filters

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/skipper-egress/skipper/secrets"
)

// OAuth2ClientCredentialsJWTName is the route name of the filter that sets
// "Authorization: Bearer <token>" with a token from the client-credentials grant, the client
// authenticating with a JWT signed by its private key.
const OAuth2ClientCredentialsJWTName = "oauth2ClientCredentialsJWT"

// OAuth2JWTBearerName is the route name of the filter that sets "Authorization: Bearer
// <token>" with a token from the JWT-bearer grant, as Google service accounts use.
const OAuth2JWTBearerName = "oauth2JwtBearer"

// OAuth2TokenExchangeName is the route name of the filter that sets "Authorization: Bearer
// <token>" with a token from the token-exchange grant, as Kubernetes workloads trade their
// service-account token for a cloud token.
const OAuth2TokenExchangeName = "oauth2TokenExchange"

// RFC 7523 names.
const (
	clientAssertionTypeJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	grantTypeJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	grantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange" // RFC 8693
	tokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
)

// assertionLifetime is how long a signed assertion is valid. RFC 7523 §3 lets the server
// reject one that lives "unreasonably far in the future"; five minutes is what most servers
// accept and covers the token request's timeout many times over.
const assertionLifetime = 5 * time.Minute

// grantKind is how a filter gets its token: which grant, and how the client authenticates.
type grantKind uint8

const (
	grantClientCredentials    grantKind = iota // RFC 6749 §4.4, HTTP Basic
	grantClientCredentialsJWT                  // RFC 6749 §4.4, private_key_jwt (RFC 7523 §2.2)
	grantJWTBearer                             // RFC 7523 §2.1
	grantTokenExchange                         // RFC 8693
	grantRefreshToken                          // RFC 6749 §6
)

// filterName is the route name of the grant's filter.
func (g grantKind) filterName() string {
	switch g {
	case grantClientCredentialsJWT:
		return OAuth2ClientCredentialsJWTName
	case grantJWTBearer:
		return OAuth2JWTBearerName
	case grantTokenExchange:
		return OAuth2TokenExchangeName
	case grantRefreshToken:
		return OAuth2RefreshTokenName
	}
	return OAuth2ClientCredentialsName
}

// String returns the grant as log lines name it.
func (g grantKind) String() string {
	switch g {
	case grantClientCredentialsJWT:
		return "client_credentials (private_key_jwt)"
	case grantJWTBearer:
		return grantTypeJWTBearer
	case grantTokenExchange:
		return grantTypeTokenExchange
	case grantRefreshToken:
		return "refresh_token"
	}
	return "client_credentials"
}

// parseArgs checks the arguments of the grant's filter and returns the token's key.
func (g grantKind) parseArgs(args []any) (tokenKey, error) {
	switch g {
	case grantClientCredentialsJWT:
		return clientCredentialsJWTArgs(args)
	case grantJWTBearer:
		return jwtBearerArgs(args)
	case grantTokenExchange:
		return tokenExchangeArgs(args)
	case grantRefreshToken:
		return refreshTokenArgs(args)
	}
	return clientCredentialsArgs(args)
}

// secretNames returns the secrets k's grant reads, in argument order.
func (k tokenKey) secretNames() []string {
	switch k.grant {
	case grantClientCredentialsJWT, grantJWTBearer:
		return []string{k.privateKey}
	case grantTokenExchange:
		if k.clientID == "" {
			return []string{k.subjectToken}
		}
		return []string{k.subjectToken, k.clientID, k.clientSecret}
	case grantRefreshToken:
		return []string{k.clientID, k.clientSecret, k.refreshToken}
	}
	return []string{k.clientID, k.clientSecret}
}

// authSecret returns the name of the secret that earns the grant its token, under which its
// uses are recorded (RecordCredentialUse): the private key that signs the assertions, the
// subject token of an exchange without client credentials, the client secret otherwise.
func (k tokenKey) authSecret() string {
	switch {
	case k.grant == grantClientCredentialsJWT || k.grant == grantJWTBearer:
		return k.privateKey
	case k.grant == grantTokenExchange && k.clientSecret == "":
		return k.subjectToken
	}
	return k.clientSecret
}

// NewOAuth2ClientCredentialsJWT returns the spec of
// oauth2ClientCredentialsJWT(tokenURL, clientID, privateKeySecret[, scopes[, audience]]),
// which works as oauth2ClientCredentials but authenticates the client with private_key_jwt
// (RFC 7523 §2.2, OpenID Connect Core §9): a JWT signed with the key in privateKeySecret, its
// iss and sub the client ID, its aud the audience or else the token URL, a unique jti, and an
// exp five minutes after its iat. Each token request signs a new assertion with the key read
// then. See loadSigningKey for the key formats.
func NewOAuth2ClientCredentialsJWT(m *TokenManager) Spec {
	return &oauth2Spec{m: m, grant: grantClientCredentialsJWT}
}

func clientCredentialsJWTArgs(args []any) (tokenKey, error) {
	const name = OAuth2ClientCredentialsJWTName
	a, err := stringArgs(name, args, 3, "token URL", "client ID", "private key secret name", "scopes", "audience")
	if err != nil {
		return tokenKey{}, err
	}
	if err := checkTokenURL(name, a[0]); err != nil {
		return tokenKey{}, err
	}
	if a[1] == "" {
		return tokenKey{}, argsErrorf("%s: argument 2 (client ID) must not be empty", name)
	}
	if err := checkHeaderText(name, 2, "client ID", a[1]); err != nil {
		return tokenKey{}, err
	}
	if err := checkSecretName(name, 3, "private key secret name", a[2]); err != nil {
		return tokenKey{}, err
	}
	k := tokenKey{grant: grantClientCredentialsJWT, tokenURL: a[0], client: a[1], privateKey: a[2]}
	return k, optionalScopesAudience(name, a, 4, &k)
}

// NewOAuth2JWTBearer returns the spec of
// oauth2JwtBearer(tokenURL, privateKeySecret, issuer, subject[, scopes[, audience]]), which
// works as oauth2ClientCredentials but gets its token with the JWT-bearer authorization grant
// (RFC 7523 §2.1), as Google service accounts do: grant_type
// urn:ietf:params:oauth:grant-type:jwt-bearer and an assertion signed with the key in
// privateKeySecret, with iss the issuer (a service account's email), sub the subject (a user
// to act for; left out when empty, as Google allows), aud the audience or else the token URL,
// the scopes in a "scope" claim as Google expects, a unique jti and an exp five minutes
// after its iat. The request carries no client authentication: the assertion is the grant.
func NewOAuth2JWTBearer(m *TokenManager) Spec { return &oauth2Spec{m: m, grant: grantJWTBearer} }

func jwtBearerArgs(args []any) (tokenKey, error) {
	const name = OAuth2JWTBearerName
	a, err := stringArgs(name, args, 4, "token URL", "private key secret name", "issuer", "subject", "scopes", "audience")
	if err != nil {
		return tokenKey{}, err
	}
	if err := checkTokenURL(name, a[0]); err != nil {
		return tokenKey{}, err
	}
	if err := checkSecretName(name, 2, "private key secret name", a[1]); err != nil {
		return tokenKey{}, err
	}
	if a[2] == "" {
		return tokenKey{}, argsErrorf("%s: argument 3 (issuer) must not be empty", name)
	}
	if err := checkHeaderText(name, 3, "issuer", a[2]); err != nil {
		return tokenKey{}, err
	}
	if err := checkHeaderText(name, 4, "subject", a[3]); err != nil {
		return tokenKey{}, err
	}
	k := tokenKey{grant: grantJWTBearer, tokenURL: a[0], privateKey: a[1], issuer: a[2], subject: a[3]}
	return k, optionalScopesAudience(name, a, 5, &k)
}

// NewOAuth2TokenExchange returns the spec of oauth2TokenExchange(tokenURL, subjectTokenSecret,
// subjectTokenType[, audience[, scopes[, clientIDSecret, clientSecretSecret]]]), which works
// as oauth2ClientCredentials but gets its token with the token-exchange grant (RFC 8693):
// grant_type urn:ietf:params:oauth:grant-type:token-exchange, the subject token read from
// subjectTokenSecret with its type (such as urn:ietf:params:oauth:token-type:jwt), a
// requested_token_type of access token, and the audience and scopes when given. With the two
// client secrets, the client authenticates with HTTP Basic; without, not at all.
//
// The subject token is typically a file that rotates, such as a Kubernetes projected
// service-account token. A token got with one subject token is not used once the file holds
// another: the next request exchanges the new one, and gets the old token only if that
// exchange fails while the old token is still valid.
func NewOAuth2TokenExchange(m *TokenManager) Spec {
	return &oauth2Spec{m: m, grant: grantTokenExchange}
}

func tokenExchangeArgs(args []any) (tokenKey, error) {
	const name = OAuth2TokenExchangeName
	a, err := stringArgs(name, args, 3, "token URL", "subject token secret name", "subject token type",
		"audience", "scopes", "client ID secret name", "client secret secret name")
	if err != nil {
		return tokenKey{}, err
	}
	if err := checkTokenURL(name, a[0]); err != nil {
		return tokenKey{}, err
	}
	if err := checkSecretName(name, 2, "subject token secret name", a[1]); err != nil {
		return tokenKey{}, err
	}
	if a[2] == "" {
		return tokenKey{}, argsErrorf("%s: argument 3 (subject token type) must not be empty", name)
	}
	if err := checkHeaderText(name, 3, "subject token type", a[2]); err != nil {
		return tokenKey{}, err
	}
	k := tokenKey{grant: grantTokenExchange, tokenURL: a[0], subjectToken: a[1], subjectTokenType: a[2]}
	if len(a) > 3 {
		if err := checkHeaderText(name, 4, "audience", a[3]); err != nil {
			return tokenKey{}, err
		}
		k.audience = a[3]
	}
	if len(a) > 4 {
		if k.scopes, err = normalizeScopes(name, 5, a[4]); err != nil {
			return tokenKey{}, err
		}
	}
	switch len(a) {
	case 6:
		return tokenKey{}, argsErrorf("%s: argument 7 (client secret secret name) is missing: "+
			"the client ID and client secret come together", name)
	case 7:
		if err := checkSecretName(name, 6, "client ID secret name", a[5]); err != nil {
			return tokenKey{}, err
		}
		if err := checkSecretName(name, 7, "client secret secret name", a[6]); err != nil {
			return tokenKey{}, err
		}
		k.clientID, k.clientSecret = a[5], a[6]
	}
	return k, nil
}

// grantRequest reads the secrets of e's grant and returns the token request to send. The
// client-credentials library sends any grant: its EndpointParams may replace grant_type.
//
// basis is the value of the secret the grant trades, for a grant whose token must not outlive
// it (the token exchange's subject token); nil for the others.
func (m *TokenManager) grantRequest(e *tokenEntry) (conf *clientcredentials.Config, basis secrets.Secret, _ error) {
	k := e.key
	conf = &clientcredentials.Config{TokenURL: k.tokenURL, Scopes: strings.Fields(k.scopes)}
	switch k.grant {
	case grantTokenExchange:
		subject, err := secretValue(m.secrets, k.grant.filterName(), k.subjectToken)
		if err != nil {
			return nil, nil, secretError(e, err)
		}
		conf.EndpointParams = url.Values{
			"grant_type":           {grantTypeTokenExchange},
			"subject_token":        {string(subject)},
			"subject_token_type":   {k.subjectTokenType},
			"requested_token_type": {tokenTypeAccessToken},
		}
		if k.audience != "" {
			conf.EndpointParams.Set("audience", k.audience)
		}
		conf.AuthStyle = oauth2.AuthStyleInParams // sends nothing without client credentials
		if k.clientID != "" {
			if err := m.clientCredentials(e, conf); err != nil {
				return nil, nil, err
			}
		}
		return conf, subject, nil
	case grantJWTBearer:
		var extra jwt.MapClaims
		if k.scopes != "" {
			// Google reads the scopes from the assertion and ignores a scope parameter.
			extra = jwt.MapClaims{"scope": k.scopes}
			conf.Scopes = nil
		}
		jws, err := m.assertion(e, k.issuer, k.subject, extra)
		if err != nil {
			return nil, nil, err
		}
		// No client_id or secret: AuthStyleInParams with none sends nothing.
		conf.AuthStyle = oauth2.AuthStyleInParams
		conf.EndpointParams = url.Values{"grant_type": {grantTypeJWTBearer}, "assertion": {jws}}
	case grantClientCredentialsJWT:
		jws, err := m.assertion(e, k.client, k.client, nil)
		if err != nil {
			return nil, nil, err
		}
		// RFC 7523 §2.2; client_id too, which RFC 6749 §3.2.1 has public clients send and
		// servers that look the key up by it (Keycloak, Okta) expect.
		conf.ClientID, conf.AuthStyle = k.client, oauth2.AuthStyleInParams
		conf.EndpointParams = url.Values{"client_assertion_type": {clientAssertionTypeJWT}, "client_assertion": {jws}}
	default:
		if err := m.clientCredentials(e, conf); err != nil {
			return nil, nil, err
		}
		if k.audience != "" {
			conf.EndpointParams = url.Values{"audience": {k.audience}}
		}
	}
	return conf, nil, nil
}

// clientCredentials reads the client ID and secret of e and has conf send them with HTTP
// Basic.
func (m *TokenManager) clientCredentials(e *tokenEntry, conf *clientcredentials.Config) error {
	k := e.key
	id, err := secretValue(m.secrets, k.grant.filterName(), k.clientID)
	if err != nil {
		return secretError(e, err)
	}
	secret, err := secretValue(m.secrets, k.grant.filterName(), k.clientSecret)
	if err != nil {
		return secretError(e, err)
	}
	conf.ClientID, conf.ClientSecret = string(id), string(secret)
	// RFC 6749 §2.3.1: servers must accept HTTP Basic. The library's default, auto-detect,
	// would repeat every failed request with the secret in the body.
	conf.AuthStyle = oauth2.AuthStyleInHeader
	return nil
}

// assertion returns a new JWT for e's token request, signed with the key read now: RFC 7523
// §3's claims, with aud the route's audience or else the token URL, and extra.
func (m *TokenManager) assertion(e *tokenEntry, iss, sub string, extra jwt.MapClaims) (string, error) {
	k := e.key
	key, err := loadSigningKey(m.secrets, k.grant.filterName(), k.privateKey)
	if err != nil {
		return "", secretError(e, err)
	}
	aud := k.audience
	if aud == "" {
		aud = k.tokenURL
	}
	now := m.now()
	claims := jwt.MapClaims{
		"iss": iss,
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
		"jti": newJTI(),
	}
	if sub != "" {
		claims["sub"] = sub
	}
	for c, v := range extra {
		claims[c] = v
	}
	jws, err := key.sign(claims)
	if err != nil {
		return "", e.tokenError(err.Error(), nil)
	}
	return jws, nil
}

// newJTI returns a random 128-bit JWT ID (RFC 7519 §4.1.7): the server rejects an assertion
// whose jti it has seen, so it must never repeat.
func newJTI() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
