//go:build !race

// The race detector allocates on its own, so allocation counts are only checked without it.

package connlimit_test

import (
	"net"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/internal/connlimit"
)

// TestConnStateDoesNotAllocate: the server reports every request's start and end; following
// that costs no allocation.
func TestConnStateDoesNotAllocate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(ln, connlimit.Options{MaxConcurrency: 4})
	defer l.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l.ConnState(c, http.StateNew)
	got := testing.AllocsPerRun(100, func() {
		l.ConnState(c, http.StateActive)
		l.ConnState(c, http.StateIdle)
	})
	if got != 0 {
		t.Errorf("got %v allocs per request, want 0", got)
	}
	if st := l.Stats(); st.Idle != 1 {
		t.Errorf("got %d idle, want 1: the states were not followed", st.Idle)
	}
}
