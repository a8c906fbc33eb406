package proxy_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestSmugglingRefused sends requests whose framing a front proxy and a backend could read in
// two ways. Each gets 400, the connection is closed after it, and nothing reaches the backend.
func TestSmugglingRefused(t *testing.T) {
	cases := []struct {
		name string
		raw  string
	}{
		{"content-length and transfer-encoding", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"transfer-encoding before content-length", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"},
		{"chunked, chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"},
		{"two transfer-encoding fields", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"gzip", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n"},
		{"identity", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello"},
		{"xchunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"},
		{"transfer-encoding in HTTP/1.0", "POST / HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"obs-fold in transfer-encoding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n"},
		{"obs-fold elsewhere", "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n"},
		{"space before colon", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"},
		{"two different content-lengths", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
		{"content-length list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello!"},
		{"content-length with sign", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello"},
		{"content-length with inner space", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\nhello"},
		{"content-length in hex", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\nhello"},
	}
	for _, mode := range rigModes {
		t.Run(mode, func(t *testing.T) {
			rig := newFramingRig(t, mode, nil)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					conn := rig.dial(t)
					io.WriteString(conn, tc.raw)
					br := bufio.NewReader(conn)
					res, err := http.ReadResponse(br, nil)
					if err != nil {
						t.Fatalf("reading the answer: %v", err)
					}
					body, _ := io.ReadAll(res.Body)
					if res.StatusCode != http.StatusBadRequest || string(body) != "Bad Request\n" {
						t.Errorf("got %d %q, want 400 \"Bad Request\\n\"", res.StatusCode, body)
					}
					if _, err := br.ReadByte(); err != io.EOF {
						t.Errorf("after the 400 the connection gave %v, want EOF: it must be closed", err)
					}
				})
			}
			if n := len(rig.backend.Received()); n != 0 {
				t.Errorf("backend received %d requests, want 0", n)
			}
			if n := countLines(rig.p.Log(), "level=warning", "refused request framing"); n != len(cases) {
				t.Errorf("got %d warnings about framing, want %d:\n%s", n, len(cases), rig.p.Log())
			}
			checkNoCanary(t, rig.p)
		})
	}
}

// TestSmuggledRequestAfterGoodOne pipelines a good request and a smuggling attempt on one
// connection, plainly, over TLS and inside an intercepted CONNECT tunnel: the first is served
// with the route's credential, the second refused, and the request hidden in its body never
// reaches the backend.
func TestSmuggledRequestAfterGoodOne(t *testing.T) {
	for _, mode := range rigModes {
		t.Run(mode, func(t *testing.T) {
			rig := newFramingRig(t, mode, nil)
			conn := rig.dial(t)
			io.WriteString(conn, "GET /first HTTP/1.1\r\nHost: a.test\r\n\r\n"+
				"POST /second HTTP/1.1\r\nHost: a.test\r\nContent-Length: 49\r\nTransfer-Encoding: chunked\r\n\r\n"+
				"0\r\n\r\nGET /hidden HTTP/1.1\r\nHost: a.test\r\n\r\n")
			wantStatuses(t, bufio.NewReader(conn), http.StatusOK, http.StatusBadRequest)
			rig.wantReceived(t, "/first")
			if !strings.Contains(rig.p.Log(), `"POST /second HTTP/1.1" 400`) {
				t.Errorf("the access log does not show the refused request line:\n%s", rig.p.Log())
			}
		})
	}
}

// TestObsFoldAfterGoodOne: an obs-fold request pipelined after a good one is refused, inside an
// intercepted tunnel as elsewhere.
func TestObsFoldAfterGoodOne(t *testing.T) {
	for _, mode := range rigModes {
		t.Run(mode, func(t *testing.T) {
			rig := newFramingRig(t, mode, nil)
			conn := rig.dial(t)
			io.WriteString(conn, "GET /first HTTP/1.1\r\nHost: a.test\r\n\r\n"+
				"GET /folded HTTP/1.1\r\nHost: a.test\r\nX-A: 1\r\n 2\r\n\r\n")
			wantStatuses(t, bufio.NewReader(conn), http.StatusOK, http.StatusBadRequest)
			rig.wantReceived(t, "/first")
		})
	}
}

// TestGoodFramingPasses checks that what the guard must let through still works, pipelined on
// one connection: chunked with an extension and a trailer, a padded Content-Length, the same
// Content-Length twice, and a stray CRLF after a POST body.
func TestGoodFramingPasses(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})
	conn := dialRaw(t, p)
	io.WriteString(conn, "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"+
		"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length:  5 \r\n\r\nhello\r\n"+
		"POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"+
		"GET /d HTTP/1.0\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(conn)
	for range 4 {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		io.Copy(io.Discard, res.Body)
		if res.StatusCode != http.StatusOK {
			t.Errorf("got %d, want 200", res.StatusCode)
		}
	}
	got := backend.Received()
	if len(got) != 4 {
		t.Fatalf("backend received %d requests, want 4", len(got))
	}
	for i, r := range got[:3] {
		if string(r.Body) != "hello" {
			t.Errorf("request %d: backend got body %q, want hello", i, r.Body)
		}
	}
}

// dialRaw opens a connection to the proxy, speaking TLS with HTTP/1.1 when the proxy serves
// HTTPS. The connection is closed when the test ends.
func dialRaw(t *testing.T, p *proxytest.Proxy) net.Conn {
	t.Helper()
	var conn net.Conn
	var err error
	if strings.HasPrefix(p.URL, "https://") {
		conf := p.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		conf.NextProtos = []string{"http/1.1"}
		conn, err = tls.Dial("tcp", p.Listener.Addr().String(), conf)
	} else {
		conn, err = net.Dial("tcp", p.Listener.Addr().String())
	}
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestHeaderTooLarge: a request head over -max-header-bytes is refused with 431 before it is
// parsed, and the connection closed.
func TestHeaderTooLarge(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{MaxHeaderBytes: 4096})
	for _, size := range []int{3000, 20000} {
		conn := dialRaw(t, p)
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", size))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := http.StatusOK
		if size > 4096 {
			want = http.StatusRequestHeaderFieldsTooLarge
		}
		if res.StatusCode != want {
			t.Errorf("%d-byte header: got %d, want %d", size, res.StatusCode, want)
		}
	}
	if n := len(backend.Received()); n != 1 {
		t.Errorf("backend received %d requests, want 1", n)
	}
}

// TestManyConnectionsKeepTheirBytes runs many keep-alive connections at once, each posting its
// own bodies, so that connections sharing read buffers would show as crossed bodies.
func TestManyConnectionsKeepTheirBytes(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body) // all of it first: HTTP/1 handlers cannot read after writing
		w.Write(b)
	}))
	defer echo.Close()
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, echo.Listener.Addr()), proxytest.Options{})
	var wg sync.WaitGroup
	for c := range 16 {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for i := range 30 {
				want := strings.Repeat(fmt.Sprintf("client %d request %d;", c, i), 1+i*50)
				res, err := client.Post(p.URL+"/", "text/plain", strings.NewReader(want))
				if err != nil {
					t.Error(err)
					return
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if string(got) != want {
					t.Errorf("client %d request %d: got %d bytes back that differ from the %d sent", c, i, len(got), len(want))
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestForgedRefusalHeader: a client cannot make the proxy refuse its own request by sending the
// header that marks refused ones, and the header never reaches the backend.
func TestForgedRefusalHeader(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})
	res, _ := p.Do(t, "GET", "h", "/", "X-Skipper-Refused-Framing", "guess 400 forged")
	if res.StatusCode != http.StatusOK {
		t.Errorf("got %d, want 200", res.StatusCode)
	}
	if v, ok := backend.Last(t).Header["X-Skipper-Refused-Framing"]; ok {
		t.Errorf("backend saw the marker header %q", v)
	}
}
