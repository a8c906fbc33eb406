package filters_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestLifoBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewLifo(), []argsCase{
		{"zero", []any{0.0}, "lifo: argument 1 must be a whole number from 1, got 0"},
		{"four", []any{1.0, 1.0, "1s", 1.0}, "lifo: too many arguments"},
	})
	testBadArgs(t, filters.NewLifoGroup(), []argsCase{
		{"none", nil, "lifoGroup: want 1 to 4 arguments (name[, max concurrency[, max stack size[, timeout]]]), got 0"},
		{"stack", []any{"g", 1.0, -1.0}, "lifoGroup: argument 3 must be a whole number from 0, got -1"},
	})
}

// TestLifoThroughProxy holds one request in the backend while others wait: when the stack is
// full the one that waited longest gets 503, one that waits too long 502, and the latest gets
// the place when the first is done. lifoGroup shares the place across its routes.
func TestLifoThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	release := make(chan struct{})
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
	})
	p := proxytest.New(t, fmt.Sprintf(`
		lifo: Host("lifo.test") -> lifo(1, 1, "10s") -> "http://%[1]s";
		g1: Host("g1.test") -> lifoGroup("g", 1, 1, 50) -> "http://%[1]s";
		g2: Host("g2.test") -> lifoGroup("g") -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	filterOf := func(host string) filters.Filter {
		return p.Router.Match(httptest.NewRequest("GET", "http://"+host+"/", nil)).Filters[0]
	}
	do := func(host, path string) chan int {
		c := make(chan int, 1)
		go func() {
			res, _ := p.Do(t, "GET", host, path)
			c <- res.StatusCode
		}()
		return c
	}

	a := do("lifo.test", "/hold")
	poll.Until(t, 5*time.Second, "the first request in the backend", func() bool { return len(backend.Received()) == 1 })
	b := do("lifo.test", "/b")
	poll.Until(t, 5*time.Second, "the second request waiting", func() bool { return filters.LifoWaiting(filterOf("lifo.test")) == 1 })
	c := do("lifo.test", "/c")
	if got := <-b; got != http.StatusServiceUnavailable {
		t.Errorf("the request that waited longest got %d, want 503", got)
	}
	release <- struct{}{}
	if got := <-a; got != 200 {
		t.Errorf("first request got %d", got)
	}
	if got := <-c; got != 200 {
		t.Errorf("the latest request got %d, want 200", got)
	}

	a = do("g1.test", "/hold")
	poll.Until(t, 5*time.Second, "the group's first request in the backend", func() bool { return len(backend.Received()) == 3 })
	if res, _ := p.Do(t, "GET", "g2.test", "/late"); res.StatusCode != http.StatusBadGateway {
		t.Errorf("another route of the group got %d, want 502 after waiting for the shared place", res.StatusCode)
	}
	release <- struct{}{}
	if got := <-a; got != 200 {
		t.Errorf("group's first request got %d", got)
	}
}
