package filters_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/secrets"
)

func TestOAuth2ClientCredentialsBadArgs(t *testing.T) {
	m, _ := newManager(t, filtertest.Secrets{}, filters.TokenManagerOptions{})
	const u = "https://auth.test/token"
	testBadArgs(t, filters.NewOAuth2ClientCredentials(m), []argsCase{
		{name: "no args", args: nil, want: "oauth2ClientCredentials: want 3 to 5 string arguments " +
			"(token URL, client ID secret name, client secret secret name[, scopes[, audience]]), got 0"},
		{name: "too many", args: []any{u, "/id", "/sec", "a", "aud", "x"}},
		{name: "number", args: []any{u, "/id", 3.0}},
		{name: "relative URL", args: []any{"/token", "/id", "/sec"},
			want: "oauth2ClientCredentials: argument 1 (token URL) must be an absolute http or https URL"},
		{name: "ftp URL", args: []any{"ftp://auth.test/token", "/id", "/sec"}},
		{name: "no host", args: []any{"https:///token", "/id", "/sec"}},
		{name: "unparsable URL", args: []any{"https://auth.test/%zz", "/id", "/sec"}},
		{name: "user info", args: []any{"https://user:CANARY-pw@auth.test/token", "/id", "/sec"},
			want: "oauth2ClientCredentials: argument 1 (token URL) must not contain user info: put credentials in secrets"},
		{name: "fragment", args: []any{u + "#frag", "/id", "/sec"}},
		{name: "empty client ID", args: []any{u, "", "/sec"}},
		{name: "empty client secret", args: []any{u, "/id", ""}},
		{name: "bad scope", args: []any{u, "/id", "/sec", `read "write"`},
			want: "oauth2ClientCredentials: argument 4 (scopes) contains byte 0x22, which RFC 6749 §3.3 does not allow in a scope"},
		{name: "control char in audience", args: []any{u, "/id", "/sec", "", "aud\r\n"}},
	})
}

func TestOAuth2ClientCredentialsNoManager(t *testing.T) {
	_, err := filters.NewOAuth2ClientCredentials(nil).Create([]any{"https://auth.test/token", "/id", "/sec"})
	if !errors.Is(err, filters.ErrCredentialUnavailable) {
		t.Errorf("got error %v, want one wrapping ErrCredentialUnavailable", err)
	}
}

func TestNewTokenManagerOptions(t *testing.T) {
	tests := []struct {
		name string
		opts filters.TokenManagerOptions
	}{
		{"no secrets", filters.TokenManagerOptions{}},
		{"negative timeout", filters.TokenManagerOptions{Secrets: filtertest.Secrets{}, FetchTimeout: -time.Second}},
		{"max below min backoff", filters.TokenManagerOptions{Secrets: filtertest.Secrets{},
			MinBackoff: time.Second, MaxBackoff: time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if m, err := filters.NewTokenManager(tc.opts); err == nil {
				t.Errorf("got manager %p and no error, want an error", m)
			}
		})
	}
}

// TestOAuth2TokenRequest checks what the endpoint receives and what the backend request gets.
func TestOAuth2TokenRequest(t *testing.T) {
	tests := []struct {
		name      string
		args      []any // after the token URL
		wantScope string
		wantAud   string
	}{
		{name: "no scopes", args: []any{"/s/id", "/s/secret"}},
		{name: "empty scopes", args: []any{"/s/id", "/s/secret", " "}},
		{name: "scopes sorted and deduplicated", args: []any{"/s/id", "/s/secret", "write  read write"},
			wantScope: "read write"},
		{name: "audience", args: []any{"/s/id", "/s/secret", "", "https://api.test"},
			wantAud: "https://api.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := newTokenEndpoint(t, "tok-", 3600)
			// ':' and '%' must survive the form encoding RFC 6749 §2.3.1 asks for.
			src := filtertest.Secrets{"/s/id": "client:1", "/s/secret": "p%ss word"}
			m, _ := newManager(t, src, filters.TokenManagerOptions{})
			f := filtertest.Create(t, filters.NewOAuth2ClientCredentials(m), append([]any{ep.URL + "/token"}, tc.args...)...)

			got, err := authorization(t, f)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			if want := []string{"Bearer tok-1"}; !slices.Equal(got, want) {
				t.Errorf("got Authorization %q, want %q", got, want)
			}
			calls := ep.Calls()
			if len(calls) != 1 {
				t.Fatalf("got %d token requests, want 1", len(calls))
			}
			c := calls[0]
			if !c.basicOK || c.id != "client:1" || c.secret != "p%ss word" {
				t.Errorf("got basic auth %v id %q secret %q, want client:1 and the secret", c.basicOK, c.id, c.secret)
			}
			if got := c.form.Get("grant_type"); got != "client_credentials" {
				t.Errorf("got grant_type %q, want client_credentials", got)
			}
			if c.form.Has("client_secret") {
				t.Error("got client_secret in the body, want it only in the Authorization header")
			}
			if got := c.form.Get("scope"); got != tc.wantScope {
				t.Errorf("got scope %q, want %q", got, tc.wantScope)
			}
			if got := c.form.Get("audience"); got != tc.wantAud {
				t.Errorf("got audience %q, want %q", got, tc.wantAud)
			}
		})
	}
}

// TestOAuth2SharedCache checks that routes with the same key share one token, and routes
// with a different key do not.
func TestOAuth2SharedCache(t *testing.T) {
	ep := newTokenEndpoint(t, "tok-", 3600)
	src := filtertest.Secrets{"/s/id": "id", "/s/secret": "secret", "/s/secret2": "secret"}
	m, _ := newManager(t, src, filters.TokenManagerOptions{})
	spec := filters.NewOAuth2ClientCredentials(m)
	u := ep.URL + "/token"
	a := filtertest.Create(t, spec, u, "/s/id", "/s/secret", "read write")
	b := filtertest.Create(t, spec, u, "/s/id", "/s/secret", "write read")
	others := []filters.Filter{
		filtertest.Create(t, spec, u, "/s/id", "/s/secret", "read"),
		filtertest.Create(t, spec, u, "/s/id", "/s/secret2", "read write"),
		filtertest.Create(t, spec, u, "/s/id", "/s/secret", "read write", "aud"),
		filtertest.Create(t, spec, u+"?v=2", "/s/id", "/s/secret", "read write"),
	}
	for i, f := range append([]filters.Filter{a, b}, others...) {
		if _, err := authorization(t, f); err != nil {
			t.Fatalf("filter %d: %v", i, err)
		}
	}
	if got, want := ep.count(), 1+len(others); got != want {
		t.Errorf("got %d token requests, want %d", got, want)
	}
}

// TestOAuth2ConcurrentRequestsFetchOnce: 1,000 concurrent requests with no token cause one
// token request, which they all wait for.
func TestOAuth2ConcurrentRequestsFetchOnce(t *testing.T) {
	for _, withRun := range []bool{false, true} {
		name := "without Run"
		if withRun {
			name = "with Run"
		}
		t.Run(name, func(t *testing.T) {
			ep := newTokenEndpoint(t, "tok-", 3600)
			release := ep.setHold()
			defer release()
			m, _ := newManager(t, filtertest.Secrets{"/s/id": "id", "/s/secret": "secret"}, filters.TokenManagerOptions{})
			if withRun {
				startRun(t, m) // fetches ahead of the first request; the requests join that fetch
			}
			f := filtertest.Create(t, filters.NewOAuth2ClientCredentials(m), ep.URL, "/s/id", "/s/secret")

			const n = 1000
			var started, done sync.WaitGroup
			results := make([][]string, n)
			errs := make([]error, n)
			for i := range n {
				started.Add(1)
				done.Go(func() {
					started.Done()
					results[i], errs[i] = authorization(t, f)
				})
			}
			started.Wait()
			ep.waitCalls(t, 1, 5*time.Second)
			release()
			done.Wait()

			for i := range n {
				if errs[i] != nil {
					t.Fatalf("request %d: %v", i, errs[i])
				}
				if want := []string{"Bearer tok-1"}; !slices.Equal(results[i], want) {
					t.Fatalf("request %d: got Authorization %q, want %q", i, results[i], want)
				}
			}
			if got := ep.count(); got != 1 {
				t.Errorf("got %d token requests, want 1", got)
			}
		})
	}
}

// TestOAuth2RefreshBeforeExpiry uses real time: Run refreshes a 2 s token before it expires,
// and requests keep getting the old token without waiting while the refresh is slow.
func TestOAuth2RefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	ep := newTokenEndpoint(t, canaryToken+"-", 2)
	m, logs := newManager(t, filtertest.Secrets{"/s/id": "id", "/s/secret": canarySecret}, filters.TokenManagerOptions{})
	t.Cleanup(func() { checkNotContains(t, "log", logs.String(), canarySecret, canaryToken) })
	startRun(t, m)
	f := filtertest.Create(t, filters.NewOAuth2ClientCredentials(m), ep.URL, "/s/id", "/s/secret")
	if got, err := authorization(t, f); err != nil || got[0] != "Bearer "+canaryToken+"-1" {
		t.Fatalf("got %q, %v; want the first token", got, err)
	}
	release := ep.setHold() // the refresh hangs until released
	defer release()

	calls := ep.waitCalls(t, 2, 5*time.Second)
	if after := calls[1].at.Sub(calls[0].at); after >= 2*time.Second {
		t.Fatalf("got the refresh %s after the first token, want it before the token expires at 2s", after)
	}
	// The refresh is in flight: a request must not wait for it.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	r, _ := http.NewRequestWithContext(ctx, "GET", "http://api.test/", nil)
	if err := f.Request(r); err != nil || r.Header.Get("Authorization") != "Bearer "+canaryToken+"-1" {
		t.Fatalf("during the refresh got %q, %v; want the cached Bearer tok-1 at once",
			r.Header.Get("Authorization"), err)
	}
	release()

	// The new token is used as soon as it arrives.
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := authorization(t, f)
		if err != nil {
			t.Fatalf("after the refresh: %v", err)
		}
		if got[0] == "Bearer "+canaryToken+"-2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %q 5s after the refresh, want the second token", got)
		}
		<-tick.C
	}
}

// TestOAuth2OutageWithinLifetime uses real time: while the endpoint fails, requests keep the
// cached token until it expires, and then fail with a TokenError.
func TestOAuth2OutageWithinLifetime(t *testing.T) {
	t.Parallel()
	const lifetime = 2 * time.Second
	const margin = lifetime / 10 // ExpiryMargin's cap for short tokens
	ep := newTokenEndpoint(t, canaryToken+"-", int(lifetime/time.Second))
	m, logs := newManager(t, filtertest.Secrets{"/s/id": "id", "/s/secret": canarySecret}, filters.TokenManagerOptions{})
	t.Cleanup(func() { checkNotContains(t, "log", logs.String(), canarySecret, canaryToken) })
	startRun(t, m)
	before := time.Now() // no earlier than the first token request, so its expiry is later
	f := filtertest.Create(t, filters.NewOAuth2ClientCredentials(m), ep.URL, "/s/id", "/s/secret")
	if _, err := authorization(t, f); err != nil {
		t.Fatalf("first request: %v", err)
	}
	ep.setAnswer(answerStatus(http.StatusServiceUnavailable, "text/plain", "down"))

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var requests int
	for time.Since(before) < lifetime-margin-20*time.Millisecond {
		got, err := authorization(t, f)
		if err != nil || got[0] != "Bearer "+canaryToken+"-1" {
			t.Fatalf("%s into the token's lifetime got %q, %v; want the first token", time.Since(before), got, err)
		}
		requests++
		<-tick.C
	}
	if n := ep.count(); n < 2 {
		t.Fatalf("got %d token requests within the lifetime, want a failed refresh as well", n)
	}
	t.Logf("%d requests served during %d failed refreshes", requests, ep.count()-1)

	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := authorization(t, f)
		if err != nil {
			if since := time.Since(before); since < lifetime-margin {
				t.Errorf("got the first failure %s after the token was requested, want it after %s", since, lifetime-margin)
			}
			var te *filters.TokenError
			if !errors.As(err, &te) || !errors.Is(err, filters.ErrCredentialUnavailable) {
				t.Fatalf("got error %v (%T), want a *TokenError wrapping ErrCredentialUnavailable", err, err)
			}
			checkNotContains(t, "error", fmt.Sprintf("%+v", err), canarySecret, canaryToken)
			if te.Reason != "HTTP status 503" {
				t.Errorf("got reason %q, want %q", te.Reason, "HTTP status 503")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("requests still succeed 5s after the token expired")
		}
		<-tick.C
	}
}

// TestOAuth2SecretRotation: a rotated client secret is used at the next token request; the
// cached token stays in use until then.
func TestOAuth2SecretRotation(t *testing.T) {
	ep := newTokenEndpoint(t, "tok-", 60)
	clock := newFakeClock()
	src := filtertest.Secrets{"/s/id": "id", "/s/secret": "old-secret"}
	m, _ := newManager(t, src, filters.TokenManagerOptions{Now: clock.Now})
	f := filtertest.Create(t, filters.NewOAuth2ClientCredentials(m), ep.URL, "/s/id", "/s/secret")

	steps := []struct {
		name    string
		do      func()
		want    string
		secrets []string // client secrets the endpoint has seen
	}{
		{"first token", func() {}, "Bearer tok-1", []string{"old-secret"}},
		{"rotated, token still cached", func() { src.Set("/s/secret", "new-secret") }, "Bearer tok-1", []string{"old-secret"}},
		{"expired: fetched with the new secret", func() { clock.Advance(time.Minute) }, "Bearer tok-2",
			[]string{"old-secret", "new-secret"}},
	}
	for _, s := range steps {
		s.do()
		got, err := authorization(t, f)
		if err != nil || got[0] != s.want {
			t.Fatalf("%s: got %q, %v; want %s", s.name, got, err, s.want)
		}
		var seen []string
		for _, c := range ep.Calls() {
			seen = append(seen, c.secret)
		}
		if !slices.Equal(seen, s.secrets) {
			t.Errorf("%s: endpoint saw secrets %q, want %q", s.name, seen, s.secrets)
		}
	}
}

// TestOAuth2BackoffFailsFast: after a failed token request, requests fail at once without
// calling the endpoint until the backoff has passed.
func TestOAuth2BackoffFailsFast(t *testing.T) {
	ep := newTokenEndpoint(t, "tok-", 60)
	ep.setAnswer(answerStatus(http.StatusInternalServerError, "", "oops"))
	clock := newFakeClock()
	m, _ := newManager(t, filtertest.Secrets{"/s/id": "id", "/s/secret": "secret"},
		filters.TokenManagerOptions{Now: clock.Now, MinBackoff: time.Second, MaxBackoff: 4 * time.Second})
	f := filtertest.Create(t, filters.NewOAuth2ClientCredentials(m), ep.URL, "/s/id", "/s/secret")

	// The first backoff is 0.5-1s, the second 1-2s.
	steps := []struct {
		name         string
		advance      time.Duration
		endpointBack bool
		wantCalls    int
		wantErr      bool
	}{
		{"first failure", 0, false, 1, true},
		{"within the first backoff", 400 * time.Millisecond, false, 1, true},
		{"after the first backoff", 700 * time.Millisecond, false, 2, true},
		{"within the second backoff", 900 * time.Millisecond, false, 2, true},
		{"endpoint back, still backing off", 0, true, 2, true},
		{"after the second backoff", 1200 * time.Millisecond, false, 3, false},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		if s.endpointBack {
			ep.setAnswer(nil)
		}
		_, err := authorization(t, f)
		if got := err != nil; got != s.wantErr {
			t.Errorf("%s: got error %v, want error %v", s.name, err, s.wantErr)
		}
		if err != nil && !errors.Is(err, filters.ErrCredentialUnavailable) {
			t.Errorf("%s: got error %v, want one wrapping ErrCredentialUnavailable", s.name, err)
		}
		if got := ep.count(); got != s.wantCalls {
			t.Errorf("%s: got %d token requests, want %d", s.name, got, s.wantCalls)
		}
	}
}

// TestOAuth2WaitCanceled: a request that gives up waiting gets an error wrapping its context's
// error; the token request goes on for the others.
func TestOAuth2WaitCanceled(t *testing.T) {
	ep := newTokenEndpoint(t, "tok-", 60)
	release := ep.setHold()
	defer release()
	m, _ := newManager(t, filtertest.Secrets{"/s/id": "id", "/s/secret": "secret"}, filters.TokenManagerOptions{})
	f := filtertest.Create(t, filters.NewOAuth2ClientCredentials(m), ep.URL, "/s/id", "/s/secret")

	ctx, cancel := context.WithCancel(context.Background())
	r, _ := http.NewRequestWithContext(ctx, "GET", "http://api.test/", nil)
	r.Header.Set("Authorization", "Bearer client-own")
	errc := make(chan error, 1)
	go func() { errc <- f.Request(r) }()
	ep.waitCalls(t, 1, 5*time.Second)
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) || !errors.Is(err, filters.ErrCredentialUnavailable) {
		t.Errorf("got error %v, want one wrapping context.Canceled and ErrCredentialUnavailable", err)
	}
	if got := r.Header["Authorization"]; got != nil {
		t.Errorf("got Authorization %q after the failure, want none", got)
	}
	release()
	if got, err := authorization(t, f); err != nil || got[0] != "Bearer tok-1" {
		t.Errorf("next request got %q, %v; want Bearer tok-1 from the same token request", got, err)
	}
	if got := ep.count(); got != 1 {
		t.Errorf("got %d token requests, want 1", got)
	}
}

func TestOAuth2SecretErrors(t *testing.T) {
	tests := []struct {
		name       string
		secrets    filtertest.Secrets
		wantReason string
		notFound   bool
	}{
		{"client ID missing", filtertest.Secrets{"/s/secret": "x"}, `secret "/s/id": not found`, true},
		{"client secret empty", filtertest.Secrets{"/s/id": "x", "/s/secret": ""}, `secret "/s/secret": empty value`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := newTokenEndpoint(t, "tok-", 60)
			m, _ := newManager(t, tc.secrets, filters.TokenManagerOptions{})
			f := filtertest.Create(t, filters.NewOAuth2ClientCredentials(m), ep.URL+"/token", "/s/id", "/s/secret")
			got, err := authorization(t, f)
			var te *filters.TokenError
			if !errors.As(err, &te) {
				t.Fatalf("got error %v (%T), want a *TokenError", err, err)
			}
			if te.Reason != tc.wantReason {
				t.Errorf("got reason %q, want %q", te.Reason, tc.wantReason)
			}
			var ce *filters.CredentialError
			if !errors.As(err, &ce) {
				t.Errorf("got error %v, want one wrapping a *CredentialError", err)
			}
			if errors.Is(err, secrets.ErrNotFound) != tc.notFound {
				t.Errorf("errors.Is(err, secrets.ErrNotFound) = %v, want %v", !tc.notFound, tc.notFound)
			}
			if got != nil {
				t.Errorf("got Authorization %q, want none", got)
			}
			if ep.count() != 0 {
				t.Errorf("got %d token requests, want none without credentials", ep.count())
			}
		})
	}
}

func TestSecretNames(t *testing.T) {
	src := filtertest.Secrets{}
	m, _ := newManager(t, src, filters.TokenManagerOptions{})
	tests := []struct {
		spec filters.Spec
		args []any
		want []string
	}{
		{filters.NewBearerInjector(src), []any{"/s/tok"}, []string{"/s/tok"}},
		{filters.NewSetRequestHeaderFromSecret(src), []any{"X-Key", "/s/key", "p"}, []string{"/s/key"}},
		{filters.NewBasicAuthFromSecret(src), []any{"/s/u", "/s/p"}, []string{"/s/u", "/s/p"}},
		{filters.NewOAuth2ClientCredentials(m), []any{"https://auth.test/token", "/s/id", "/s/sec", "a"},
			[]string{"/s/id", "/s/sec"}},
	}
	for _, tc := range tests {
		t.Run(tc.spec.Name(), func(t *testing.T) {
			f := filtertest.Create(t, tc.spec, tc.args...)
			su, ok := f.(filters.SecretUser)
			if !ok {
				t.Fatalf("%T does not implement SecretUser", f)
			}
			if got := su.SecretNames(); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	others := []filters.Filter{
		filtertest.Create(t, filters.NewSetRequestHeader(), "X-A", "b"),
		filtertest.Create(t, filters.NewDropRequestHeader(), "X-A"),
	}
	for _, f := range others {
		if _, ok := f.(filters.SecretUser); ok {
			t.Errorf("%T implements SecretUser, want it only on filters that read secrets", f)
		}
	}
}
