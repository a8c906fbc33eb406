package filters_test

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

// recordUses runs f on a request that carries an Exchange and returns the credential uses f
// recorded.
func recordUses(t *testing.T, f filters.Filter) ([]filters.CredentialUse, error) {
	t.Helper()
	r := filtertest.Request(t, "GET", "http://host1/foo", "Authorization", "Bearer evil")
	ex := filters.NewExchange(r.Context(), r, nil)
	r = r.WithContext(ex)
	err := f.Request(r)
	if e, ok := f.(filters.EgressFilter); ok && err == nil {
		err = e.Egress(r)
	}
	return ex.TakeCredentialUses(), err
}

// TestCredentialUseRecorded checks that each credential filter records one use per request,
// with the secret it used, the value it injected and the outcome, and nothing on failure but
// the error.
func TestCredentialUseRecorded(t *testing.T) {
	src := filtertest.Secrets{"/s/tok": "tok-1", "/s/user": "alice", "/s/pw": "pw-1", "/s/empty": ""}
	ep := newTokenEndpoint(t, "tok-", 3600)
	m, _ := newManager(t, filtertest.Secrets{"/s/id": "client", "/s/secret": "sec", "/s/subject": "subj"}, filters.TokenManagerOptions{})
	tests := []struct {
		name                string
		spec                filters.Spec
		args                []any
		secret, value, also string
		outcome             string
	}{
		{"bearer", filters.NewBearerInjector(src), []any{"/s/tok"}, "/s/tok", "tok-1", "", filters.OutcomeInjected},
		{"bearer empty", filters.NewBearerInjector(src), []any{"/s/empty"}, "/s/empty", "", "", filters.OutcomeUnavailable},
		{"header", filters.NewSetRequestHeaderFromSecret(src), []any{"X-Key", "/s/tok", "k="}, "/s/tok", "tok-1", "", filters.OutcomeInjected},
		{"header missing", filters.NewSetRequestHeaderFromSecret(src), []any{"X-Key", "/s/none"}, "/s/none", "", "", filters.OutcomeUnavailable},
		{"basic", filters.NewBasicAuthFromSecret(src), []any{"/s/user", "/s/pw"}, "/s/pw", "pw-1",
			base64.StdEncoding.EncodeToString([]byte("alice:pw-1")), filters.OutcomeInjected},
		{"basic empty user", filters.NewBasicAuthFromSecret(src), []any{"/s/empty", "/s/pw"}, "/s/pw", "", "", filters.OutcomeUnavailable},
		{"swap", filters.NewSwapSecretPlaceholder(src, nil), []any{"evil", "/s/tok"}, "/s/tok", "tok-1", "", filters.OutcomeInjected},
		{"swap missing", filters.NewSwapSecretPlaceholder(src, nil), []any{"evil", "/s/none"}, "/s/none", "", "", filters.OutcomeUnavailable},
		{"oauth2", filters.NewOAuth2ClientCredentials(m), []any{ep.URL + "/token", "/s/id", "/s/secret"}, "/s/secret", "", "tok-1", filters.OutcomeInjected},
		// A grant without a client secret is recorded under the secret that earns its token.
		{"token exchange", filters.NewOAuth2TokenExchange(m), []any{ep.URL + "/token", "/s/subject",
			"urn:ietf:params:oauth:token-type:jwt"}, "/s/subject", "", "tok-2", filters.OutcomeInjected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, tc.spec, tc.args...)
			uses, err := recordUses(t, f)
			if len(uses) != 1 {
				t.Fatalf("got %d uses, want 1", len(uses))
			}
			u := uses[0]
			if u.Filter != tc.spec.Name() || u.Secret != tc.secret || string(u.Value) != tc.value || u.Also != tc.also {
				t.Errorf("got use {%s %s value %q also %q}, want {%s %s value %q also %q}",
					u.Filter, u.Secret, u.Value, u.Also, tc.spec.Name(), tc.secret, tc.value, tc.also)
			}
			if got := u.Result(); got != tc.outcome {
				t.Errorf("got outcome %s, want %s", got, tc.outcome)
			}
			if (err == nil) != (u.Err == nil) || (err != nil && !errors.Is(u.Err, filters.ErrCredentialUnavailable)) {
				t.Errorf("got use error %v with filter error %v", u.Err, err)
			}
		})
	}
}

// TestCredentialUseOutcome checks Result's precedence: an explicit outcome, then the error.
func TestCredentialUseOutcome(t *testing.T) {
	for _, tc := range []struct {
		u    filters.CredentialUse
		want string
	}{
		{filters.CredentialUse{}, filters.OutcomeInjected},
		{filters.CredentialUse{Err: errors.New("x")}, filters.OutcomeFailed},
		{filters.CredentialUse{Err: &filters.CredentialError{}}, filters.OutcomeUnavailable},
		{filters.CredentialUse{Err: errors.New("x"), Outcome: "denied"}, "denied"},
	} {
		if got := tc.u.Result(); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.u, got, tc.want)
		}
	}
}

// TestCredentialUseTaken checks that TakeCredentialUses hands each use over once, and that a
// request without an Exchange records nothing.
func TestCredentialUseTaken(t *testing.T) {
	f := filtertest.Create(t, filters.NewBearerInjector(filtertest.Secrets{"/s/tok": "tok-1"}), "/s/tok")
	r := filtertest.Request(t, "GET", "http://host1/foo")
	if err := f.Request(r); err != nil { // no Exchange: must not panic
		t.Fatal(err)
	}
	ex := filters.NewExchange(r.Context(), r, nil)
	r = r.WithContext(ex)
	for range 2 {
		if err := f.Request(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(ex.TakeCredentialUses()); got != 2 {
		t.Errorf("got %d uses, want 2", got)
	}
	if got := ex.TakeCredentialUses(); got != nil {
		t.Errorf("got %d uses after taking them, want none", len(got))
	}
	var nilEx *filters.Exchange
	if got := nilEx.TakeCredentialUses(); got != nil {
		t.Errorf("nil Exchange: got %d uses", len(got))
	}
}
