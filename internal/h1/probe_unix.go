//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package h1

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// probe looks at an idle connection's socket without taking anything from it: whether the backend
// closed it, shut down its sending side, or sent bytes nobody asked for while it sat in the pool.
// net/http learns the same from the read it keeps running on every idle connection; a probe
// costs one non-blocking recv(2) with MSG_PEEK when the connection is taken instead.
type probe struct {
	raw syscall.RawConn       // nil when the connection does not expose its descriptor
	fn  func(fd uintptr) bool // p.peek, bound once so that a check allocates nothing
	n   int
	err error
	buf [1]byte
}

func (p *probe) init(nc net.Conn) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	p.raw, p.fn = raw, p.peek
}

func (p *probe) peek(fd uintptr) bool {
	for {
		p.n, p.err = peek(int(fd), p.buf[:])
		if p.err != unix.EINTR {
			return true // done: never wait for the socket to become readable
		}
	}
}

// usable reports whether the idle connection can carry a request: open both ways with nothing
// to read. known is false when the socket could not be looked at.
func (p *probe) usable() (ok, known bool) {
	if p.raw == nil {
		return false, false
	}
	if err := p.raw.Read(p.fn); err != nil {
		return false, true // the connection is closed
	}
	// Nothing to read yet: the backend neither closed the connection nor said anything. Zero
	// bytes and no error is its FIN; bytes are an answer to no request (net/http's "unsolicited
	// response"); any other error, such as ECONNRESET, a dead connection.
	return p.err == unix.EAGAIN || p.err == unix.EWOULDBLOCK, true
}
