package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestMaxResponseHeaderBytes: -max-response-header-bytes limits a backend's response head, with
// net/http's 10 MiB by default; a head over it gets the client a 502 (issue 11, finding 5).
func TestMaxResponseHeaderBytes(t *testing.T) {
	def, _, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if def.MaxResponseHeaderBytes != 10<<20 {
		t.Errorf("default -max-response-header-bytes: got %d, want net/http's %d", def.MaxResponseHeaderBytes, 10<<20)
	}
	var stderr strings.Builder
	if code := run([]string{"-max-response-header-bytes=0"}, &strings.Builder{}, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "-max-response-header-bytes must be positive, got 0") {
		t.Errorf("-max-response-header-bytes=0: got exit code %d and %q, want %d and the reason", code, stderr.String(), exitUsage)
	}

	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Header().Set("X-Pad", strings.Repeat("p", 64<<10))
		}
		w.Write([]byte("ok"))
	})
	p := start(t, fmt.Sprintf(`-inline-routes=* -> "http://%s"`, backend.Addr()), "-max-response-header-bytes=32768")
	if res, body := p.get(t, "any", "/small"); res.StatusCode != http.StatusOK || body != "ok" {
		t.Errorf("small head: got %d %q, want 200 ok", res.StatusCode, body)
	}
	if res, body := p.get(t, "any", "/big"); res.StatusCode != http.StatusBadGateway || body != "Bad Gateway\n" {
		t.Errorf("64 KiB head over a 32 KiB limit: got %d %q, want 502 \"Bad Gateway\\n\"", res.StatusCode, body)
	}
}
