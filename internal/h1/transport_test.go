package h1_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/h1"
)

// countingServer is an httptest server that counts the connections it accepted.
type countingServer struct {
	*httptest.Server
	conns atomic.Int32
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, tr *h1.Transport, method, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return res, string(body)
}

func TestRequestAsSent(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	s := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		w.Header().Set("X-Answer", "yes")
		io.WriteString(w, "hello "+r.URL.RequestURI())
	})
	tr := h1.New(h1.Options{})
	t.Cleanup(tr.CloseIdleConnections)

	res, body := get(t, tr, http.MethodGet, s.URL+"/a%2Fb?q=1&q=2", http.Header{
		"Authorization": {"Bearer tok"},
		"X-Multi":       {"one", "two"},
		"User-Agent":    nil, // present without a value: no User-Agent at all
	})
	if res.StatusCode != http.StatusOK || body != "hello /a%2Fb?q=1&q=2" || res.Header.Get("X-Answer") != "yes" {
		t.Fatalf("got %d %q %v, want 200 with the request URI echoed", res.StatusCode, body, res.Header)
	}
	get(t, tr, http.MethodGet, s.URL+"/", nil)
	get(t, tr, http.MethodPost, s.URL+"/", nil)

	mu.Lock()
	defer mu.Unlock()
	r := seen[0]
	if got := r.Header.Get("Authorization"); got != "Bearer tok" {
		t.Errorf("Authorization: got %q, want %q", got, "Bearer tok")
	}
	if got := r.Header["X-Multi"]; len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Errorf("X-Multi: got %q, want [one two] in order", got)
	}
	if _, ok := r.Header["User-Agent"]; ok {
		t.Errorf("User-Agent: got %q, want none", r.Header["User-Agent"])
	}
	if got := seen[1].Header.Get("User-Agent"); got != "Go-http-client/1.1" {
		t.Errorf("default User-Agent: got %q, want net/http's", got)
	}
	if got := seen[2].Header.Get("Content-Length"); got != "0" {
		t.Errorf("empty POST: Content-Length %q, want 0", got)
	}
	if n := s.conns.Load(); n != 1 {
		t.Errorf("got %d connections for three sequential requests, want 1", n)
	}
}

func TestHeadAndChunkedResponsesKeepTheConnection(t *testing.T) {
	s := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		w.Header().Set("Content-Length", "5")
		if r.URL.Path == "/chunked" {
			w.Header().Del("Content-Length")
			io.WriteString(w, "part1")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part2")
			w.Header().Set("X-Sum", "42")
			return
		}
		io.WriteString(w, "12345")
	})
	tr := h1.New(h1.Options{})
	t.Cleanup(tr.CloseIdleConnections)

	res, body := get(t, tr, http.MethodHead, s.URL+"/", nil)
	if body != "" || res.ContentLength != 5 {
		t.Errorf("HEAD: got body %q and length %d, want none and 5", body, res.ContentLength)
	}
	res, body = get(t, tr, http.MethodGet, s.URL+"/chunked", nil)
	if body != "part1part2" || res.Trailer.Get("X-Sum") != "42" {
		t.Errorf("chunked: got %q with trailer %q, want part1part2 and 42", body, res.Trailer.Get("X-Sum"))
	}
	get(t, tr, http.MethodGet, s.URL+"/", nil)
	if n := s.conns.Load(); n != 1 {
		t.Errorf("got %d connections, want 1", n)
	}
	if n := tr.IdleConns(); n != 1 {
		t.Errorf("got %d idle connections, want 1", n)
	}
}

func TestAbandonedBodyClosesTheConnection(t *testing.T) {
	s := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 64<<10))
	})
	tr := h1.New(h1.Options{})
	t.Cleanup(tr.CloseIdleConnections)

	req, _ := http.NewRequest(http.MethodGet, s.URL, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Body.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if n := tr.IdleConns(); n != 0 {
		t.Fatalf("got %d idle connections after abandoning a body, want 0", n)
	}
	get(t, tr, http.MethodGet, s.URL, nil)
	if n := s.conns.Load(); n != 2 {
		t.Errorf("got %d connections, want 2: the abandoned one may not be reused", n)
	}
}

// scripted is a raw TCP backend: answer writes the response to the n-th request (from 0) it
// reads, and decides whether the connection stays open. An answer that stalls waits for stop,
// which is closed when the test ends.
type scripted struct {
	ln       net.Listener
	requests atomic.Int32
	conns    atomic.Int32
}

func newScripted(t *testing.T, answer func(n int, c net.Conn, stop <-chan struct{}) (keep bool)) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{ln: ln}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					if _, err := http.ReadRequest(br); err != nil {
						return
					}
					if !answer(int(s.requests.Add(1)-1), c, stop) {
						return
					}
				}
			})
		}
	})
	return s
}

func (s *scripted) url() string { return "http://" + s.ln.Addr().String() }

func TestStalePooledConnection(t *testing.T) {
	// The backend answers each connection's first request and then closes it without saying so,
	// as a backend whose idle timeout just expired does.
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false
	})
	// The probe would find the stale connection before it is used: hide it from the probe, as
	// if the backend closed the connection just after it was looked at.
	tr := h1.New(h1.Options{DialContext: opaqueDial})
	t.Cleanup(tr.CloseIdleConnections)

	get(t, tr, http.MethodGet, s.url(), nil)
	// GET is idempotent: the failure on the stale connection is retried on a new one.
	if _, body := get(t, tr, http.MethodGet, s.url(), nil); body != "ok" {
		t.Errorf("GET after a stale connection: got %q, want ok", body)
	}
	if n := s.conns.Load(); n != 2 {
		t.Errorf("got %d connections, want 2", n)
	}
}

func TestStaleConnectionNotRetriedForPOST(t *testing.T) {
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		if n == 0 {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			return true
		}
		return false // read the POST, then hang up without an answer
	})
	tr := h1.New(h1.Options{})
	t.Cleanup(tr.CloseIdleConnections)
	get(t, tr, http.MethodGet, s.url(), nil)

	req, _ := http.NewRequest(http.MethodPost, s.url(), nil)
	_, err := tr.RoundTrip(req)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("POST answered by a hang-up: got %v, want io.EOF", err)
	}
	if n := s.requests.Load(); n != 2 {
		t.Errorf("backend saw %d requests, want 2: the POST may not be sent twice", n)
	}
}

func TestInterimResponses(t *testing.T) {
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		switch n {
		case 0:
			io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"+
				"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal")
		case 1:
			io.WriteString(c, strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 6)+
				"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nsix")
		default: // interim responses without end: only the head limit stops them
			for {
				if _, err := io.WriteString(c, "HTTP/1.1 103 Early Hints\r\n\r\n"); err != nil {
					return false
				}
			}
		}
		return true
	})
	tr := h1.New(h1.Options{MaxResponseHeaderBytes: 4 << 10})
	t.Cleanup(tr.CloseIdleConnections)

	res, body := get(t, tr, http.MethodGet, s.url(), nil)
	if res.StatusCode != http.StatusOK || body != "final" {
		t.Errorf("got %d %q, want 200 final", res.StatusCode, body)
	}
	// As in net/http since Go 1.24, the number of interim responses is not limited, their size is.
	res, body = get(t, tr, http.MethodGet, s.url(), nil)
	if res.StatusCode != http.StatusOK || body != "six" {
		t.Errorf("after six interim responses: got %d %q, want 200 six", res.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodGet, s.url(), nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, h1.ErrResponseHeaderTooLarge) {
		t.Errorf("endless interim responses: got %v, want ErrResponseHeaderTooLarge", err)
	}
}

func TestUnsolicitedBytesCloseTheConnection(t *testing.T) {
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n")
		return true
	})
	tr := h1.New(h1.Options{})
	t.Cleanup(tr.CloseIdleConnections)
	get(t, tr, http.MethodGet, s.url(), nil)
	if n := tr.IdleConns(); n != 0 {
		t.Errorf("got %d idle connections after a response with trailing bytes, want 0", n)
	}
}

func TestInvalidHeaderRefusedBeforeSending(t *testing.T) {
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return true
	})
	tr := h1.New(h1.Options{})
	t.Cleanup(tr.CloseIdleConnections)
	for _, tc := range []struct {
		name   string
		header http.Header
		host   string
	}{
		{"CRLF in a value", http.Header{"Authorization": {"Bearer secret-value\r\nX-Evil: 1"}}, ""},
		{"bad name", http.Header{"X Bad": {"v"}}, ""},
		{"space in Host", nil, "a b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, s.url(), nil)
			for k, v := range tc.header {
				req.Header[k] = v
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			_, err := tr.RoundTrip(req)
			if err == nil {
				t.Fatal("got a response, want an error")
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("error %q holds the header's value", err)
			}
		})
	}
	if n := s.requests.Load(); n != 0 {
		t.Errorf("backend saw %d requests, want 0", n)
	}
}

func TestTimeoutsAndCancellation(t *testing.T) {
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		<-stop // never answer while the test runs
		return false
	})

	t.Run("response header timeout", func(t *testing.T) {
		tr := h1.New(h1.Options{ResponseHeaderTimeout: 50 * time.Millisecond})
		req, _ := http.NewRequest(http.MethodGet, s.url(), nil)
		_, err := tr.RoundTrip(req)
		var netErr net.Error
		if !errors.As(err, &netErr) || !netErr.Timeout() {
			t.Errorf("got %v, want a timeout", err)
		}
	})
	t.Run("cancelled request", func(t *testing.T) {
		tr := h1.New(h1.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url(), nil)
		done := make(chan error, 1)
		go func() { _, err := tr.RoundTrip(req); done <- err }()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("RoundTrip did not return within 5s of the cancellation")
		}
	})
	t.Run("deadline while reading the body", func(t *testing.T) {
		body := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
			<-stop
			return false
		})
		tr := h1.New(h1.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, body.url(), nil)
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if _, err := io.ReadAll(res.Body); err == nil {
			t.Error("reading a body past the request's deadline: got no error")
		}
		if n := tr.IdleConns(); n != 0 {
			t.Errorf("got %d idle connections, want 0", n)
		}
	})
}

func TestPoolLimits(t *testing.T) {
	s := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

	t.Run("per host", func(t *testing.T) {
		tr := h1.New(h1.Options{MaxIdleConnsPerHost: 1})
		t.Cleanup(tr.CloseIdleConnections)
		var bodies []io.ReadCloser
		for range 3 { // three at once: three connections
			req, _ := http.NewRequest(http.MethodGet, s.URL, nil)
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			bodies = append(bodies, res.Body)
		}
		for _, b := range bodies {
			io.ReadAll(b)
			b.Close()
		}
		if n := tr.IdleConns(); n != 1 {
			t.Errorf("got %d idle connections, want 1", n)
		}
		tr.CloseIdleConnections()
		if n := tr.IdleConns(); n != 0 {
			t.Errorf("after CloseIdleConnections: got %d idle connections, want 0", n)
		}
	})
	t.Run("idle timeout", func(t *testing.T) {
		before := s.conns.Load()
		tr := h1.New(h1.Options{IdleConnTimeout: time.Nanosecond})
		t.Cleanup(tr.CloseIdleConnections)
		get(t, tr, http.MethodGet, s.URL, nil)
		get(t, tr, http.MethodGet, s.URL, nil)
		if n := s.conns.Load() - before; n != 2 {
			t.Errorf("got %d connections, want 2: an expired idle connection may not be used", n)
		}
	})
}

func TestHandles(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func() *http.Request
		want bool
	}{
		{"plain GET", func() *http.Request { r, _ := http.NewRequest("GET", "http://a.test/", nil); return r }, true},
		{"https", func() *http.Request { r, _ := http.NewRequest("GET", "https://a.test/", nil); return r }, true},
		{"ftp", func() *http.Request { r, _ := http.NewRequest("GET", "ftp://a.test/", nil); return r }, false},
		{"with body", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://a.test/", strings.NewReader("x"))
			return r
		}, false},
		{"upgrade", func() *http.Request {
			r, _ := http.NewRequest("GET", "http://a.test/", nil)
			r.Header.Set("Upgrade", "websocket")
			return r
		}, false},
		{"expect", func() *http.Request {
			r, _ := http.NewRequest("GET", "http://a.test/", nil)
			r.Header.Set("Expect", "100-continue")
			return r
		}, false},
	} {
		if got := h1.Handles(tc.req()); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
