package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestUnnamedRouteHasOneName: the route without an id is "(unnamed)" in the 503 body, the
// warning and the metrics alike.
func TestUnnamedRouteHasOneName(t *testing.T) {
	dir := t.TempDir()
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=* -> bearerinjector("%s/missing") -> "http://%s"`, dir, backend.Addr()),
		"-credentials-paths="+dir)

	res, body := p.get(t, "any", "/")
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `route "(unnamed)"`) {
		t.Errorf("got %d %q, want 503 naming route \"(unnamed)\"", res.StatusCode, body)
	}
	poll.Until(t, 2*time.Second, "the warning naming the route", func() bool {
		return strings.Contains(p.Log(), `level=warning`) && strings.Contains(p.Log(), `route="(unnamed)"`)
	})
	_, metrics := p.supportGet(t, "/metrics")
	if series := `skipper_requests_total{method="GET",route="(unnamed)",status="503"}`; metricValue(metrics, series) != 1 {
		t.Errorf("/metrics has no %s 1", series)
	}
}

// TestCheckWarnsAboutUncoveredSecrets: checking routes with -credentials-paths warns about a
// secret outside all of them, as a running skipper does, without failing the check.
func TestCheckWarnsAboutUncoveredSecrets(t *testing.T) {
	dir := t.TempDir()
	elsewhere := filepath.Join(t.TempDir(), "token")
	routes := fmt.Sprintf(`-inline-routes=
		in:  Host("^in$")  -> bearerinjector("%s/token") -> "https://in.example.com";
		out: Host("^out$") -> bearerinjector(%q) -> "https://out.example.com";`, dir, elsewhere)
	warning := fmt.Sprintf(`Route \"out\" reads secret %s, which is under no -credentials-paths entry`, elsewhere)

	tests := []struct {
		name     string
		args     []string
		wantWarn bool
	}{
		{"with credentials paths", []string{"-check-routes", routes, "-credentials-paths=" + dir}, true},
		// Without, check cannot know where the secrets will be.
		{"without credentials paths", []string{"-check-routes", routes}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			if code := run(tc.args, &stdout, &stderr); code != exitOK {
				t.Fatalf("got exit code %d, want %d (stderr %q)", code, exitOK, stderr.String())
			}
			if stdout.String() != "2 routes valid\n" {
				t.Errorf("got stdout %q, want \"2 routes valid\\n\"", stdout.String())
			}
			if got := strings.Contains(stderr.String(), warning); got != tc.wantWarn {
				t.Errorf("got stderr %q, want the warning %q: %v", stderr.String(), warning, tc.wantWarn)
			}
			if strings.Contains(stderr.String(), `Route \"in\"`) {
				t.Errorf("got a warning about route in, whose secret is covered: %q", stderr.String())
			}
		})
	}
}

// TestAccessLogAsDocumented compares a real access line with the README's example, all but the
// time, the size and the duration, which vary: the two trailing fields are documented there.
func TestAccessLogAsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example := regexp.MustCompile(`(?m)^127\.0\.0\.1 - - \[.*$`).FindString(string(readme))
	if example == "" {
		t.Fatal("README.md shows no access line starting with 127.0.0.1 - - [")
	}
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=Host("host1") -> "http://%s"`, backend.Addr()))
	p.get(t, "host1", "/foo", "User-Agent", "curl/8.5.0")
	accessLine := regexp.MustCompile(`(?m)^127\.0\.0\.1 - - \[.*$`)
	poll.Until(t, 2*time.Second, "the access line", func() bool { return accessLine.MatchString(p.Log()) })
	got := accessLine.FindString(p.Log())

	// The time, then the size and the duration, which differ from run to run.
	varying := regexp.MustCompile(`\[[^\]]*\]|" 200 [0-9]+ "|" [0-9]+ host1 `)
	shape := func(line string) string {
		return varying.ReplaceAllStringFunc(line, func(m string) string {
			switch {
			case strings.HasPrefix(m, "["):
				return "[TIME]"
			case strings.HasPrefix(m, `" 200`):
				return `" 200 SIZE "`
			}
			return `" DURATION host1 `
		})
	}
	if shape(got) != shape(example) {
		t.Errorf("access line\n\t%s\ndiffers from the README's\n\t%s", got, example)
	}
}
