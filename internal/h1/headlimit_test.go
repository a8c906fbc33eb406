package h1_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skipper-egress/skipper/internal/h1"
)

// countingConn counts the bytes read from its connection.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// countingDial dials connections whose reads add to read.
func countingDial(read *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{nc, read}, nil
	}
}

// headOf returns a response head of exactly size bytes, padded with one header field.
func headOf(size int) string {
	const start, end = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ", "\r\n\r\n"
	return start + strings.Repeat("p", size-len(start)-len(end)) + end
}

// TestResponseHeadLimit: a head of the limit's size is read, one a byte longer is refused with
// ErrResponseHeaderTooLarge, as net/http's Transport.MaxResponseHeaderBytes does (issue 11,
// finding 5).
func TestResponseHeadLimit(t *testing.T) {
	const limit = 8 << 10
	for _, tc := range []struct {
		size    int
		wantErr bool
	}{
		{limit, false},
		{limit + 1, true},
	} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
				io.WriteString(c, headOf(tc.size))
				return true
			})
			tr := h1.New(h1.Options{MaxResponseHeaderBytes: limit})
			t.Cleanup(tr.CloseIdleConnections)
			req, _ := http.NewRequest(http.MethodGet, s.url(), nil)
			res, err := tr.RoundTrip(req)
			if err == nil {
				res.Body.Close()
			}
			if tc.wantErr && !errors.Is(err, h1.ErrResponseHeaderTooLarge) {
				t.Errorf("head of %d bytes: got %v, want ErrResponseHeaderTooLarge", tc.size, err)
			}
			if !tc.wantErr && err != nil {
				t.Errorf("head of %d bytes: got %v, want a response", tc.size, err)
			}
		})
	}
}

// TestHugeResponseHeadNotRead: of a 40 MiB response head, no more than the default limit of
// 10 MiB is read from the connection.
func TestHugeResponseHeadNotRead(t *testing.T) {
	line := "X-Pad: " + strings.Repeat("p", 1<<10) + "\r\n"
	var sent atomic.Int64
	s := newScripted(t, func(n int, c net.Conn, stop <-chan struct{}) bool {
		if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"); err != nil {
			return false
		}
		for sent.Load() < 40<<20 {
			m, err := io.WriteString(c, line)
			sent.Add(int64(m))
			if err != nil {
				return false // the client hung up
			}
		}
		io.WriteString(c, "\r\n")
		return true
	})
	var read atomic.Int64
	tr := h1.New(h1.Options{DialContext: countingDial(&read)})
	t.Cleanup(tr.CloseIdleConnections)

	req, _ := http.NewRequest(http.MethodGet, s.url(), nil)
	res, err := tr.RoundTrip(req)
	if err == nil {
		res.Body.Close()
	}
	if !errors.Is(err, h1.ErrResponseHeaderTooLarge) {
		t.Errorf("40 MiB head: got %v, want ErrResponseHeaderTooLarge", err)
	}
	if n := read.Load(); n > h1.DefaultMaxResponseHeaderBytes {
		t.Errorf("read %d bytes of the head, want at most %d", n, h1.DefaultMaxResponseHeaderBytes)
	}
}
