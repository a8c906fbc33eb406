package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestDrainAsksClientsToLeave: once the proxy drains, every answer asks the client to leave its
// connection: "Connection: close" over HTTP/1.1, GOAWAY over HTTP/2, so the next request takes
// a new connection. Before, connections are kept alive.
func TestDrainAsksClientsToLeave(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	for _, tc := range []struct {
		name  string
		tls   bool
		proto string
	}{
		{"HTTP/1.1", false, "HTTP/1.1"},
		{"HTTP/2", true, "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{TLS: tc.tls})
			// send returns whether the request went on a reused connection and whether the
			// answer asked to close it.
			send := func() (reused, closed bool) {
				t.Helper()
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
				req, err := http.NewRequest("GET", p.URL+"/", nil)
				if err != nil {
					t.Fatal(err)
				}
				res, err := p.Client().Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || res.Proto != tc.proto {
					t.Fatalf("got %d over %s, want 200 over %s", res.StatusCode, res.Proto, tc.proto)
				}
				return reused, res.Close
			}
			send()
			if reused, closed := send(); !reused || closed {
				t.Fatalf("before Drain: reused %v, asked to close %v; want the connection kept", reused, closed)
			}
			p.Handler.Drain()
			if reused, closed := send(); !reused || (tc.proto == "HTTP/1.1" && !closed) {
				t.Fatalf("first answer after Drain: reused %v, Connection: close %v; want the kept connection, then close", reused, closed)
			}
			if reused, _ := send(); reused {
				t.Errorf("after the first answer of the drain: the next request reused the connection, want a new one")
			}
		})
	}
}
