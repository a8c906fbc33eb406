package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// statusCutShort makes a routesServer answer 200 with a body shorter than its Content-Length.
const statusCutShort = 999

// routesServer serves an eskip document that a test changes, and counts the fetches.
type routesServer struct {
	*httptest.Server
	mu      sync.Mutex
	status  int
	doc     string
	fetches int
}

func newRoutesServer(t *testing.T, status int, doc string) *routesServer {
	s := &routesServer{status: status, doc: doc}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetches++
		if s.status == statusCutShort {
			// A whole document follows, but the answer promised more: the body is cut short.
			w.Header().Set("Content-Length", fmt.Sprint(len(s.doc)+100))
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, s.doc)
			return
		}
		w.WriteHeader(s.status)
		fmt.Fprint(w, s.doc)
	}))
	t.Cleanup(s.Close)
	return s
}

// set changes the answer and returns the fetch count at that moment.
func (s *routesServer) set(status int, doc string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.doc = status, doc
	return s.fetches
}

// fetchedSince waits until skipper fetched twice after the count n: the second fetch started
// after the first was handled.
func (s *routesServer) fetchedSince(t *testing.T, n int) {
	t.Helper()
	poll.Until(t, 10*time.Second, "two more fetches of the routes URL", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.fetches >= n+2
	})
}

// TestRoutesURLs runs the binary with -routes-urls: routes come and go with the document, and
// the routes file's rules hold: a document that does not parse, or a fetch that fails, keeps
// the URL's routes; an empty document takes them away. The URL's credentials never reach the
// log (the canary check of every started process).
func TestRoutesURLs(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	route := func(host string) string {
		return fmt.Sprintf(`%[1]s: Host("^%[1]s$") -> "http://%[2]s";`, host, backend.Addr())
	}
	srv := newRoutesServer(t, http.StatusOK, route("a"))
	url := strings.Replace(srv.URL, "http://", "http://user:"+canary+"@", 1) + "/routes.eskip?token=" + canary
	p := start(t, "-routes-urls="+url, "-source-poll-timeout=20", "-inline-routes="+route("inline"))

	status := func(host string) int {
		res, _ := p.get(t, host, "/")
		return res.StatusCode
	}
	if got := status("a"); got != http.StatusOK {
		t.Fatalf("route a from the URL at start: %d", got)
	}
	if code, _ := p.supportGet(t, "/ready"); code != http.StatusOK {
		t.Errorf("/ready: %d with the URL loaded", code)
	}

	srv.set(http.StatusOK, route("b"))
	poll.Until(t, 10*time.Second, "route b from the changed document", func() bool { return status("b") == http.StatusOK })
	if got := status("a"); got != http.StatusNotFound {
		t.Errorf("route a, gone from the document: %d", got)
	}

	for _, bad := range []struct {
		name   string
		status int
		doc    string
	}{
		{"syntax error", http.StatusOK, `b: Host("^b$") -> "http://`},
		{"server error", http.StatusInternalServerError, ""},
		{"not found", http.StatusNotFound, ""},
		{"body cut short", statusCutShort, `c: Host("^c$") -> <shunt>;`},
	} {
		srv.fetchedSince(t, srv.set(bad.status, bad.doc))
		if got := status("b"); got != http.StatusOK {
			t.Errorf("%s: route b answered %d, want it kept", bad.name, got)
		}
	}

	srv.set(http.StatusOK, "")
	poll.Until(t, 10*time.Second, "an empty document taking route b away", func() bool { return status("b") == http.StatusNotFound })
	if got := status("inline"); got != http.StatusOK {
		t.Errorf("inline route with the URL empty: %d", got)
	}
	if strings.Contains(p.Log(), "token=") || strings.Contains(p.Log(), "user:") {
		t.Errorf("the log shows the URL's query or user info:\n%s", p.Log())
	}
}

// TestRoutesURLBrokenAtStart checks that a URL that cannot be fetched at start leaves skipper
// serving without it and not ready, until it answers.
func TestRoutesURLBrokenAtStart(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	srv := newRoutesServer(t, http.StatusServiceUnavailable, "")
	p := start(t, "-routes-urls="+srv.URL, "-source-poll-timeout=20",
		fmt.Sprintf(`-inline-routes=inline: Host("^inline$") -> "http://%s"`, backend.Addr()))
	if code, _ := p.supportGet(t, "/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/ready: %d while the URL never loaded, want 503", code)
	}
	if res, _ := p.get(t, "inline", "/"); res.StatusCode != http.StatusOK {
		t.Errorf("inline route while the URL is down: %d", res.StatusCode)
	}
	srv.set(http.StatusOK, fmt.Sprintf(`u: Host("^u$") -> "http://%s";`, backend.Addr()))
	poll.Until(t, 10*time.Second, "ready once the URL answers", func() bool {
		code, _ := p.supportGet(t, "/ready")
		return code == http.StatusOK
	})
	if res, _ := p.get(t, "u", "/"); res.StatusCode != http.StatusOK {
		t.Errorf("route u from the URL: %d", res.StatusCode)
	}
}

// TestRoutesURLFlagErrors checks that a routes URL that is not http(s) stops skipper, without
// showing the URL, which may hold credentials.
func TestRoutesURLFlagErrors(t *testing.T) {
	_, stderr, code := runBinary(t, t.TempDir(), "-routes-urls=http://ok.example.org/r,ftp://user:"+canary+"@x/r")
	if code != exitUsage || !strings.Contains(stderr, "-routes-urls: entry 2 is not an http:// or https:// URL") || strings.Contains(stderr, canary) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
