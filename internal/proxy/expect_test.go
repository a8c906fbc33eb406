package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestExpectContinueHTTP2 sends "Expect: 100-continue" over HTTP/2 to the proxy's TLS listener, as
// curl --http2 does for a large upload: a backend that refuses without reading gets its answer to
// the client before the client sends its body, and one that reads gets the whole body. Go's
// HTTP/2 server takes Expect out of the request's header, so the proxy used to read the body at
// once, which sent the client 100 Continue, and the client sent its body for nothing. A request
// without Expect gets none added.
func TestExpectContinueHTTP2(t *testing.T) {
	expects := make(chan string, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expects <- r.Header.Get("Expect")
		if r.URL.Path == "/reject" {
			http.Error(w, "too big", http.StatusRequestEntityTooLarge)
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "got %d bytes", n)
	}))
	defer backend.Close()
	// The proxy waits for the backend's 100 as long as the client waits for the proxy's, so the
	// outcome depends on what the backend answers, not on how fast it does.
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Listener.Addr()), proxytest.Options{
		TLS: true, Transport: proxy.TransportOptions{ExpectContinueTimeout: time.Minute},
	})
	tr := &http.Transport{
		TLSClientConfig:       p.Client().Transport.(*http.Transport).TLSClientConfig.Clone(),
		ForceAttemptHTTP2:     true,
		ExpectContinueTimeout: time.Minute,
	}
	defer tr.CloseIdleConnections()

	const size = 10 << 20
	tests := []struct {
		name     string
		path     string
		expect   string
		wantCode int
		wantBody string
		wantSent int64
	}{
		{"refused", "/reject", "100-continue", http.StatusRequestEntityTooLarge, "too big\n", 0},
		{"accepted", "/accept", "100-continue", http.StatusOK, fmt.Sprintf("got %d bytes", size), size},
		{"no expect", "/accept", "", http.StatusOK, fmt.Sprintf("got %d bytes", size), size},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{left: size}
			req, err := http.NewRequest(http.MethodPut, p.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = size
			if tc.expect != "" {
				req.Header.Set("Expect", tc.expect)
			}
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.ProtoMajor != 2 || res.StatusCode != tc.wantCode || string(got) != tc.wantBody {
				t.Fatalf("got %s %d %q, want HTTP/2.0 %d %q", res.Proto, res.StatusCode, got, tc.wantCode, tc.wantBody)
			}
			if e := <-expects; e != tc.expect {
				t.Errorf("backend saw Expect %q, want %q", e, tc.expect)
			}
			if sent := body.read.Load(); sent != tc.wantSent {
				t.Errorf("the client sent %d body bytes, want %d", sent, tc.wantSent)
			}
		})
	}
}

// countingReader yields left zero bytes and counts what was read of them.
type countingReader struct {
	left int64
	read atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > c.left {
		n = c.left
	}
	clear(p[:n])
	c.left -= n
	c.read.Add(n)
	return int(n), nil
}
