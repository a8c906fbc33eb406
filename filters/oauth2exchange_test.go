package filters_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

const jwtType = "urn:ietf:params:oauth:token-type:jwt"

func TestOAuth2TokenExchangeBadArgs(t *testing.T) {
	m, _ := newManager(t, filtertest.Secrets{}, filters.TokenManagerOptions{})
	const u = "https://sts.test/token"
	testBadArgs(t, filters.NewOAuth2TokenExchange(m), []argsCase{
		{name: "no args", args: nil, want: "oauth2TokenExchange: want 3 to 7 string arguments " +
			"(token URL, subject token secret name, subject token type[, audience[, scopes[, client ID secret name[, " +
			"client secret secret name]]]]), got 0"},
		{name: "too many", args: []any{u, "/t", jwtType, "a", "s", "/id", "/sec", "x"}},
		{name: "fragment", args: []any{u + "#x", "/t", jwtType}},
		{name: "empty subject token", args: []any{u, "", jwtType},
			want: "oauth2TokenExchange: argument 2 (subject token secret name) must not be empty"},
		{name: "empty type", args: []any{u, "/t", ""},
			want: "oauth2TokenExchange: argument 3 (subject token type) must not be empty"},
		{name: "audience with LF", args: []any{u, "/t", jwtType, "a\n"}},
		{name: "bad scope", args: []any{u, "/t", jwtType, "", `"`},
			want: "oauth2TokenExchange: argument 5 (scopes) contains byte 0x22, which RFC 6749 §3.3 does not allow in a scope"},
		{name: "client ID without secret", args: []any{u, "/t", jwtType, "", "", "/id"},
			want: "oauth2TokenExchange: argument 7 (client secret secret name) is missing: the client ID and client secret come together"},
		{name: "empty client secret", args: []any{u, "/t", jwtType, "", "", "/id", ""}},
	})
	f := filtertest.Create(t, filters.NewOAuth2TokenExchange(m), u, "/t", jwtType, "", "", "/id", "/sec")
	if got := f.(filters.SecretUser).SecretNames(); !slices.Equal(got, []string{"/t", "/id", "/sec"}) {
		t.Errorf("got secret names %q, want subject token, client ID, client secret", got)
	}
}

// TestOAuth2TokenExchange: the endpoint gets RFC 8693's parameters, and HTTP Basic only when
// client secrets are given.
func TestOAuth2TokenExchange(t *testing.T) {
	tests := []struct {
		name     string
		args     []any // after token URL, subject token, type
		audience string
		scope    string
		client   [2]string
	}{
		{name: "subject token only"},
		{name: "audience and scopes", args: []any{"sts.amazonaws.test", "s3 sqs s3"}, audience: "sts.amazonaws.test",
			scope: "s3 sqs"},
		{name: "client", args: []any{"", "", "/s/id", "/s/secret"}, client: [2]string{"gw", canarySecret}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := newAuthServer(t, "tok-", 3600)
			as.setSubjects("sa-token-1")
			as.setAudience(tc.audience)
			as.client = tc.client
			src := filtertest.Secrets{"/s/sa": "sa-token-1", "/s/id": "gw", "/s/secret": canarySecret}
			m, _ := newManager(t, src, filters.TokenManagerOptions{})
			f := filtertest.Create(t, filters.NewOAuth2TokenExchange(m),
				append([]any{as.TokenURL(), "/s/sa", jwtType}, tc.args...)...)
			got, err := authorization(t, f)
			if err != nil || !slices.Equal(got, []string{"Bearer tok-1"}) {
				t.Fatalf("got %q, %v; want Bearer tok-1 (server saw %+v)", got, err, as.Calls())
			}
			c := as.Calls()[0]
			if got := c.form.Get("scope"); got != tc.scope {
				t.Errorf("got scope %q, want %q", got, tc.scope)
			}
			if got := c.form.Get("requested_token_type"); got != "urn:ietf:params:oauth:token-type:access_token" {
				t.Errorf("got requested_token_type %q, want access_token", got)
			}
			if c.form.Has("client_id") || c.form.Has("client_secret") {
				t.Errorf("got client credentials in the form %v, want them only in HTTP Basic", c.form)
			}
		})
	}
}

// TestOAuth2TokenExchangeSubjectRotation: a token got with one subject token is not used once
// the subject token has changed, though it is still valid: the next request exchanges the
// new one. When that exchange fails, the old token, still valid, is used.
func TestOAuth2TokenExchangeSubjectRotation(t *testing.T) {
	as := newAuthServer(t, "tok-", 3600)
	as.setSubjects("sa-token-1", "sa-token-2")
	src := filtertest.Secrets{"/s/sa": "sa-token-1"}
	m, _ := newManager(t, src, filters.TokenManagerOptions{})
	f := filtertest.Create(t, filters.NewOAuth2TokenExchange(m), as.TokenURL(), "/s/sa", jwtType)

	steps := []struct {
		name     string
		do       func()
		want     string
		subjects []string // subject tokens the endpoint has seen
	}{
		{"first token", func() {}, "Bearer tok-1", []string{"sa-token-1"}},
		{"same subject: cached", func() {}, "Bearer tok-1", []string{"sa-token-1"}},
		{"subject rotated: exchanged again", func() { src.Set("/s/sa", "sa-token-2") }, "Bearer tok-2",
			[]string{"sa-token-1", "sa-token-2"}},
		{"new subject refused: the valid token stays", func() { src.Set("/s/sa", "sa-token-3") }, "Bearer tok-2",
			[]string{"sa-token-1", "sa-token-2", "sa-token-3"}},
		{"subject file gone: the valid token stays", func() { src.Delete("/s/sa") }, "Bearer tok-2",
			[]string{"sa-token-1", "sa-token-2", "sa-token-3"}},
	}
	for _, s := range steps {
		s.do()
		got, err := authorization(t, f)
		if err != nil || !slices.Equal(got, []string{s.want}) {
			t.Fatalf("%s: got %q, %v; want %s", s.name, got, err, s.want)
		}
		var seen []string
		for _, c := range as.Calls() {
			seen = append(seen, c.form.Get("subject_token"))
		}
		if !slices.Equal(seen, s.subjects) {
			t.Errorf("%s: endpoint saw subject tokens %q, want %q", s.name, seen, s.subjects)
		}
	}
}

// TestOAuth2TokenExchangeThroughProxy: an EKS/GKE-style route in the real proxy with the
// subject token in a file that rotates: the request after the rotation carries a token
// exchanged for the new subject token, long before the old one expires.
func TestOAuth2TokenExchangeThroughProxy(t *testing.T) {
	const sa1, sa2 = "CANARY-sa-token-one", "CANARY-sa-token-two"
	dir := t.TempDir()
	subject := filepath.Join(dir, "token")
	writeFile(t, subject, sa1)
	as := newAuthServer(t, canaryToken+"-", 3600)
	as.setSubjects(sa1, sa2)
	as.setAudience("//iam.googleapis.test/projects/1/pools/p/providers/k8s")
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: Host("api.test") -> oauth2TokenExchange(%q, %q, %q, %q, "cloud-platform") -> "http://%s";`,
		as.TokenURL(), subject, jwtType, "//iam.googleapis.test/projects/1/pools/p/providers/k8s", backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})

	tokenSeen := func() string {
		res, _ := p.Do(t, "GET", "api.test", "/x", "Authorization", "Bearer client-own")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("got status %d, want 200", res.StatusCode)
		}
		return strings.TrimPrefix(backend.Last(t).Header.Get("Authorization"), "Bearer ")
	}
	if got := tokenSeen(); got != canaryToken+"-1" {
		t.Fatalf("backend got a token of %d bytes, want the first issued", len(got))
	}
	writeFile(t, subject, sa2)
	poll.Until(t, 5*time.Second, "a request carrying the token exchanged for the new subject token", func() bool {
		return tokenSeen() == canaryToken+"-2"
	})
	calls := as.Calls()
	if len(calls) != 2 || calls[1].form.Get("subject_token") != sa2 {
		t.Errorf("got %d exchanges, want 2, the second with the new subject token", len(calls))
	}
	checkNotContains(t, "log", p.Log(), canaryToken, sa1, sa2)
}

// TestOAuth2ClientSecretRotationThroughProxy: a client secret rewritten on disk is used by the
// next token request: with short-lived tokens, requests soon carry a token the server issued
// only to the new secret.
func TestOAuth2ClientSecretRotationThroughProxy(t *testing.T) {
	dir := t.TempDir()
	for name, v := range map[string]string{"sa": "sa-token-1", "id": "gw", "secret": canarySecret + "-old"} {
		writeFile(t, filepath.Join(dir, name), v)
	}
	as := newAuthServer(t, canaryToken+"-", 1) // refreshed every 0.8 s
	as.setSubjects("sa-token-1")
	as.client = [2]string{"gw", canarySecret + "-old"}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: Host("api.test") -> oauth2TokenExchange(%q, %q, %q, "", "", %q, %q) -> "http://%s";`,
		as.TokenURL(), filepath.Join(dir, "sa"), jwtType, filepath.Join(dir, "id"), filepath.Join(dir, "secret"), backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})
	if res, _ := p.Do(t, "GET", "api.test", "/x"); res.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200", res.StatusCode)
	}

	as.mu.Lock()
	as.client = [2]string{"gw", canarySecret + "-new"} // the server has the new secret only
	as.mu.Unlock()
	writeFile(t, filepath.Join(dir, "secret"), canarySecret+"-new")
	poll.Until(t, 10*time.Second, "a request carrying a token got with the new client secret", func() bool {
		res, _ := p.Do(t, "GET", "api.test", "/x")
		if res.StatusCode != http.StatusOK {
			return false
		}
		tok := strings.TrimPrefix(backend.Last(t).Header.Get("Authorization"), "Bearer ")
		for _, c := range as.Calls() {
			if c.token == tok {
				return c.secret == canarySecret+"-new"
			}
		}
		return false
	})
	checkNotContains(t, "log", p.Log(), canarySecret, canaryToken)
}
