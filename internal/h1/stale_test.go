package h1_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/h1"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// nonIdempotent are the methods that may not be sent twice, and so may not go out on a pooled
// connection the backend may already have closed.
var nonIdempotent = []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, "PROPPATCH"}

// TestStaleConnectionNotUsed: a connection the backend closed or half-closed while it sat in the
// pool is not used (issue 11, finding 4): the request goes out once, on a new connection, and is
// answered. A GET would be retried after the failure; it is checked that it does not need to be.
func TestStaleConnectionNotUsed(t *testing.T) {
	backends := []struct {
		name  string
		start func(t *testing.T) *proxytest.ClosingBackend
	}{
		{"closed when idle", func(t *testing.T) *proxytest.ClosingBackend {
			return proxytest.NewIdleClosingBackend(t, 100*time.Millisecond)
		}},
		{"half-closed", func(t *testing.T) *proxytest.ClosingBackend { return proxytest.NewHalfClosingBackend(t) }},
	}
	for _, bc := range backends {
		for _, method := range append([]string{http.MethodGet}, nonIdempotent...) {
			t.Run(bc.name+"/"+method, func(t *testing.T) {
				b := bc.start(t)
				tr := h1.New(h1.Options{})
				t.Cleanup(tr.CloseIdleConnections)

				get(t, tr, http.MethodGet, b.URL, nil)
				select {
				case <-b.Closed():
				case <-time.After(10 * time.Second):
					t.Fatal("the backend did not close its connection within 10s")
				}
				res, body := get(t, tr, method, b.URL, nil)
				if res.StatusCode != http.StatusOK || body != "ok" {
					t.Errorf("%s: got %d %q, want 200 ok", method, res.StatusCode, body)
				}
				if n := b.Requests(); n != 2 {
					t.Errorf("backend answered %d requests, want 2", n)
				}
				if n := b.Late(); n != 0 {
					t.Errorf("%d requests went out on a half-closed connection, want 0", n)
				}
			})
		}
	}
}

// opaqueConn hides its connection's descriptor: the transport cannot probe it.
type opaqueConn struct{ net.Conn }

// opaqueDial dials connections that the transport cannot probe.
func opaqueDial(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return opaqueConn{nc}, nil
}

// TestUnprobedConnectionOnlyForIdempotent: a pooled connection that cannot be probed carries
// idempotent requests, which may be retried, and no others.
func TestUnprobedConnectionOnlyForIdempotent(t *testing.T) {
	s := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	tr := h1.New(h1.Options{DialContext: opaqueDial})
	t.Cleanup(tr.CloseIdleConnections)

	get(t, tr, http.MethodGet, s.URL, nil)
	get(t, tr, http.MethodGet, s.URL, nil)
	if n := s.conns.Load(); n != 1 {
		t.Fatalf("two GETs took %d connections, want 1", n)
	}
	get(t, tr, http.MethodPost, s.URL, nil)
	if n := s.conns.Load(); n != 2 {
		t.Errorf("a POST after a GET took %d connections in all, want 2: the unprobed idle one may not carry it", n)
	}
	if n := tr.IdleConns(); n != 2 {
		t.Errorf("got %d idle connections, want 2: the unprobed one stays for idempotent requests", n)
	}
}
