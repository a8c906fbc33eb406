package proxy

import (
	"net"
	"strings"
	"testing"
)

// BenchmarkGuardConn reads keep-alive requests through a guardConn in 4 KiB reads, as the server
// does, from a client that sends one request per packet: the guard's cost per request.
func BenchmarkGuardConn(b *testing.B) {
	for _, tc := range []struct{ name, req string }{
		{"get", "GET /api/v1/items?id=42 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: bench/1.0\r\n" +
			"Accept: application/json\r\nAccept-Encoding: gzip\r\nX-Request-Id: 0123456789abcdef\r\n\r\n"},
		{"post", "POST /api/v1/items HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\n" +
			"Content-Length: 1024\r\n\r\n" + strings.Repeat("x", 1024)},
		{"chunked", "POST /api/v1/items HTTP/1.1\r\nHost: api.example.com\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"400\r\n" + strings.Repeat("x", 1024) + "\r\n0\r\n\r\n"},
		{"big-head", "GET / HTTP/1.1\r\nHost: api.example.com\r\nCookie: " + strings.Repeat("c", 20<<10) + "\r\n\r\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := &guardConn{Conn: &loopConn{req: []byte(tc.req)}, g: newGuard("N", 1<<20+8192)}
			buf := make([]byte, 4096)
			b.SetBytes(int64(len(tc.req)))
			b.ReportAllocs()
			for b.Loop() {
				for n := 0; n < len(tc.req); {
					k, err := c.Read(buf)
					if err != nil {
						b.Fatal(err)
					}
					n += k
				}
			}
		})
	}
}

// loopConn sends req over and over, one request per read when it fits.
type loopConn struct {
	net.Conn
	req []byte
	off int
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := copy(p, c.req[c.off:])
	c.off = (c.off + n) % len(c.req)
	return n, nil
}
