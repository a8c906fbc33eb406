package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestNotReadyUntilRoutesFileParses starts skipper with a routes file that does not parse: it
// serves, but /ready fails and the reload metric says 0 until the file is fixed, as with
// -inline-routes, which refuses to start on the same error.
func TestNotReadyUntilRoutesFileParses(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	file := filepath.Join(t.TempDir(), "routes.eskip")
	writeFile(t, file, fmt.Sprintf("api: Host(\"^api$\")\n  \"http://%s\";\n", backend.Addr())) // no "->"
	p := start(t, "-routes-file="+file, "-access-log-disabled")

	if code, body := p.supportGet(t, "/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/ready with a broken routes file: got %d %q, want 503", code, body)
	}
	_, metrics := p.supportGet(t, "/metrics")
	if v := metricValue(metrics, "skipper_routes_last_reload_success"); v != 0 {
		t.Errorf("skipper_routes_last_reload_success = %v with a broken routes file, want 0", v)
	}
	if res, _ := p.get(t, "api", "/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("got %d for the route of the broken file, want 404", res.StatusCode)
	}

	// Fixed by rename, as deployment tools do.
	fixed := fmt.Sprintf("api: Host(\"^api$\") -> \"http://%s\";\n", backend.Addr())
	writeFile(t, file+".tmp", fixed)
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "/ready answering 200 once the file parses", func() bool {
		code, _ := p.supportGet(t, "/ready")
		return code == http.StatusOK
	})
	_, metrics = p.supportGet(t, "/metrics")
	if v := metricValue(metrics, "skipper_routes_last_reload_success"); v != 1 {
		t.Errorf("skipper_routes_last_reload_success = %v once the file parses, want 1", v)
	}
	if res, _ := p.get(t, "api", "/"); res.StatusCode != http.StatusOK {
		t.Errorf("got %d from the fixed route, want 200", res.StatusCode)
	}
}
