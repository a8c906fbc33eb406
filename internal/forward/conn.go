package forward

import (
	"bufio"
	"bytes"
	"net"
)

// Unwrapper is a connection layered over another one, which a tunnel can peel off to copy
// between the connections beneath: between two *net.TCPConn, Linux moves the bytes in the
// kernel (splice(2)) instead of through a buffer in the process. The types that wrap the
// client's connection (connlimit's, the proxy's guard, Hijacked's) implement it.
type Unwrapper interface {
	// Unwrap returns the connection under this one, and the bytes this one has read from it
	// that its Read has not returned yet. After Unwrap only inner is read; closing stays with
	// the outer connection, which closes inner. inner is nil when the connection cannot be
	// unwrapped: it must then be read as it is.
	Unwrap() (inner net.Conn, pending []byte)
}

// unwrapConn unwraps c as far as it goes. It returns the innermost connection and the bytes the
// wrappers held, in the order their reads would have returned them: the outer one's first.
func unwrapConn(c net.Conn) (net.Conn, []byte) {
	var pending []byte
	for {
		u, ok := c.(Unwrapper)
		if !ok {
			return c, pending
		}
		inner, p := u.Unwrap()
		if inner == nil {
			return c, pending
		}
		pending = append(pending, p...)
		c = inner
	}
}

// Hijacked returns a connection that first yields the bytes br has already buffered from c and
// then reads c directly. http.Hijacker hands back both; after a CONNECT the client may have
// sent tunnel bytes (a TLS ClientHello) in the same packet as the request, and those sit in
// br. If br is nil or holds nothing, c itself is returned. The result keeps c's CloseWrite.
func Hijacked(c net.Conn, br *bufio.Reader) net.Conn {
	if br == nil || br.Buffered() == 0 {
		return c
	}
	buffered, _ := br.Peek(br.Buffered()) // cannot fail: the bytes are in the buffer
	return &prefixConn{Conn: c, prefix: bytes.NewReader(bytes.Clone(buffered))}
}

// prefixConn is a net.Conn whose reads start with bytes read from it earlier.
type prefixConn struct {
	net.Conn
	prefix *bytes.Reader
}

// Read reads the buffered bytes first, then the connection.
func (c *prefixConn) Read(p []byte) (int, error) {
	if c.prefix.Len() > 0 {
		return c.prefix.Read(p)
	}
	return c.Conn.Read(p)
}

// Unwrap returns the connection and the buffered bytes not read yet.
func (c *prefixConn) Unwrap() (net.Conn, []byte) {
	rest := make([]byte, c.prefix.Len())
	c.prefix.Read(rest) //nolint:errcheck // reading what Len says is there cannot fail
	return c.Conn, rest
}

// CloseWrite half-closes the underlying connection if it can.
func (c *prefixConn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return errNoHalfClose
	}
	return cw.CloseWrite()
}
