package main

import (
	"syscall"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
)

// TestShutdownPredicateOnSIGTERM checks that a Shutdown() route takes the requests once
// skipper got SIGTERM and still serves (during -wait-for-healthcheck-interval), as Skipper's
// Shutdown() does, and not before.
func TestShutdownPredicateOnSIGTERM(t *testing.T) {
	p := startNoCleanup(t,
		`-inline-routes=down: Shutdown() -> status(503) -> inlineContent("draining") -> <shunt>; up: * -> inlineContent("up") -> <shunt>`,
		"-wait-for-healthcheck-interval=60s")
	if res, body := p.get(t, "a.test", "/"); res.StatusCode != 200 || body != "up" {
		t.Fatalf("before SIGTERM: got %d %q, want 200 \"up\"", res.StatusCode, body)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the Shutdown() route to answer", func() bool {
		res, body := p.get(t, "a.test", "/")
		return res.StatusCode == 503 && body == "draining"
	})
	// A second signal ends the wait at once.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("skipper did not exit within 20s of the second SIGTERM:\n%s", p.Log())
	}
}
