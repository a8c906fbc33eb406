package proxytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Received is one request as a test backend saw it.
type Received struct {
	Method     string
	RequestURI string
	Proto      string
	Host       string
	Header     http.Header
	Body       []byte
}

// Backend is a loopback HTTP server that records every request it receives.
type Backend struct {
	*httptest.Server
	mu       sync.Mutex
	received []Received
}

// NewBackend starts a backend that records each request, reads its body, and then calls answer;
// a nil answer replies 200 with the body "ok". It is closed when the test ends.
func NewBackend(t testing.TB, answer http.HandlerFunc) *Backend {
	t.Helper()
	b := &Backend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("backend: reading request body: %v", err)
		}
		b.mu.Lock()
		b.received = append(b.received, Received{
			Method: r.Method, RequestURI: r.RequestURI, Proto: r.Proto, Host: r.Host,
			Header: r.Header.Clone(), Body: body,
		})
		b.mu.Unlock()
		if answer == nil {
			io.WriteString(w, "ok")
			return
		}
		answer(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

// Received returns a copy of the requests seen so far, oldest first.
func (b *Backend) Received() []Received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Received(nil), b.received...)
}

// Last returns the latest request; it fails the test when there was none.
func (b *Backend) Last(t testing.TB) Received {
	t.Helper()
	r := b.Received()
	if len(r) == 0 {
		t.Fatal("backend received no request")
	}
	return r[len(r)-1]
}

// Addr returns the backend's host:port.
func (b *Backend) Addr() string { return b.Listener.Addr().String() }
