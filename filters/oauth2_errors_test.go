package filters_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

// Canaries: a client secret and tokens that must appear in no log line and no error.
const (
	canarySecret = "CANARY-client-secret-7c1e"
	canaryToken  = "CANARY-token-93ab"
)

func jsonBody(v map[string]any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestOAuth2EndpointErrors: every way a token endpoint can fail gives a *TokenError with a
// clear reason, no token, no body and no secret, and a log line with the reason.
func TestOAuth2EndpointErrors(t *testing.T) {
	const jsonType = "application/json"
	// Bodies echo the canaries, as a misbehaving endpoint might.
	echo := "client_secret=" + canarySecret + " access_token=" + canaryToken
	tests := []struct {
		name       string
		answer     func(http.ResponseWriter, int) string
		url        func(ep *tokenEndpoint) string // nil: the endpoint's URL
		reason     string                         // exact, or a prefix when it ends in "*"
		hang       bool                           // the endpoint never answers
		fetchLimit time.Duration
	}{
		{name: "401 invalid_client",
			answer: answerStatus(401, jsonType, jsonBody(map[string]any{"error": "invalid_client", "error_description": echo})),
			reason: "HTTP status 401 (invalid_client), error_description withheld: it could hold a credential"},
		{name: "400 invalid_grant, plain description",
			answer: answerStatus(400, jsonType, jsonBody(map[string]any{"error": "invalid_grant", "error_description": "Refresh token expired"})),
			reason: `HTTP status 400 (invalid_grant), error_description "Refresh token expired"`},
		{name: "description with a token-like word",
			answer: answerStatus(400, jsonType, jsonBody(map[string]any{"error": "invalid_request", "error_description": "bad value CANARY-0123456789abcdef0123"})),
			reason: "HTTP status 400 (invalid_request), error_description withheld: it could hold a credential"},
		{name: "description with a quote",
			answer: answerStatus(400, jsonType, jsonBody(map[string]any{"error": "invalid_request", "error_description": `say "CANARY"`})),
			reason: "HTTP status 400 (invalid_request), error_description withheld: it could hold a credential"},
		{name: "400 unregistered error code",
			answer: answerStatus(400, jsonType, jsonBody(map[string]any{"error": canarySecret})),
			reason: "HTTP status 400"},
		{name: "500 text", answer: answerStatus(500, "text/plain", echo), reason: "HTTP status 500"},
		{name: "500 no body", answer: answerStatus(500, "", ""), reason: "HTTP status 500"},
		{name: "200 HTML", answer: answerStatus(200, "text/html", "<html>"+echo), reason: "response is not a token response"},
		{name: "200 truncated JSON", answer: answerStatus(200, jsonType, `{"access_token":"`+canaryToken),
			reason: "response is not a token response"},
		{name: "200 no access_token",
			answer: answerStatus(200, jsonType, jsonBody(map[string]any{"token_type": "bearer", "note": echo})),
			reason: "response has no access_token"},
		{name: "200 with error code",
			answer: answerStatus(200, jsonType, jsonBody(map[string]any{"error": "invalid_scope", "access_token": canaryToken})),
			reason: "error response (invalid_scope)"},
		{name: "not a bearer token",
			answer: answerStatus(200, jsonType, jsonBody(map[string]any{"access_token": canaryToken, "token_type": "mac"})),
			reason: "token type is not bearer"},
		{name: "CRLF in token",
			answer: answerStatus(200, jsonType, jsonBody(map[string]any{"access_token": canaryToken + "\r\nX-Evil: 1", "token_type": "bearer"})),
			reason: "access token contains control character 0x0d"},
		{name: "redirect",
			answer: func(w http.ResponseWriter, _ int) string {
				w.Header().Set("Location", "http://127.0.0.1:1/elsewhere?"+echo)
				w.WriteHeader(http.StatusTemporaryRedirect)
				return ""
			},
			reason: "HTTP status 307"},
		{name: "unreachable",
			url: func(*tokenEndpoint) string {
				closed := newTokenEndpoint(t, "", 0)
				closed.Close()
				return closed.URL + "/token"
			},
			reason: "unreachable: *"},
		{name: "timeout", hang: true, fetchLimit: 100 * time.Millisecond, reason: "no response within 100ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := newTokenEndpoint(t, canaryToken, 60)
			ep.setAnswer(tc.answer)
			if tc.hang {
				t.Cleanup(ep.setHold()) // the handler waits for the client to give up
			}
			u := ep.URL + "/token?tenant=CANARY-query"
			if tc.url != nil {
				u = tc.url(ep)
			}
			m, logs := newManager(t, filtertest.Secrets{"/s/id": "client", "/s/secret": canarySecret},
				filters.TokenManagerOptions{FetchTimeout: tc.fetchLimit})
			f := filtertest.Create(t, filters.NewOAuth2ClientCredentials(m), u, "/s/id", "/s/secret")

			got, err := authorization(t, f)
			if got != nil {
				t.Errorf("got Authorization %q, want none", got)
			}
			var te *filters.TokenError
			if !errors.As(err, &te) || !errors.Is(err, filters.ErrCredentialUnavailable) {
				t.Fatalf("got error %v (%T), want a *TokenError wrapping ErrCredentialUnavailable", err, err)
			}
			if p, ok := strings.CutSuffix(tc.reason, "*"); ok && !strings.HasPrefix(te.Reason, p) ||
				!ok && te.Reason != tc.reason {
				t.Errorf("got reason %q, want %q", te.Reason, tc.reason)
			}
			if want, _, _ := strings.Cut(u, "?"); te.TokenURL != want {
				t.Errorf("got token URL %q, want %q", te.TokenURL, want)
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%q"} {
				checkNotContains(t, "error "+verb, fmt.Sprintf(verb, err), canarySecret, canaryToken, "CANARY")
			}
			log := logs.String()
			if want := strings.TrimSuffix(tc.reason, "*"); !strings.Contains(log, strings.ReplaceAll(want, `"`, `\"`)) {
				t.Errorf("log does not give the reason %q:\n%s", tc.reason, log)
			}
			checkNotContains(t, "log", log, canarySecret, canaryToken, "CANARY")
		})
	}
}

func TestOAuth2ErrorText(t *testing.T) {
	err := &filters.TokenError{TokenURL: "https://auth.test/token", Reason: "HTTP status 401 (invalid_client)"}
	want := `oauth2ClientCredentials: credential unavailable: token endpoint "https://auth.test/token": HTTP status 401 (invalid_client)`
	if got := err.Error(); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
