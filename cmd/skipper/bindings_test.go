package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestCheckReportsBindings: skipper check takes the daemon's binding flags and reports a route
// whose static backend its secret may not go to, naming the route, the secret and the host.
func TestCheckReportsBindings(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	writeFile(t, tok, "x")
	routes := filepath.Join(dir, "routes.eskip")
	writeFile(t, routes, fmt.Sprintf(`api: Host("^api$") -> bearerinjector(%[1]q) -> "https://api.example.com";
evil: Host("^evil$") -> bearerinjector(%[1]q) -> "https://evil.example.org";`, tok))
	writeFile(t, filepath.Join(dir, "bad"), "x")
	writeFile(t, filepath.Join(dir, "bad.hosts"), "ok.example # the API\n*.*.example\n")
	badRoutes := filepath.Join(dir, "bad.eskip")
	writeFile(t, badRoutes, fmt.Sprintf(`bad: * -> bearerinjector(%q) -> "https://ok.example";`, filepath.Join(dir, "bad")))

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"unbound", []string{"check", routes}, exitOK, "2 routes valid\n", ""},
		{"bound", []string{"check", "-credentials-bind=" + tok + "=api.example.com", routes}, exitError, "1 route valid, 1 problem\n",
			routes + `:2:1: route "evil": secret "` + tok + `" may not be sent to evil.example.org:443: not allowed by -credentials-bind`},
		{"required", []string{"check", "-credentials-require-binding", routes}, exitError, "0 routes valid, 2 problems\n",
			`route "api": secret "` + tok + `": no -credentials-bind flag and no ` + tok + `.hosts file binds it`},
		{"bad flag", []string{"check", "-credentials-bind=" + tok + "=api.example.com:http", routes}, exitUsage, "",
			`-credentials-bind "` + tok + `=api.example.com:http": host pattern "api.example.com:http": bad port "http"`},
		{"flag without hosts", []string{"check", "-credentials-bind=" + tok, routes}, exitUsage, "",
			`-credentials-bind "` + tok + `": want SECRET=HOST[,HOST...]`},
		{"bad hosts file", []string{"check", "-credentials-paths=" + dir, badRoutes}, exitError, "0 routes valid, 1 problem\n",
			filepath.Join(dir, "bad.hosts") + `:2: host pattern "*.*.example": not a name after "*."`},
		{"uncovered flag", []string{"check", "-credentials-paths=" + dir, "-credentials-bind=/elsewhere/tok=a.example", routes}, exitError, "",
			`-credentials-bind "/elsewhere/tok=a.example": secret /elsewhere/tok is under no -credentials-paths entry`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			if code := run(tc.args, &stdout, &stderr); code != tc.wantCode {
				t.Errorf("got exit code %d, want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			if !strings.HasSuffix(stdout.String(), tc.wantStdout) {
				t.Errorf("got stdout %q, want %q", stdout.String(), tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("got stderr %q, want it to hold %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}

// TestBindingLeavesRouteOut: the daemon leaves out a route that would send its secret to a host
// the secret is not bound to, logs why, and serves the others; a hosts file with a bad line is
// named with its line in the log.
func TestBindingLeavesRouteOut(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	writeFile(t, tok, "tok-canary-5e1")
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=
		ok: Host("^ok$") -> bearerinjector(%[1]q) -> "http://%[2]s";
		evil: Host("^evil$") -> bearerinjector(%[1]q) -> "http://localhost:%[3]s";`,
		tok, backend.Addr(), strings.Split(backend.Addr(), ":")[1]),
		"-credentials-paths="+dir, "-credentials-bind="+tok+"=127.0.0.1")

	if res, body := p.get(t, "ok", "/"); res.StatusCode != http.StatusOK {
		t.Errorf("ok: got %d %q, want 200", res.StatusCode, body)
	}
	if res, body := p.get(t, "evil", "/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("evil: got %d %q, want 404: the route is left out", res.StatusCode, body)
	}
	want := fmt.Sprintf(`route \"evil\": secret \"%s\" may not be sent to localhost:%s`, tok, strings.Split(backend.Addr(), ":")[1])
	poll.Until(t, 2*time.Second, "the error naming route, secret and host", func() bool {
		return strings.Contains(p.Log(), want)
	})
	if strings.Contains(p.Log(), "tok-canary-5e1") {
		t.Errorf("the secret's value reached the log:\n%s", p.Log())
	}
}
