package proxytest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
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
	idle     time.Duration // zero: half-close after the first answer
	requests atomic.Int32
	late     atomic.Int32
	closed   chan struct{}
}

// Closed receives once for each connection the backend closed or half-closed, after the client's
// kernel has acknowledged the FIN: a request sent after a receive goes out on a connection that
// its client can know to be stale.
func (b *ClosingBackend) Closed() <-chan struct{} { return b.closed }

// Requests returns how many requests the backend answered.
func (b *ClosingBackend) Requests() int { return int(b.requests.Load()) }

// Late returns how many requests arrived on a connection the backend had half-closed, where
// they were read and could not be answered.
func (b *ClosingBackend) Late() int { return int(b.late.Load()) }

// NewIdleClosingBackend starts a backend that closes keep-alive connections idle for idle, as
// Node does after its keepAliveTimeout (5s by default). It is stopped when the test ends.
func NewIdleClosingBackend(t testing.TB, idle time.Duration) *ClosingBackend {
	t.Helper()
	return startClosing(t, idle)
}

// NewHalfClosingBackend starts a backend that answers the first request on each connection and
// then shuts down its sending side (a FIN): the connection looks open to a client that does not
// read from it, but no answer can come back on it. It is stopped when the test ends.
func NewHalfClosingBackend(t testing.TB) *ClosingBackend {
	t.Helper()
	return startClosing(t, 0)
}

func startClosing(t testing.TB, idle time.Duration) *ClosingBackend {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &ClosingBackend{URL: "http://" + ln.Addr().String(), idle: idle, closed: make(chan struct{}, 64)}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				if err := b.serve(c.(*net.TCPConn)); err != nil {
					t.Errorf("closing backend: %v", err)
				}
			})
		}
	})
	return b
}

// serve answers requests on c until the connection has been idle for b.idle, or, with no idle
// time, after the first; then it ends the connection from its side.
func (b *ClosingBackend) serve(c *net.TCPConn) error {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		if _, err := readRequest(br); err != nil {
			if b.idle > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
				break // idle too long
			}
			return nil // the client closed the connection, or the test ended
		}
		b.requests.Add(1)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		if b.idle == 0 {
			break
		}
		c.SetReadDeadline(time.Now().Add(b.idle))
	}
	if err := ShutdownWrite(c); err != nil {
		return err
	}
	if b.idle > 0 {
		c.Close()
		b.closed <- struct{}{}
		return nil
	}
	b.closed <- struct{}{}
	c.SetReadDeadline(time.Time{})
	if _, err := readRequest(br); err == nil {
		b.late.Add(1)
	}
	return nil
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
