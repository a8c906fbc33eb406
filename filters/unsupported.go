package filters

import (
	"errors"
	"fmt"
)

// ErrNotSupported is wrapped by the errors of the filters that Skipper registers but this
// egress proxy deliberately leaves out, so that a route using one is told so instead of being
// told that the filter does not exist.
var ErrNotSupported = errors.New("not supported by this egress proxy")

// unsupportedFilters names the subsystem of each Skipper filter left out here: inbound
// authentication and authorization (OAuth2 tokeninfo, introspection, grant, OIDC, JWT, OPA,
// the authorization webhook, client certificates) guards a service against its clients, which
// an egress proxy does not do, and its listener asks for no client certificate; Lua scripts run
// code from route text; API usage monitoring feeds a Zalando-specific pipeline.
var unsupportedFilters = []struct {
	subsystem string
	names     []string
}{
	{"OAuth2 tokeninfo", []string{"oauthTokeninfoAnyScope", "oauthTokeninfoAllScope", "oauthTokeninfoAnyKV",
		"oauthTokeninfoAllKV", "oauthTokeninfoValidate", "forwardToken", "forwardTokenField"}},
	{"OAuth2 token introspection", []string{"oauthTokenintrospectionAnyClaims", "oauthTokenintrospectionAllClaims",
		"oauthTokenintrospectionAnyKV", "oauthTokenintrospectionAllKV", "secureOauthTokenintrospectionAnyClaims",
		"secureOauthTokenintrospectionAllClaims", "secureOauthTokenintrospectionAnyKV",
		"secureOauthTokenintrospectionAllKV"}},
	{"OAuth2 grant", []string{"oauthGrant", "grantCallback", "grantLogout", "grantClaimsQuery"}},
	{"OIDC", []string{"oauthOidcUserInfo", "oauthOidcAnyClaims", "oauthOidcAllClaims", "oidcClaimsQuery"}},
	{"JWT validation", []string{"jwtValidation", "jwtValidationKeys", "jwtMetrics"}},
	{"OPA", []string{"opaAuthorizeRequest", "opaAuthorizeRequestWithBody", "opaServeResponse",
		"opaServeResponseWithReqBody"}},
	{"authorization webhook", []string{"webhook"}},
	{"inbound client-certificate authentication", []string{"mtlsAuthn", "mtlsCN", "mtlsIssuerDN",
		"mtlsSanCIDR", "mtlsSanDNS", "mtlsSanIP", "mtlsSanURI", "tlsPassClientCertificates"}},
	{"Lua", []string{"lua"}},
	{"API usage monitoring", []string{"apiUsageMonitoring"}},
}

type unsupportedSpec struct{ name, subsystem string }

var _ Spec = (*unsupportedSpec)(nil)

// NewUnsupportedSpecs returns a spec for each filter of the subsystems Skipper has and this
// egress proxy leaves out (see ErrNotSupported). Their Create always fails, with "not
// supported by this egress proxy: NAME" and the subsystem, so their routes are left out.
func NewUnsupportedSpecs() []Spec {
	var specs []Spec
	for _, u := range unsupportedFilters {
		for _, name := range u.names {
			specs = append(specs, &unsupportedSpec{name: name, subsystem: u.subsystem})
		}
	}
	return specs
}

func (s *unsupportedSpec) Name() string { return s.name }

func (s *unsupportedSpec) Create([]any) (Filter, error) {
	return nil, fmt.Errorf("%w: %s (%s)", ErrNotSupported, s.name, s.subsystem)
}
