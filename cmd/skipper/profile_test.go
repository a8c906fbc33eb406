package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestProfiles runs the binary: -enable-profile serves Go's profiles under /debug/pprof/ on the
// support listener, which serves none without it; -debug-listener serves them on a listener of
// its own, and nothing else there.
func TestProfiles(t *testing.T) {
	plain := start(t, `-inline-routes=* -> <shunt>`)
	if code, _ := plain.supportGet(t, "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("without -enable-profile, /debug/pprof/ answered %d, want 404", code)
	}

	// A routes URL's user info is a credential on the command line.
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer docs.Close()
	routesURL := strings.Replace(docs.URL, "http://", "http://u:cmdline-secret@", 1)
	p := start(t, `-inline-routes=* -> <shunt>`, "-enable-profile", "-debug-listener=127.0.0.1:0",
		"-routes-urls="+routesURL)
	if code, body := p.supportGet(t, "/debug/pprof/goroutine?debug=1"); code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Errorf("support /debug/pprof/goroutine: %d %.80q", code, body)
	}
	// The command line may hold credentials: it is not served.
	if code, body := p.supportGet(t, "/debug/pprof/cmdline"); code == http.StatusOK || strings.Contains(body, "cmdline-secret") {
		t.Errorf("support /debug/pprof/cmdline: %d %q, want no command line", code, body)
	}
	if code, _ := p.supportGet(t, "/ready"); code != http.StatusOK {
		t.Errorf("/ready behind the profiles answered %d", code)
	}

	m := regexp.MustCompile(`Debug listener on ([^\s"\\]+)`).FindStringSubmatch(p.Log())
	if m == nil {
		t.Fatalf("skipper did not log its debug listener:\n%s", p.Log())
	}
	get := func(path string) (int, string) {
		res, err := http.Get("http://" + m[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if code, body := get("/debug/pprof/heap?debug=1"); code != http.StatusOK || !strings.Contains(body, "heap profile:") {
		t.Errorf("debug listener /debug/pprof/heap: %d %.80q", code, body)
	}
	if code, body := get("/debug/pprof/cmdline"); code == http.StatusOK || strings.Contains(body, "cmdline-secret") {
		t.Errorf("debug listener /debug/pprof/cmdline: %d %q, want no command line", code, body)
	}
	if code, _ := get("/metrics"); code != http.StatusNotFound {
		t.Errorf("debug listener /metrics answered %d, want 404", code)
	}
}
