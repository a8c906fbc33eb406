package filters_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

const canaryRefresh = "CANARY-rt-5d2f"

func TestOAuth2RefreshTokenBadArgs(t *testing.T) {
	m, _ := newManager(t, filtertest.Secrets{}, filters.TokenManagerOptions{})
	const u = "https://auth.test/token"
	testBadArgs(t, filters.NewOAuth2RefreshToken(m), []argsCase{
		{name: "no args", args: nil, want: "oauth2RefreshToken: want 4 to 5 string arguments " +
			"(token URL, client ID secret name, client secret secret name, refresh token secret name[, scopes]), got 0"},
		{name: "three", args: []any{u, "/id", "/sec"}},
		{name: "too many", args: []any{u, "/id", "/sec", "/rt", "s", "x"}},
		{name: "http URL without host", args: []any{"http://", "/id", "/sec", "/rt"}},
		{name: "empty refresh token", args: []any{u, "/id", "/sec", ""},
			want: "oauth2RefreshToken: argument 4 (refresh token secret name) must not be empty"},
		{name: "bad scope", args: []any{u, "/id", "/sec", "/rt", "a\tb\x01"},
			want: "oauth2RefreshToken: argument 5 (scopes) contains byte 0x01, which RFC 6749 §3.3 does not allow in a scope"},
	})
	f := filtertest.Create(t, filters.NewOAuth2RefreshToken(m), u, "/id", "/sec", "/rt")
	if got := f.(filters.SecretUser).SecretNames(); !slices.Equal(got, []string{"/id", "/sec", "/rt"}) {
		t.Errorf("got secret names %q, want client ID, client secret, refresh token", got)
	}
}

// refreshSetup is a rotating authorization server and the secrets of a client of it.
func refreshSetup(t *testing.T) (*authServer, filtertest.Secrets) {
	as := newAuthServer(t, canaryToken+"-", 60)
	as.client = [2]string{"app", canarySecret}
	as.addRefreshToken(canaryRefresh + "-file1")
	return as, filtertest.Secrets{"/s/id": "app", "/s/secret": canarySecret, "/s/rt": canaryRefresh + "-file1"}
}

// TestOAuth2RefreshTokenRotation: a refresh token the server rotates is used from then on;
// the one before is refused by the server; with a state directory, a new manager (a restart)
// resumes with the latest; a new value in the refresh token file wins over the kept one.
func TestOAuth2RefreshTokenRotation(t *testing.T) {
	as, src := refreshSetup(t)
	stateDir := t.TempDir()
	clock := newFakeClock()
	var logs []*logCapture
	start := func() filters.Filter { // a process start: a new manager with the same state directory
		m, l := newManager(t, src, filters.TokenManagerOptions{Now: clock.Now, StateDir: stateDir})
		logs = append(logs, l)
		return filtertest.Create(t, filters.NewOAuth2RefreshToken(m), as.TokenURL(), "/s/id", "/s/secret", "/s/rt", "offline api")
	}
	sent := func(i int) string { return as.Calls()[i].form.Get("refresh_token") }
	issued := func(i int) string { return as.Calls()[i].refresh }

	f := start()
	steps := []struct {
		name     string
		do       func()
		wantSent func() string // the refresh token the new call must carry
	}{
		{"first: the file's", func() {}, func() string { return canaryRefresh + "-file1" }},
		{"expired: the rotated one", func() { clock.Advance(time.Minute) }, func() string { return issued(0) }},
		{"restart: the kept one", func() { f = start() }, func() string { return issued(1) }},
		{"file rotated by the operator: the file's", func() {
			as.addRefreshToken(canaryRefresh + "-file2")
			src.Set("/s/rt", canaryRefresh+"-file2")
			clock.Advance(time.Minute)
		}, func() string { return canaryRefresh + "-file2" }},
		{"restart: the one kept after the file's", func() { f = start() }, func() string { return issued(3) }},
		{"file rotated while down: the file's", func() {
			as.addRefreshToken(canaryRefresh + "-file3")
			src.Set("/s/rt", canaryRefresh+"-file3")
			f = start()
		}, func() string { return canaryRefresh + "-file3" }},
	}
	for i, s := range steps {
		s.do()
		got, err := authorization(t, f)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		calls := as.Calls()
		if len(calls) != i+1 {
			t.Fatalf("%s: got %d token requests, want %d", s.name, len(calls), i+1)
		}
		if want := []string{"Bearer " + calls[i].token}; calls[i].errorCode != "" || !slices.Equal(got, want) {
			t.Fatalf("%s: server answered %q; got Authorization %q", s.name, calls[i].errorCode, got)
		}
		if sent(i) != s.wantSent() {
			t.Errorf("%s: sent refresh token %q, want %q", s.name, sent(i), s.wantSent())
		}
		if calls[i].form.Get("scope") != "api offline" {
			t.Errorf("%s: got scope %q, want \"api offline\"", s.name, calls[i].form.Get("scope"))
		}
	}

	// The refresh token used first is refused now: the server rotated it.
	req, _ := http.NewRequest("POST", as.TokenURL(), strings.NewReader(url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {canaryRefresh + "-file1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("app", canarySecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(res.Body).Decode(&body) //nolint:errcheck // checked below
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("reusing the first refresh token got %d %v, want 400 invalid_grant", res.StatusCode, body)
	}

	checkStateDir(t, stateDir, issued(5))
	for _, l := range logs {
		checkNotContains(t, "log", l.String(), canaryRefresh, canarySecret, canaryToken)
	}
}

// checkStateDir checks that dir holds one state file, mode 0600, named without a secret,
// holding the refresh token want.
func checkStateDir(t *testing.T, dir, want string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("state directory holds %d files, want 1", len(entries))
	}
	name := entries[0].Name()
	checkNotContains(t, "state file name", name, canaryRefresh, canarySecret, "127.0.0.1", "secret")
	fi, err := entries[0].Info()
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("state file has mode %o, want 600", mode)
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"refresh_token":"`+want+`"`) {
		t.Errorf("state file does not hold the latest refresh token")
	}
}

// TestOAuth2RefreshTokenInMemory: without a state directory, the rotated refresh token is used
// by the next token requests of the process.
func TestOAuth2RefreshTokenInMemory(t *testing.T) {
	as, src := refreshSetup(t)
	clock := newFakeClock()
	m, _ := newManager(t, src, filters.TokenManagerOptions{Now: clock.Now})
	f := filtertest.Create(t, filters.NewOAuth2RefreshToken(m), as.TokenURL(), "/s/id", "/s/secret", "/s/rt")
	for i := range 3 {
		if _, err := authorization(t, f); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		clock.Advance(time.Minute)
	}
	calls := as.Calls()
	for i := 1; i < len(calls); i++ {
		if calls[i].form.Get("refresh_token") != calls[i-1].refresh || calls[i].errorCode != "" {
			t.Errorf("request %d sent another refresh token than the one issued before, or was refused", i)
		}
	}
}

// TestOAuth2RefreshTokenThroughProxy: the real proxy with -oauth2-state-dir; a second proxy
// started on the same state directory (a restart) uses the refresh token the first was given,
// which the server requires, as it refuses the file's once used.
func TestOAuth2RefreshTokenThroughProxy(t *testing.T) {
	dir, stateDir := t.TempDir(), t.TempDir()
	for name, v := range map[string]string{"id": "app", "secret": canarySecret, "rt": canaryRefresh + "-file1"} {
		writeFile(t, filepath.Join(dir, name), v)
	}
	as := newAuthServer(t, canaryToken+"-", 3600)
	as.client = [2]string{"app", canarySecret}
	as.addRefreshToken(canaryRefresh + "-file1")
	backend := proxytest.NewBackend(t, nil)
	routes := fmt.Sprintf(`r: Host("api.test") -> oauth2RefreshToken(%q, %q, %q, %q) -> "http://%s";`, as.TokenURL(),
		filepath.Join(dir, "id"), filepath.Join(dir, "secret"), filepath.Join(dir, "rt"), backend.Addr())
	opts := proxytest.Options{CredentialsPaths: []string{dir}, OAuth2StateDir: stateDir}
	var log string
	for i := range 2 {
		p := proxytest.New(t, routes, opts)
		res, _ := p.Do(t, "GET", "api.test", "/x", "Authorization", "Bearer client-own")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("proxy %d: got status %d, want 200 (server answered %+v)", i, res.StatusCode, as.Calls())
		}
		if got := backend.Last(t).Header.Get("Authorization"); got != fmt.Sprintf("Bearer %s-%d", canaryToken, i+1) {
			t.Fatalf("proxy %d: backend got an Authorization of %d bytes, want token %d", i, len(got), i+1)
		}
		log += p.Log()
	}
	checkStateDir(t, stateDir, as.Calls()[1].refresh)
	checkNotContains(t, "log", log, canaryRefresh, canarySecret, canaryToken)
}
