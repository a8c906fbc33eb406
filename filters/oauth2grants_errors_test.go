package filters_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

// TestOAuth2GrantsHideCredentials: for every grant, an endpoint that refuses the request and
// echoes the credential it got in error_description gives an error and a log line with the
// token URL, the grant, the status and the error code, and none of the credentials: no key,
// assertion, subject token, refresh token or client secret.
func TestOAuth2GrantsHideCredentials(t *testing.T) {
	const subject, refresh = "CANARY-subject-token-31c9", "CANARY-refresh-token-8e0a"
	key := rsaKey(0)
	src := filtertest.Secrets{"/s/key": key.pem, "/s/sa": subject, "/s/rt": refresh,
		"/s/id": "client-id", "/s/secret": canarySecret}
	tests := []struct {
		name, grant string
		spec        func(*filters.TokenManager) filters.Spec
		args        []any // after the token URL
		echo        string
	}{
		{"client credentials JWT", "client_credentials (private_key_jwt)", filters.NewOAuth2ClientCredentialsJWT,
			[]any{"client-1", "/s/key"}, "client_assertion"},
		{"JWT bearer", "urn:ietf:params:oauth:grant-type:jwt-bearer", filters.NewOAuth2JWTBearer,
			[]any{"/s/key", "sa@p.test", ""}, "assertion"},
		{"token exchange", "urn:ietf:params:oauth:grant-type:token-exchange", filters.NewOAuth2TokenExchange,
			[]any{"/s/sa", jwtType, "", "", "/s/id", "/s/secret"}, "subject_token"},
		{"refresh token", "refresh_token", filters.NewOAuth2RefreshToken,
			[]any{"/s/id", "/s/secret", "/s/rt"}, "refresh_token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := newTokenEndpoint(t, canaryToken, 60)
			ep.setAnswer(func(w http.ResponseWriter, n int) string {
				got := ep.Calls()[n-1].form.Get(tc.echo)
				if got == "" {
					t.Errorf("the endpoint got no %s", tc.echo)
				}
				return answerStatus(400, "application/json", jsonBody(map[string]any{"error": "invalid_grant",
					"error_description": "rejected " + got, "access_token": canaryToken}))(w, n)
			})
			m, logs := newManager(t, src, filters.TokenManagerOptions{})
			f := filtertest.Create(t, tc.spec(m), append([]any{ep.URL + "/token"}, tc.args...)...)
			_, err := authorization(t, f)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			sent := ep.Calls()[0].form.Get(tc.echo)
			canaries := []string{sent, subject, refresh, canarySecret, canaryToken, "PRIVATE KEY", keyBody(key.pem)}
			for _, verb := range []string{"%v", "%+v", "%#v"} {
				checkNotContains(t, "error "+verb, fmt.Sprintf(verb, err), canaries...)
			}
			log := logs.String()
			checkNotContains(t, "log", log, canaries...)
			for _, want := range []string{"HTTP status 400 (invalid_grant), error_description withheld",
				`"grant":"` + tc.grant + `"`, `"token_url":"` + ep.URL + `/token"`} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %s:\n%s", want, log)
				}
			}
		})
	}
}
