package proxytest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ClosingBackend is a loopback HTTP/1.1 backend that ends keep-alive connections on its own, as
// real servers do when their idle timeout passes, without a Connection: close that would warn
// the client. It answers every request 200 with the body "ok".
type ClosingBackend struct {
	URL      string
	requests atomic.Int32
	late     atomic.Int32
	closed   chan struct{}
}

// Closed receives once for each connection the backend closed or half-closed; the next request
// sent after a receive would find the connection stale.
func (b *ClosingBackend) Closed() <-chan struct{} { return b.closed }

// Requests returns how many requests the backend answered.
func (b *ClosingBackend) Requests() int { return int(b.requests.Load()) }

// Late returns how many requests arrived on a connection the backend had half-closed, where
// they were read and could not be answered.
func (b *ClosingBackend) Late() int { return int(b.late.Load()) }

// NewIdleClosingBackend starts a Go server that closes keep-alive connections idle for idle
// (Node's keepAliveTimeout is 5s). It is stopped when the test ends.
func NewIdleClosingBackend(t testing.TB, idle time.Duration) *ClosingBackend {
	t.Helper()
	b := &ClosingBackend{closed: make(chan struct{}, 64)}
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		b.requests.Add(1)
		io.WriteString(w, "ok")
	}))
	s.Config.IdleTimeout = idle
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed { // set after the connection was closed
			b.closed <- struct{}{}
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	b.URL = s.URL
	return b
}

// NewHalfClosingBackend starts a backend that answers the first request on each connection and
// then shuts down its sending side (a FIN): the connection looks open to a client that does not
// read from it, but no answer can come back on it. It is stopped when the test ends.
func NewHalfClosingBackend(t testing.TB) *ClosingBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &ClosingBackend{URL: "http://" + ln.Addr().String(), closed: make(chan struct{}, 64)}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { b.serveOnce(c.(*net.TCPConn)) })
		}
	})
	return b
}

func (b *ClosingBackend) serveOnce(c *net.TCPConn) {
	defer c.Close()
	br := bufio.NewReader(c)
	if _, err := readRequest(br); err != nil {
		return
	}
	b.requests.Add(1)
	io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	c.CloseWrite()
	b.closed <- struct{}{}
	if _, err := readRequest(br); err == nil {
		b.late.Add(1)
	}
}

// readRequest reads one request with its body.
func readRequest(br *bufio.Reader) (*http.Request, error) {
	r, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, r.Body)
	return r, err
}
