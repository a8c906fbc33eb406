package filters_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
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

func TestOAuth2ClientCredentialsJWTBadArgs(t *testing.T) {
	m, _ := newManager(t, filtertest.Secrets{}, filters.TokenManagerOptions{})
	const u = "https://auth.test/token"
	testBadArgs(t, filters.NewOAuth2ClientCredentialsJWT(m), []argsCase{
		{name: "no args", args: nil, want: "oauth2ClientCredentialsJWT: want 3 to 5 string arguments " +
			"(token URL, client ID, private key secret name[, scopes[, audience]]), got 0"},
		{name: "too many", args: []any{u, "c", "/key", "a", "aud", "x"}},
		{name: "relative URL", args: []any{"/token", "c", "/key"},
			want: "oauth2ClientCredentialsJWT: argument 1 (token URL) must be an absolute http or https URL"},
		{name: "empty client ID", args: []any{u, "", "/key"},
			want: "oauth2ClientCredentialsJWT: argument 2 (client ID) must not be empty"},
		{name: "client ID with LF", args: []any{u, "c\n", "/key"}},
		{name: "empty key", args: []any{u, "c", ""},
			want: "oauth2ClientCredentialsJWT: argument 3 (private key secret name) must not be empty"},
		{name: "bad scope", args: []any{u, "c", "/key", "a\\b"},
			want: "oauth2ClientCredentialsJWT: argument 4 (scopes) contains byte 0x5c, which RFC 6749 §3.3 does not allow in a scope"},
	})
	f := filtertest.Create(t, filters.NewOAuth2ClientCredentialsJWT(m), u, "c", "/s/key")
	if got := f.(filters.SecretUser).SecretNames(); !slices.Equal(got, []string{"/s/key"}) {
		t.Errorf("got secret names %q, want the key's", got)
	}
}

// TestOAuth2ClientCredentialsJWT: the token endpoint gets a client-credentials request whose
// client assertion verifies with the client's public key and has the claims RFC 7523 asks
// for; every token request signs a new assertion (a reused jti would be refused).
func TestOAuth2ClientCredentialsJWT(t *testing.T) {
	tests := []struct {
		name     string
		key      testKey
		kid      string
		scopes   string
		audience string
	}{
		{name: "RSA", key: rsaKey(0)},
		{name: "EC with kid and scopes", key: ecKey(t, 0), kid: "key-7", scopes: "write read"},
		{name: "audience", key: ecKey(t, 1), audience: "https://issuer.test/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := newAuthServer(t, "tok-", 3600)
			as.setKeys("client-1", tc.key.pub)
			as.setAudience(tc.audience)
			src := filtertest.Secrets{"/s/key": tc.key.pem}
			if tc.kid != "" {
				src.Set("/s/key.kid", tc.kid)
			}
			m, _ := newManager(t, src, filters.TokenManagerOptions{})
			f := filtertest.Create(t, filters.NewOAuth2ClientCredentialsJWT(m), as.TokenURL(), "client-1", "/s/key",
				tc.scopes, tc.audience)
			got, err := authorization(t, f)
			if err != nil {
				t.Fatalf("Request: %v (server saw %+v)", err, as.Calls())
			}
			if want := []string{"Bearer tok-1"}; !slices.Equal(got, want) {
				t.Errorf("got Authorization %q, want %q", got, want)
			}
			c := as.Calls()[0]
			if c.header["kid"] != nilIfEmpty(tc.kid) || c.header["alg"] != tc.key.alg {
				t.Errorf("got header %v, want alg %s and kid %q", c.header, tc.key.alg, tc.kid)
			}
			if want := strings.Join(slices.Sorted(slices.Values(strings.Fields(tc.scopes))), " "); c.form.Get("scope") != want {
				t.Errorf("got scope %q, want %q", c.form.Get("scope"), want)
			}
			if c.form.Has("audience") {
				t.Error("got an audience parameter, want the audience only in the assertion")
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestOAuth2ClientCredentialsJWTNewAssertionEachTime: a second token request carries a new
// assertion, which the server accepts, while the first one replayed by hand is refused.
func TestOAuth2ClientCredentialsJWTNewAssertionEachTime(t *testing.T) {
	as := newAuthServer(t, "tok-", 2)
	as.setKeys("client-1", rsaKey(0).pub)
	clock := newFakeClock()
	// The server checks iat and exp against real time, allowing 5 s of skew: the fake clock
	// starts at now and moves 2 s.
	clock.Set(time.Now())
	m, _ := newManager(t, filtertest.Secrets{"/s/key": rsaKey(0).pem}, filters.TokenManagerOptions{Now: clock.Now})
	f := filtertest.Create(t, filters.NewOAuth2ClientCredentialsJWT(m), as.TokenURL(), "client-1", "/s/key")
	for i, want := range []string{"Bearer tok-1", "Bearer tok-2"} {
		if got, err := authorization(t, f); err != nil || got[0] != want {
			t.Fatalf("request %d: got %q, %v; want %s", i, got, err, want)
		}
		clock.Advance(2 * time.Second) // expired: the next request fetches again
	}
	calls := as.Calls()
	if calls[0].claims["jti"] == calls[1].claims["jti"] {
		t.Errorf("two token requests used the same jti %v", calls[0].claims["jti"])
	}
	status, body := postForm(t, as.TokenURL(), calls[0].form)
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("replaying the first request got %d %v, want 401 invalid_client", status, body)
	}
}

// TestOAuth2ClientCredentialsJWTBadKey: a key that does not parse fails closed with an error
// naming its path; the endpoint is not called.
func TestOAuth2ClientCredentialsJWTBadKey(t *testing.T) {
	as := newAuthServer(t, "tok-", 60)
	m, logs := newManager(t, filtertest.Secrets{"/s/key": canarySecret}, filters.TokenManagerOptions{})
	f := filtertest.Create(t, filters.NewOAuth2ClientCredentialsJWT(m), as.TokenURL(), "client-1", "/s/key")
	got, err := authorization(t, f)
	var te *filters.TokenError
	if !errors.As(err, &te) || len(got) != 0 {
		t.Fatalf("got %q, %v; want no Authorization and a *TokenError", got, err)
	}
	want := `oauth2ClientCredentialsJWT: credential unavailable: token endpoint "` + as.TokenURL() +
		`": secret "/s/key": not PEM: want a PEM private key (PKCS#1, PKCS#8 or SEC1)`
	if err.Error() != want {
		t.Errorf("got error\n\t%s\nwant\n\t%s", err, want)
	}
	if n := len(as.Calls()); n != 0 {
		t.Errorf("endpoint got %d requests, want none", n)
	}
	checkNotContains(t, "log", logs.String(), canarySecret)
	if !strings.Contains(logs.String(), "grant=\"client_credentials (private_key_jwt)\"") {
		t.Errorf("log does not name the grant:\n%s", logs.String())
	}
}

// TestOAuth2ClientCredentialsJWTThroughProxy runs the filter in the real proxy with the key in
// a file: the backend gets the token; a key rotated on disk signs the next token request; the
// log holds no key, assertion or token.
func TestOAuth2ClientCredentialsJWTThroughProxy(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "client.pem")
	writeFile(t, keyPath, rsaKey(0).pem)
	as := newAuthServer(t, canaryToken+"-", 1) // short-lived: refreshed every 0.8 s
	// The operator registers the new key with the server before rotating the file.
	as.setKeys("proxy-client", rsaKey(0).pub, ecKey(t, 1).pub)
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: Host("api.test") -> oauth2ClientCredentialsJWT(%q, "proxy-client", %q, "read") -> "http://%s";`,
		as.TokenURL(), keyPath, backend.Addr()), proxytest.Options{CredentialsPaths: []string{dir}})

	res, _ := p.Do(t, "GET", "api.test", "/x", "Authorization", "Bearer client-own")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200", res.StatusCode)
	}
	if got := backend.Last(t).Header.Get("Authorization"); !strings.HasPrefix(got, "Bearer "+canaryToken+"-") {
		t.Fatalf("backend got Authorization of %d bytes, want an issued token", len(got))
	}
	if c := as.Calls()[0]; c.keyIndex != 0 {
		t.Fatalf("first assertion verified with key %d, want the first key", c.keyIndex)
	}

	writeFile(t, keyPath, ecKey(t, 1).pem)
	poll.Until(t, 10*time.Second, "a request carrying a token got with the rotated key", func() bool {
		res, _ := p.Do(t, "GET", "api.test", "/x")
		if res.StatusCode != http.StatusOK {
			return false
		}
		tok := strings.TrimPrefix(backend.Last(t).Header.Get("Authorization"), "Bearer ")
		for _, c := range as.Calls() {
			if c.token == tok {
				return c.keyIndex == 1
			}
		}
		return false
	})

	canaries := []string{canaryToken, "PRIVATE KEY", keyBody(rsaKey(0).pem), keyBody(ecKey(t, 1).pem)}
	for _, c := range as.Calls() {
		canaries = append(canaries, c.form.Get("client_assertion"))
	}
	checkNotContains(t, "log", p.Log(), canaries...)
}

// keyBody returns a line from the middle of a PEM key, which must appear nowhere.
func keyBody(pem string) string {
	lines := strings.Split(pem, "\n")
	return lines[len(lines)/2]
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	// Write and rename, as Kubernetes and most rotation tools do, so the store never reads a
	// half-written key.
	tmp := filepath.Join(t.TempDir(), "new")
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
