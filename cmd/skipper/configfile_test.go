package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestConfigFile runs the binary with a Skipper-style YAML -config-file: its keys set the flags
// the command line leaves alone, lists feed repeatable and list flags, and a flag given on the
// command line wins.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	backend := proxytest.NewBackend(t, nil)
	config := filepath.Join(dir, "skipper.yaml")
	writeFile(t, config, fmt.Sprintf(`# as Skipper reads it
inline-routes: |
  api: Host("^api$") -> "http://%s";
default-http-status: 418
default-filters-append:
  - appendRequestHeader("X-From-File", "1")
  - appendRequestHeader("X-From-File", "2")
forwarded-headers: [X-Forwarded-Host, X-Forwarded-Method]
access-log-disabled: true
source-poll-timeout: 50
`, backend.Addr()))
	p := start(t, "-config-file", config, "-default-http-status=421")

	if res, _ := p.get(t, "nowhere", "/"); res.StatusCode != 421 {
		t.Errorf("no route: status %d, want the command line's 421 over the file's 418", res.StatusCode)
	}
	if res, _ := p.get(t, "api", "/"); res.StatusCode != http.StatusOK {
		t.Fatalf("the file's inline route: status %d", res.StatusCode)
	}
	h := backend.Last(t).Header
	if got := strings.Join(h.Values("X-From-File"), ","); got != "1,2" {
		t.Errorf("default filters from the file's list: X-From-File %q, want 1,2", got)
	}
	if h.Get("X-Forwarded-Host") != "api" || h.Get("X-Forwarded-Method") != "GET" {
		t.Errorf("forwarded headers from the file's flow list: %v", h)
	}
	if strings.Contains(p.Log(), `"GET / HTTP/1.1" 200`) {
		t.Errorf("the access log is on although the file turns it off:\n%s", p.Log())
	}
}

// TestConfigFileErrors checks that a config file skipper cannot follow stops it with the file,
// the line and the reason.
func TestConfigFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "address: :1\nno-such-flag: 1\n", `skipper.yaml:2: unknown key "no-such-flag"`},
		{"left-out subsystem", "kubernetes: true\n", "not supported by this egress proxy: -kubernetes"},
		{"list for one value", "address: [a, b]\n", "skipper.yaml:1: address takes one value, not a list"},
		{"bad value", "source-poll-timeout: soon\n", "skipper.yaml:1: source-poll-timeout: "},
		{"not a mapping", "- address\n", "want a mapping of flag names to values"},
		{"not YAML", "address: [\n", "-config-file skipper.yaml: yaml: "},
		{"nested config file", "config-file: other.yaml\n", `unknown key "config-file"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "skipper.yaml"), tc.yaml)
			_, stderr, code := runBinary(t, dir, "-config-file=skipper.yaml")
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, tc.want)
			}
		})
	}
	_, stderr, code := runBinary(t, t.TempDir(), "-config-file=missing.yaml")
	if code != exitUsage || !strings.Contains(stderr, "-config-file: open missing.yaml: no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
}
