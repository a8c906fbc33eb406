package h1_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/h1"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// tlsServer is an https backend that offers HTTP/2 and HTTP/1.1, as most do, and tells each
// request's protocol and whether its connection resumed a TLS session.
type tlsServer struct {
	*httptest.Server
	conns      atomic.Int32
	handshakes atomic.Int32 // ClientHellos seen, refused ones included
}

// newTLSServer starts it; with refuseHTTP1 its handshake refuses a client that does not offer
// h2, with the no_application_protocol alert of a server that speaks HTTP/2 alone.
func newTLSServer(t *testing.T, refuseHTTP1 bool) (*tlsServer, *tls.Config) {
	t.Helper()
	cert, roots := proxytest.NewCert(t, "127.0.0.1", "backend.test")
	s := &tlsServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s resumed=%v host=%s", r.Proto, r.TLS.DidResume, r.TLS.ServerName)
	}))
	s.EnableHTTP2 = true
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			s.handshakes.Add(1)
			for _, p := range hello.SupportedProtos {
				if p == "h2" {
					return nil, nil // the server's own configuration
				}
			}
			if refuseHTTP1 {
				// No protocol in common and no h2 to fall back from: Go's server then
				// sends no_application_protocol.
				return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2-only"}}, nil
			}
			return nil, nil
		},
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s, &tls.Config{RootCAs: roots}
}

func TestTLSBackendOverHTTP1WithResumption(t *testing.T) {
	s, conf := newTLSServer(t, false)
	tr := h1.New(h1.Options{TLSClientConfig: conf})
	t.Cleanup(tr.CloseIdleConnections)
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())

	// A server that offers HTTP/2 speaks HTTP/1.1 with it, and the pooled connection carries
	// the next request.
	res, body := get(t, tr, http.MethodGet, "https://127.0.0.1:"+port+"/", nil)
	if res.StatusCode != http.StatusOK || body != "HTTP/1.1 resumed=false host=" {
		t.Fatalf("first request: %d %q, want 200 over HTTP/1.1, a full handshake, no SNI for an IP", res.StatusCode, body)
	}
	if _, body = get(t, tr, http.MethodGet, "https://127.0.0.1:"+port+"/", nil); body != "HTTP/1.1 resumed=false host=" {
		t.Fatalf("second request: %q, want the same connection", body)
	}
	if n := s.conns.Load(); n != 1 {
		t.Fatalf("%d connections for two requests in a row, want 1", n)
	}

	// A new connection resumes the session: the pool is emptied, the session cache is not.
	tr.CloseIdleConnections()
	if _, body = get(t, tr, http.MethodGet, "https://127.0.0.1:"+port+"/", nil); body != "HTTP/1.1 resumed=true host=" {
		t.Fatalf("after the pool was emptied: %q, want a resumed session", body)
	}

	// The name in the URL is the one the certificate must hold and the one sent as SNI.
	tr2 := h1.New(h1.Options{TLSClientConfig: conf, DialContext: dialTo(s.Listener.Addr().String())})
	t.Cleanup(tr2.CloseIdleConnections)
	if _, body = get(t, tr2, http.MethodGet, "https://backend.test/", nil); body != "HTTP/1.1 resumed=false host=backend.test" {
		t.Fatalf("by name: %q", body)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://other.test/", nil)
	if _, err := tr2.RoundTrip(req); err == nil || !errors.As(err, new(*tls.CertificateVerificationError)) {
		t.Fatalf("a name the certificate does not hold: %v, want a verification error", err)
	}
}

func TestTLSBackendRefusingHTTP1(t *testing.T) {
	s, conf := newTLSServer(t, true)
	tr := h1.New(h1.Options{TLSClientConfig: conf})
	t.Cleanup(tr.CloseIdleConnections)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
	res, err := tr.RoundTrip(req)
	if !errors.Is(err, h1.ErrNoHTTP1) {
		t.Fatalf("got %v, %v; want ErrNoHTTP1", res, err)
	}
	if n := s.handshakes.Load(); n != 1 {
		t.Fatalf("%d handshakes, want 1", n)
	}
}

// dialTo returns a dialer that connects to addr whatever address it is asked for.
func dialTo(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

// TestTLSRecordsBehindResponse has a backend send close_notify, or bytes nobody asked for, in
// the same TCP segment as a response: the client's TLS layer reads them from the socket with the
// response, where no look at the socket finds them. A POST without a body, which no client may
// send twice, must then go out on a new connection. (net/http's client finds them with the read
// it starts after each response, and races the next request for the connection.)
func TestTLSRecordsBehindResponse(t *testing.T) {
	cert, roots := proxytest.NewCert(t, "127.0.0.1")
	for _, behind := range []string{"close_notify", "unsolicited"} {
		t.Run(behind, func(t *testing.T) {
			url, conns := serveBatched(t, cert, behind)
			tr := h1.New(h1.Options{TLSClientConfig: &tls.Config{RootCAs: roots}})
			t.Cleanup(tr.CloseIdleConnections)
			for i, method := range []string{http.MethodGet, http.MethodPost} {
				req, _ := http.NewRequest(method, url, nil)
				res, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatalf("request %d (%s): %v", i, method, err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			if n := conns.Load(); n != 2 {
				t.Errorf("%d connections, want 2", n)
			}
		})
	}
}

// serveBatched serves TLS on a new listener: every connection answers its first request with a
// response followed, in one TCP write, by what behind names, and then serves requests on.
func serveBatched(t *testing.T, cert tls.Certificate, behind string) (string, *atomic.Int32) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns := new(atomic.Int32)
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer raw.Close()
				bc := &batchConn{Conn: raw}
				tc := tls.Server(bc, &tls.Config{Certificates: []tls.Certificate{cert}})
				br := bufio.NewReader(tc)
				for first := true; ; first = false {
					if _, err := http.ReadRequest(br); err != nil {
						return
					}
					bc.hold(first)
					io.WriteString(tc, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
					if first {
						if behind == "close_notify" {
							tc.CloseWrite()
						} else {
							io.WriteString(tc, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
						}
						bc.flush()
						// Keep the TCP connection open, so that the socket shows nothing.
						br.ReadByte()
						return
					}
				}
			}()
		}
	}()
	return "https://" + ln.Addr().String() + "/", conns
}

// batchConn holds what is written to it while held, and writes it in one go on flush.
type batchConn struct {
	net.Conn
	held bool
	buf  []byte
}

func (c *batchConn) hold(on bool) { c.held = on }

func (c *batchConn) Write(p []byte) (int, error) {
	if c.held {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *batchConn) flush() {
	c.held = false
	c.Conn.SetWriteDeadline(time.Time{}) // close_notify leaves one in the past, against later writes
	c.Conn.Write(c.buf)
}
