package connlimit_test

import (
	"errors"
	"net"
	"testing"

	"github.com/skipper-egress/skipper/internal/connlimit"
)

// TestUnwrap: a tunnel may copy between the connections beneath their wrappers; the connection
// beneath is the accepted one, with nothing pending, and closing the wrapper still gives the
// slot back and closes it.
func TestUnwrap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(ln, connlimit.Options{MaxConcurrency: 1})
	defer l.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	u, ok := c.(interface {
		Unwrap() (net.Conn, []byte)
	})
	if !ok {
		t.Fatalf("%T has no Unwrap", c)
	}
	inner, pending := u.Unwrap()
	tc, ok := inner.(*net.TCPConn)
	if !ok || pending != nil {
		t.Fatalf("Unwrap: got %T and %q pending, want the *net.TCPConn and nothing", inner, pending)
	}
	if tc.RemoteAddr().String() != peer.LocalAddr().String() {
		t.Errorf("Unwrap returned the connection from %s, want the one from %s", tc.RemoteAddr(), peer.LocalAddr())
	}
	if got := l.Stats().Active; got != 1 {
		t.Fatalf("got %d active before Close, want 1", got)
	}
	c.Close()
	if got := l.Stats().Active; got != 0 {
		t.Errorf("got %d active after closing the wrapper, want its slot back", got)
	}
	if _, err := tc.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("writing the connection beneath after Close: got %v, want %v", err, net.ErrClosed)
	}
}
