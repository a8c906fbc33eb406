package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// rawRequest opens a connection to addr, writes head and body, and returns the connection and
// a reader for the response. The connection is closed when the test ends.
func rawRequest(t *testing.T, addr, head, body string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, head+body); err != nil {
		t.Fatal(err)
	}
	return conn, bufio.NewReader(conn)
}

// TestReadTimeout checks that readTimeout answers 408 to a client that stops uploading its
// body, and that it neither limits a client that uploads in time nor a backend that is slow
// after the body was read.
func TestReadTimeout(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return // the proxy gave up on a slow client
		}
		if r.URL.Path == "/slow-backend" {
			<-time.After(300 * time.Millisecond) // slower than the read deadline
		}
		fmt.Fprintf(w, "got %d bytes", len(b))
	}))
	t.Cleanup(backend.Close)
	p := proxytest.New(t, fmt.Sprintf(`* -> readTimeout("100ms") -> %q`, backend.URL), proxytest.Options{})
	addr := p.Listener.Addr().String()

	tests := []struct {
		name, path, body string
		wantStatus       int
		wantBody         string
	}{
		{"slow upload", "/upload", "ab", http.StatusRequestTimeout, "Request Timeout\n"},
		{"upload in time", "/upload", "0123456789", http.StatusOK, "got 10 bytes"},
		{"slow backend after the body", "/slow-backend", "0123456789", http.StatusOK, "got 10 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			head := "POST " + tc.path + " HTTP/1.1\r\nHost: up.test\r\nContent-Length: 10\r\n\r\n"
			conn, br := rawRequest(t, addr, head, tc.body)
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("reading response: %v", err)
			}
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.wantStatus || string(body) != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
	if log := p.Log(); !strings.Contains(log, `"POST /upload HTTP/1.1" 408`) {
		t.Errorf("access log has no 408 line for the slow upload:\n%s", log)
	}
}

// TestWriteTimeout checks that writeTimeout gives up on a client that does not read its
// response: the proxy stops, so the backend's endless answer fails to write, and the client
// finally reads a response cut short.
func TestWriteTimeout(t *testing.T) {
	stopped := make(chan error, 2)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 32<<10))
		for {
			if _, err := w.Write(chunk); err != nil {
				stopped <- err
				return
			}
		}
	}))
	t.Cleanup(backend.Close)
	p := proxytest.New(t, fmt.Sprintf(`* -> writeTimeout("100ms") -> %q`, backend.URL), proxytest.Options{})

	conn, br := rawRequest(t, p.Listener.Addr().String(), "GET /stream HTTP/1.1\r\nHost: down.test\r\n\r\n", "")
	// The client reads nothing until the proxy has given up.
	select {
	case err := <-stopped:
		if err == nil {
			t.Fatal("backend stopped without a write error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the backend is still writing 10s after the write deadline passed")
	}
	// What the client finally reads is a cut-short response.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading response head: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		t.Errorf("got status %d, want 200 (the backend's)", res.StatusCode)
	}
	if _, err := io.Copy(io.Discard, res.Body); err == nil {
		t.Error("read the whole body, want it cut short")
	}
}
