package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/routesrc"
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

// TestNotReadyWhileNoRouteCompiles starts skipper with routes that parse but of which none
// compiles, the typos of a first try: /ready fails, and the log says at error level why each
// route was left out and what was likely meant, until the routes are fixed.
func TestNotReadyWhileNoRouteCompiles(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), canary)
	typos := fmt.Sprintf(`api: Host("^api$") -> bearerInjector(%q) -> "http://%s";
plain: Host("^plain$") -> "%s";
`, filepath.Join(dir, "token"), backend.Addr(), backend.Addr())
	wantLog := []string{
		`level=error msg="Route left out: SOURCE:1:1: route \"api\": unknown filter \"bearerInjector\"; did you mean \"bearerinjector\"?"`,
		`level=error msg="Route left out: SOURCE:2:1: route \"plain\": invalid backend \"` + backend.Addr() +
			`\": no scheme; did you mean \"http://` + backend.Addr() + `\"?"`,
		`level=error msg="No route compiled (2 invalid), serving no routes until one does"`,
	}

	t.Run("inline", func(t *testing.T) {
		p := start(t, "-inline-routes="+typos, "-credentials-paths="+dir, "-access-log-disabled")
		checkNotReady(t, p, routesrc.InlineName, wantLog)
	})
	t.Run("file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "routes.eskip")
		writeFile(t, file, typos)
		p := start(t, "-routes-file="+file, "-credentials-paths="+dir, "-access-log-disabled")
		checkNotReady(t, p, file, wantLog)
		if want := `level=warning msg="Serving no routes until routes file ` + file + ` is fixed"`; !strings.Contains(p.Log(), want) {
			t.Errorf("log does not contain %s:\n%s", want, p.Log())
		}

		fixed := strings.NewReplacer("bearerInjector", "bearerinjector", `-> "`+backend.Addr(), `-> "http://`+backend.Addr()).Replace(typos)
		writeFile(t, file+".tmp", fixed)
		if err := os.Rename(file+".tmp", file); err != nil {
			t.Fatal(err)
		}
		poll.Until(t, 10*time.Second, "/ready answering 200 once the routes compile", func() bool {
			code, _ := p.supportGet(t, "/ready")
			return code == http.StatusOK
		})
		for _, host := range []string{"api", "plain"} {
			if res, _ := p.get(t, host, "/"); res.StatusCode != http.StatusOK {
				t.Errorf("got %d from the fixed route %s, want 200", res.StatusCode, host)
			}
		}
	})
}

// checkNotReady checks that p is not ready, serves nothing, and logged each of wantLog (with
// SOURCE for the name of the routes' source).
func checkNotReady(t *testing.T, p *process, source string, wantLog []string) {
	t.Helper()
	if code, body := p.supportGet(t, "/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/ready with no route compiled: got %d %q, want 503", code, body)
	}
	_, metrics := p.supportGet(t, "/metrics")
	if v := metricValue(metrics, "skipper_routes_last_reload_success"); v != 0 {
		t.Errorf("skipper_routes_last_reload_success = %v with no route compiled, want 0", v)
	}
	if res, _ := p.get(t, "api", "/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("got %d for a route left out, want 404", res.StatusCode)
	}
	for _, w := range wantLog {
		if w = strings.ReplaceAll(w, "SOURCE", source); !strings.Contains(p.Log(), w) {
			t.Errorf("log does not contain %s:\n%s", w, p.Log())
		}
	}
}
