package h1_test

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/internal/h1"
)

// The differences from net/http's Transport that FuzzExchange found, one test each.

// TestStatusBelow200EndsTheConnection: a final status below 200 (a 101 without a switch, or a
// code under 100) leaves the connection unused afterwards, as net/http's readLoop does.
func TestStatusBelow200EndsTheConnection(t *testing.T) {
	for _, head := range []string{
		"HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
	} {
		t.Run(head[9:12], func(t *testing.T) {
			s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
				if n == 0 {
					io.WriteString(c, head)
				} else {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
				return true
			})
			tr := h1.New(h1.Options{})
			t.Cleanup(tr.CloseIdleConnections)
			get(t, tr, http.MethodGet, s.url(), nil)
			get(t, tr, http.MethodGet, s.url(), nil)
			if n := s.conns.Load(); n != 2 {
				t.Errorf("got %d connections, want 2: none after a status below 200", n)
			}
		})
	}
}

// TestUnaskedSwitchHandsOverTheConnection: a 101 that switches protocols (Upgrade, and
// Connection: upgrade) has the rest of the connection as its body, as in net/http; the proxy
// refuses such an answer to a request that asked for no switch.
func TestUnaskedSwitchHandsOverTheConnection(t *testing.T) {
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\nraw bytes")
		return false
	})
	tr := h1.New(h1.Options{})
	t.Cleanup(tr.CloseIdleConnections)
	res, body := get(t, tr, http.MethodGet, s.url(), nil)
	if res.StatusCode != http.StatusSwitchingProtocols || body != "raw bytes" {
		t.Errorf("got %d %q, want 101 with the connection's bytes", res.StatusCode, body)
	}
	if n := tr.IdleConns(); n != 0 {
		t.Errorf("got %d idle connections, want 0", n)
	}
}

// TestIdempotencyKeyWithoutValue: an Idempotency-Key present without a value (so not sent) still
// makes a request one that may be sent again, as net/http's Header.has reads it.
func TestIdempotencyKeyWithoutValue(t *testing.T) {
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		if n == 1 {
			return false // read the second request, then hang up without an answer
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return true
	})
	tr := h1.New(h1.Options{})
	t.Cleanup(tr.CloseIdleConnections)
	get(t, tr, http.MethodGet, s.url(), nil)
	if _, body := get(t, tr, http.MethodPost, s.url(), http.Header{"Idempotency-Key": nil}); body != "ok" {
		t.Errorf("got %q, want ok after a retry", body)
	}
	if n := s.requests.Load(); n != 3 {
		t.Errorf("backend saw %d requests, want 3: the POST twice", n)
	}
}
