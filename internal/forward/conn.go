package forward

import (
	"bufio"
	"bytes"
	"io"
	"net"
)

// Hijacked returns a connection that first yields the bytes br has already buffered from c and
// then reads c directly. http.Hijacker hands back both; after a CONNECT the client may have
// sent tunnel bytes (a TLS ClientHello) in the same packet as the request, and those sit in
// br. If br is nil or holds nothing, c itself is returned. The result keeps c's CloseWrite.
func Hijacked(c net.Conn, br *bufio.Reader) net.Conn {
	if br == nil || br.Buffered() == 0 {
		return c
	}
	buffered, _ := br.Peek(br.Buffered()) // cannot fail: the bytes are in the buffer
	return &prefixConn{Conn: c, r: io.MultiReader(bytes.NewReader(bytes.Clone(buffered)), c)}
}

// prefixConn is a net.Conn whose reads start with bytes read from it earlier.
type prefixConn struct {
	net.Conn
	r io.Reader
}

// Read reads the buffered bytes first, then the connection.
func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite half-closes the underlying connection if it can.
func (c *prefixConn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return errNoHalfClose
	}
	return cw.CloseWrite()
}
