package filters

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/skipper-egress/skipper/internal/fakeclock"
	"github.com/skipper-egress/skipper/secrets"
)

// mapSource is a fixed SecretSource; filtertest cannot be imported from inside the package.
type mapSource map[string]string

func (s mapSource) Get(name string) (secrets.Secret, error) {
	v, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", secrets.ErrNotFound, name)
	}
	return secrets.Secret(v), nil
}

// countingEndpoint issues "tok-<n>" tokens valid for 60s, or answers status when it is set.
type countingEndpoint struct {
	*httptest.Server
	calls  atomic.Int64
	status atomic.Int64
	hang   chan struct{} // if not nil, calls wait for it or their own cancellation
}

func newCountingEndpoint(t *testing.T, hang chan struct{}) *countingEndpoint {
	e := &countingEndpoint{hang: hang}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := e.calls.Add(1)
		// Read the body: only then does the server notice a client hanging up.
		io.Copy(io.Discard, r.Body) //nolint:errcheck // nothing to do about it
		if e.hang != nil {
			select {
			case <-e.hang:
			case <-r.Context().Done():
				return
			}
		}
		if s := e.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"bearer","expires_in":60}`, n)
	}))
	t.Cleanup(e.Close)
	return e
}

// TestSchedule drives Run's scheduler by hand with a fake clock: first fetch, refresh at 80%,
// backoff after a failed refresh, no refresh when idle, drop after expiry, register again.
func TestSchedule(t *testing.T) {
	ep := newCountingEndpoint(t, nil)
	clock := fakeclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	m, err := NewTokenManager(TokenManagerOptions{Secrets: mapSource{"/id": "id", "/sec": "sec"}, Now: clock.Now,
		MinBackoff: time.Second, MaxBackoff: time.Second, IdleTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewOAuth2ClientCredentials(m).Create([]any{ep.URL, "/id", "/sec"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := clock.Now()
	var fetches sync.WaitGroup
	// tick is one round of Run: schedule, and once the fetches it started are done, schedule
	// again, as the poke of their completion makes Run do.
	tick := func() time.Time {
		m.schedule(t.Context(), &fetches)
		fetches.Wait()
		next := m.schedule(t.Context(), &fetches)
		fetches.Wait()
		return next
	}
	use := func() string {
		r := httptest.NewRequest("GET", "http://api.test/", nil)
		if err := f.Request(r); err != nil {
			return err.Error()
		}
		return r.Header.Get(headerAuthorization)
	}

	steps := []struct {
		name      string
		at        time.Duration // since t0
		status    int           // endpoint answers this instead of a token
		use       bool          // a request before the tick
		wantCalls int64
		wantNext  time.Duration // since t0; -1 for "within the backoff", 0 for none
		wantAuth  string        // when use is set
	}{
		{name: "new route: fetched ahead of requests", at: 0, wantCalls: 1, wantNext: 48 * time.Second},
		{name: "before 80%", at: 47 * time.Second, use: true, wantAuth: "Bearer tok-1", wantCalls: 1, wantNext: 48 * time.Second},
		{name: "at 80%: refreshed", at: 48 * time.Second, wantCalls: 2, wantNext: 96 * time.Second},
		{name: "refresh fails", at: 96 * time.Second, status: 500, use: true, wantAuth: "Bearer tok-2", wantCalls: 3, wantNext: -1},
		{name: "retry fails too", at: 97 * time.Second, status: 500, wantCalls: 4, wantNext: -1},
		{name: "retry succeeds", at: 98 * time.Second, use: true, wantAuth: "Bearer tok-2", wantCalls: 5, wantNext: 146 * time.Second},
		{name: "idle: no refresh, look again at expiry", at: 148 * time.Second, wantCalls: 5, wantNext: 152 * time.Second},
		{name: "expired and idle: dropped", at: 158 * time.Second, wantCalls: 5},
		{name: "used again: registered and fetched", at: 218 * time.Second, use: true,
			wantAuth: "Bearer tok-6", wantCalls: 6, wantNext: 266 * time.Second},
	}
	for _, s := range steps {
		clock.Advance(t0.Add(s.at).Sub(clock.Now()))
		ep.status.Store(int64(s.status))
		if s.use {
			if got := use(); got != s.wantAuth {
				t.Errorf("%s: request got %q, want %q", s.name, got, s.wantAuth)
			}
		}
		next := tick()
		if got := ep.calls.Load(); got != s.wantCalls {
			t.Errorf("%s: got %d token requests, want %d", s.name, got, s.wantCalls)
		}
		switch {
		case s.wantNext == -1:
			if d := next.Sub(clock.Now()); d < 500*time.Millisecond || d > time.Second {
				t.Errorf("%s: got next look in %s, want the backoff of 0.5s to 1s", s.name, d)
			}
		case s.wantNext == 0:
			if !next.IsZero() {
				t.Errorf("%s: got next look at t0+%s, want none", s.name, next.Sub(t0))
			}
		case !next.Equal(t0.Add(s.wantNext)):
			t.Errorf("%s: got next look at t0+%s, want t0+%s", s.name, next.Sub(t0), s.wantNext)
		}
	}
	if n := len(m.entries); n != 1 {
		t.Errorf("got %d entries, want 1", n)
	}
}

func TestBackoff(t *testing.T) {
	m, err := NewTokenManager(TokenManagerOptions{Secrets: mapSource{}})
	if err != nil {
		t.Fatal(err)
	}
	for failures, want := range []time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second,
		5: 16 * time.Second, 6: 30 * time.Second, 7: 30 * time.Second, 60: 30 * time.Second} {
		if want == 0 {
			continue
		}
		for range 100 {
			if got := m.backoff(failures); got < want/2 || got > want {
				t.Fatalf("backoff(%d) = %s, want %s to %s", failures, got, want/2, want)
			}
		}
	}
}

func TestExpiresIn(t *testing.T) {
	json := func(v any) *oauth2.Token { return (&oauth2.Token{}).WithExtra(map[string]any{"expires_in": v}) }
	tests := []struct {
		name string
		tok  *oauth2.Token
		want time.Duration
	}{
		{"JSON number", json(3600.0), time.Hour},
		{"JSON string", json("120"), 2 * time.Minute},
		{"form value", (&oauth2.Token{}).WithExtra(url.Values{"expires_in": {"90"}}), 90 * time.Second},
		{"missing", (&oauth2.Token{}).WithExtra(map[string]any{}), 0},
		{"no extra", &oauth2.Token{}, 0},
		{"zero", json(0.0), 0},
		{"negative", json(-5.0), 0},
		{"not a number", json("soon"), 0},
		{"NaN", json("NaN"), 0},
		{"huge", json(math.MaxFloat64), (1 << 31) * time.Second},
		{"bool", json(true), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := expiresIn(tc.tok); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTokenLifetime(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := NewTokenManager(TokenManagerOptions{Secrets: mapSource{}})
	if err != nil {
		t.Fatal(err)
	}
	e := &tokenEntry{display: "https://auth.test/token"}
	tests := []struct {
		name                  string
		expiresIn             any
		wantRefresh, wantStop time.Duration
	}{
		{"hour: 10s margin", 3600.0, 48 * time.Minute, time.Hour - 10*time.Second},
		{"2s: margin a tenth", 2.0, 1600 * time.Millisecond, 1800 * time.Millisecond},
		{"none: 5 minutes", nil, 4 * time.Minute, 5*time.Minute - 10*time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := (&oauth2.Token{AccessToken: "a", TokenType: "Bearer"}).WithExtra(map[string]any{"expires_in": tc.expiresIn})
			c, err := m.newCachedToken(e, tok, start)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.refreshAt.Sub(start); got != tc.wantRefresh {
				t.Errorf("got refresh after %s, want %s", got, tc.wantRefresh)
			}
			if got := c.validUntil.Sub(start); got != tc.wantStop {
				t.Errorf("got valid for %s, want %s", got, tc.wantStop)
			}
		})
	}
}

// TestRunStops: cancelling Run cancels its token request in flight and leaves no goroutine of
// the manager behind.
func TestRunStops(t *testing.T) {
	// Other tests' managers may still have fetches winding down; only goroutines beyond those
	// already running count as this manager's leak.
	before := managerGoroutines()
	ep := newCountingEndpoint(t, make(chan struct{}))
	m, err := NewTokenManager(TokenManagerOptions{Secrets: mapSource{"/id": "id", "/sec": "sec"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	if _, err := NewOAuth2ClientCredentials(m).Create([]any{ep.URL, "/id", "/sec"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	for ep.calls.Load() == 0 { // Run's fetch ahead of requests, which now hangs
		if time.Now().After(deadline) {
			t.Fatal("Run sent no token request for the new route within 5s")
		}
		<-poll.C
	}
	if err := m.Run(ctx); err == nil {
		t.Error("second concurrent Run returned nil, want an error")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancellation")
	}
	deadline = time.Now().Add(5 * time.Second)
	for managerGoroutines() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("a manager goroutine is left after Run returned:\n%s", buf[:runtime.Stack(buf, true)])
		}
		<-poll.C
	}
}

// managerGoroutines counts the goroutines running a TokenManager's loop or fetch.
func managerGoroutines() int {
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	return strings.Count(stacks, "(*TokenManager).loop") + strings.Count(stacks, "(*TokenManager).fetch")
}

func TestTokenRedacted(t *testing.T) {
	const tok = "CANARY-token"
	c := &cachedToken{header: tokenHeader(bearerPrefix + tok)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		for _, v := range []any{c, *c, c.header} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, tok) || strings.Contains(s, fmt.Sprintf("%x", tok)) {
				t.Errorf("%s of %T shows the token: %s", verb, v, s)
			}
		}
	}
}

func TestDisplayURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://auth.test/oauth/token", "https://auth.test/oauth/token"},
		{"https://auth.test:8443/token?tenant=x&key=y", "https://auth.test:8443/token"},
		{"http://u:p@auth.test/token#f", "http://auth.test/token"},
		{"https://auth.test/a%2Fb", "https://auth.test/a%2Fb"},
		{"https://auth.test/%zz", "[invalid URL]"},
	}
	for _, tc := range tests {
		if got := displayURL(tc.in); got != tc.want {
			t.Errorf("displayURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
