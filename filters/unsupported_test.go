package filters_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/routing"
)

// TestUnsupportedFilters compiles routes that use filters of the subsystems this proxy leaves
// out: each is left out with "not supported by this egress proxy: NAME", not "unknown
// filter", while a route beside them loads.
func TestUnsupportedFilters(t *testing.T) {
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{Secrets: filtertest.Secrets{}})...)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := routing.Parse("f.eskip", `
		ok: Path("/ok") -> status(204) -> <shunt>;
		tokeninfo: Path("/a") -> oauthTokeninfoAnyScope("uid") -> <shunt>;
		grant: Path("/b") -> oauthGrant() -> <shunt>;
		lua: Path("/c") -> lua("function request(c, p) end") -> <shunt>;
		opa: Path("/d") -> opaAuthorizeRequest("policy") -> <shunt>;
		jwt: Path("/e") -> jwtValidation("https://issuer.test") -> <shunt>;
		oidc: Path("/f") -> oauthOidcAnyClaims("https://issuer.test", "id", "secret", "https://cb.test", "", "") -> <shunt>;
		usage: Path("/g") -> apiUsageMonitoring("{}") -> <shunt>;
		webhook: Path("/h") -> webhook("https://auth.test/check") -> <shunt>;
		mtls: Path("/i") -> mtlsSanDNS("client.test") -> <shunt>;
		passcert: Path("/j") -> tlsPassClientCertificates() -> <shunt>;`)
	if err != nil {
		t.Fatal(err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
	if table.Len() != 1 {
		t.Errorf("got %d routes, want only ok", table.Len())
	}
	want := map[string]string{
		"tokeninfo": "oauthTokeninfoAnyScope (OAuth2 tokeninfo)", "grant": "oauthGrant (OAuth2 grant)",
		"lua": "lua (Lua)", "opa": "opaAuthorizeRequest (OPA)", "jwt": "jwtValidation (JWT validation)",
		"oidc": "oauthOidcAnyClaims (OIDC)", "usage": "apiUsageMonitoring (API usage monitoring)",
		"webhook":  "webhook (authorization webhook)",
		"mtls":     "mtlsSanDNS (inbound client-certificate authentication)",
		"passcert": "tlsPassClientCertificates (inbound client-certificate authentication)",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errs), len(want), errs)
	}
	for _, err := range errs {
		if !errors.Is(err, filters.ErrNotSupported) || errors.Is(err, routing.ErrUnknownFilter) {
			t.Errorf("got %v, want an error wrapping ErrNotSupported and not ErrUnknownFilter", err)
		}
		found := false
		for id, name := range want {
			if strings.Contains(err.Error(), `route "`+id+`"`) {
				found = true
				if w := "not supported by this egress proxy: " + name; !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to say %q", err, w)
				}
			}
		}
		if !found {
			t.Errorf("unexpected error %v", err)
		}
	}
}
