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
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestOAuth2JWTBearerBadArgs(t *testing.T) {
	m, _ := newManager(t, filtertest.Secrets{}, filters.TokenManagerOptions{})
	const u = "https://oauth2.test/token"
	testBadArgs(t, filters.NewOAuth2JWTBearer(m), []argsCase{
		{name: "no args", args: nil, want: "oauth2JwtBearer: want 4 to 6 string arguments " +
			"(token URL, private key secret name, issuer, subject[, scopes[, audience]]), got 0"},
		{name: "three", args: []any{u, "/key", "sa@p.test"}},
		{name: "too many", args: []any{u, "/key", "sa@p.test", "", "s", "aud", "x"}},
		{name: "user info", args: []any{"https://u:p@oauth2.test/token", "/key", "sa@p.test", ""}},
		{name: "empty key", args: []any{u, "", "sa@p.test", ""},
			want: "oauth2JwtBearer: argument 2 (private key secret name) must not be empty"},
		{name: "empty issuer", args: []any{u, "/key", "", ""},
			want: "oauth2JwtBearer: argument 3 (issuer) must not be empty"},
		{name: "subject with CR", args: []any{u, "/key", "sa@p.test", "x\r"},
			want: "oauth2JwtBearer: argument 4 (subject) contains control character 0x0d"},
		{name: "bad scope", args: []any{u, "/key", "sa@p.test", "", "a\x7f"},
			want: "oauth2JwtBearer: argument 5 (scopes) contains byte 0x7f, which RFC 6749 §3.3 does not allow in a scope"},
		{name: "audience with LF", args: []any{u, "/key", "sa@p.test", "", "", "a\n"}},
	})
	f := filtertest.Create(t, filters.NewOAuth2JWTBearer(m), u, "/s/key", "sa@p.test", "")
	if got := f.(filters.SecretUser).SecretNames(); !slices.Equal(got, []string{"/s/key"}) {
		t.Errorf("got secret names %q, want the key's", got)
	}
}

// TestOAuth2JWTBearer: the token endpoint gets the JWT-bearer grant with an assertion that
// verifies with the issuer's public key, with the scopes in its scope claim (as Google reads
// them) and no client authentication; every token request signs a new assertion.
func TestOAuth2JWTBearer(t *testing.T) {
	const sa = "robot@project.iam.gserviceaccount.test"
	tests := []struct {
		name                      string
		key                       testKey
		subject, scopes, audience string
		wantScope                 any
	}{
		{name: "Google style", key: rsaKey(0), scopes: "https://www.googleapis.com/auth/cloud-platform",
			wantScope: "https://www.googleapis.com/auth/cloud-platform"},
		{name: "subject, scopes sorted", key: ecKey(t, 0), subject: "user@example.test", scopes: "b a b",
			wantScope: "a b"},
		{name: "audience, no scopes", key: rsaKey(1), audience: "https://oauth2.googleapis.test/token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as := newAuthServer(t, "tok-", 2)
			as.setKeys(sa, tc.key.pub)
			as.setAudience(tc.audience)
			clock := newFakeClock()
			clock.Set(time.Now()) // the server checks iat and exp in real time, with 5 s of skew
			m, _ := newManager(t, filtertest.Secrets{"/s/sa.pem": tc.key.pem}, filters.TokenManagerOptions{Now: clock.Now})
			f := filtertest.Create(t, filters.NewOAuth2JWTBearer(m), as.TokenURL(), "/s/sa.pem", sa, tc.subject,
				tc.scopes, tc.audience)
			for i, want := range []string{"Bearer tok-1", "Bearer tok-2"} {
				got, err := authorization(t, f)
				if err != nil || !slices.Equal(got, []string{want}) {
					t.Fatalf("request %d: got %q, %v; want %s (server saw %+v)", i, got, err, want, as.Calls())
				}
				clock.Advance(2 * time.Second) // expired: the next request fetches again
			}
			for _, c := range as.Calls() {
				if c.claims["scope"] != tc.wantScope {
					t.Errorf("got scope claim %v, want %v", c.claims["scope"], tc.wantScope)
				}
				if c.claims["sub"] != nilIfEmpty(tc.subject) {
					t.Errorf("got sub %v, want %q", c.claims["sub"], tc.subject)
				}
				if c.form.Has("scope") || c.form.Has("client_id") {
					t.Errorf("got form %v, want only grant_type and assertion", c.form)
				}
			}
			// The server refuses the first assertion when it comes again.
			status, body := postForm(t, as.TokenURL(), as.Calls()[0].form)
			if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Errorf("replaying the first request got %d %v, want 400 invalid_grant", status, body)
			}
		})
	}
}

// TestOAuth2JWTBearerThroughProxy: a Google-style route in the real proxy; a key the server
// does not know gives 503 and a log line with the token URL, the grant and the status, and
// no key, assertion or token anywhere.
func TestOAuth2JWTBearerThroughProxy(t *testing.T) {
	const sa = "robot@project.iam.gserviceaccount.test"
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "sa.pem")
	writeFile(t, keyPath, rsaKey(0).pem)
	writeFile(t, keyPath+".kid", "2026-key")
	as := newAuthServer(t, canaryToken+"-", 3600)
	as.setKeys(sa, rsaKey(0).pub)
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: Host("storage.test") -> oauth2JwtBearer(%q, %q, %q, "", "https://www.googleapis.com/auth/devstorage.read_only") -> "http://%s";`,
		as.TokenURL(), keyPath, sa, backend.Addr()), proxytest.Options{CredentialsPaths: []string{dir}})

	res, _ := p.Do(t, "GET", "storage.test", "/b/o", "Authorization", "Bearer client-own")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got status %d, want 200 (server saw %+v)", res.StatusCode, as.Calls())
	}
	if got := backend.Last(t).Header["Authorization"]; !slices.Equal(got, []string{"Bearer " + canaryToken + "-1"}) {
		t.Fatalf("backend got %d Authorization values, want the issued token", len(got))
	}
	if c := as.Calls()[0]; c.header["kid"] != "2026-key" {
		t.Errorf("got kid %v, want 2026-key", c.header["kid"])
	}

	// Another route whose issuer the server has no key for.
	p2 := proxytest.New(t, fmt.Sprintf(`r: Host("storage.test") -> oauth2JwtBearer(%q, %q, "other@project.test", "") -> "http://%s";`,
		as.TokenURL(), keyPath, backend.Addr()), proxytest.Options{CredentialsPaths: []string{dir}})
	res, body := p2.Do(t, "GET", "storage.test", "/b/o")
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("got status %d, want 503", res.StatusCode)
	}
	checkNotContains(t, "response body", body, "invalid_grant", canaryToken)
	log := p2.Log()
	for _, want := range []string{"HTTP status 400 (invalid_grant)", `grant="urn:ietf:params:oauth:grant-type:jwt-bearer"`,
		`token_url="` + as.TokenURL() + `"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	canaries := []string{canaryToken, "PRIVATE KEY", keyBody(rsaKey(0).pem)}
	for _, c := range as.Calls() {
		canaries = append(canaries, c.form.Get("assertion"))
	}
	checkNotContains(t, "log", p.Log()+log, canaries...)
}
