package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

type guardConnKey struct{}

// TestGuardConnUnwrap: the tunnel bytes a client sends in the same write as its CONNECT head
// are held by the guard until the hijack; Unwrap then hands them over once, with the
// connection beneath, and gives the guard's buffer back. Before the hijack it refuses.
func TestGuardConnUnwrap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		beforeHijack net.Conn
		inner        net.Conn
		pending      string
		buffered     int
		released     bool
		next         string
		err          error
	}
	results := make(chan result, 1)
	unwrapped := make(chan struct{})
	srv := &http.Server{
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, guardConnKey{}, c)
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var res result
			defer func() { results <- res }()
			gc := r.Context().Value(guardConnKey{}).(*guardConn)
			res.beforeHijack, _ = gc.Unwrap()
			conn, brw, err := hijack(w)
			if err != nil {
				res.err = err
				return
			}
			defer conn.Close()
			res.buffered = brw.Reader.Buffered()
			inner, pending := gc.Unwrap()
			res.inner, res.pending = inner, string(pending)
			res.released = gc.back == nil && gc.in == nil
			close(unwrapped)
			if inner == nil {
				return
			}
			inner.SetReadDeadline(time.Now().Add(10 * time.Second))
			next := make([]byte, len(" and then"))
			_, res.err = io.ReadFull(inner, next)
			res.next = string(next)
		}),
	}
	go srv.Serve(&guardListener{Listener: ln, g: newGuard("N", 1<<16)})
	t.Cleanup(func() { srv.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// One write, far below a segment: the guard reads it in one piece.
	if _, err := io.WriteString(conn, "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\nclient-hello"); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case <-unwrapped:
	case res = <-results:
		t.Fatalf("the handler ended before Unwrap: %v", res.err)
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not unwrap within 10s")
	}
	// What comes now follows the held bytes, on the connection beneath.
	if _, err := io.WriteString(conn, " and then"); err != nil {
		t.Fatal(err)
	}
	select {
	case res = <-results:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not finish within 10s")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.beforeHijack != nil {
		t.Error("Unwrap before the hijack returned a connection, want nil")
	}
	if _, ok := res.inner.(*net.TCPConn); !ok {
		t.Fatalf("Unwrap after the hijack returned %T, want the *net.TCPConn beneath", res.inner)
	}
	if res.buffered != 0 || res.pending != "client-hello" {
		t.Errorf("got %q pending from Unwrap and %d bytes in the server's buffer, want %q and 0", res.pending, res.buffered, "client-hello")
	}
	if !res.released {
		t.Error("the guard kept its buffer after Unwrap")
	}
	if res.next != " and then" {
		t.Errorf("the connection beneath then read %q, want %q", res.next, " and then")
	}
}
