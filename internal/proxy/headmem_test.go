package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/routing"
)

// TestSlowHeadsHoldBoundedMemory: many slow clients each send most of a large request head and
// then nothing more, as an attacker holding memory would. The buffers that the listener's
// connections hold for them, counted byte by byte, stay within readBuffer per client plus the
// listener's head budget: clients beyond the budget get 431 and are closed, and a client with a
// small request is still served. Before the head budget, every client held a buffer of up to
// twice its head.
//
// The clients are scripted connections rather than sockets so that the test knows, without
// timing anything, when the guard has read all a client sent: the server is real.
func TestSlowHeadsHoldBoundedMemory(t *testing.T) {
	const maxHeader = 64 << 10
	const clients = 200
	var b strings.Builder
	b.WriteString("GET / HTTP/1.1\r\nHost: a.test\r\n")
	for i := 0; b.Len() < maxHeader-1024; i++ {
		fmt.Fprintf(&b, "X-Pad-%04d: %s\r\n", i, strings.Repeat("p", 80))
	}
	head := []byte(b.String()) // never ended by an empty line

	p := New(Options{Router: routing.NewRouter()})
	ln := &scriptListener{conns: make(chan net.Conn), done: make(chan struct{})}
	rec := &recordingListener{Listener: p.Listener(ln, ListenerOptions{MaxHeaderBytes: maxHeader})}
	srv := &http.Server{Handler: p, MaxHeaderBytes: maxHeader}
	go srv.Serve(rec) //nolint:errcheck // ends with Close
	defer srv.Close()

	slow := make([]*slowConn, clients)
	for i := range slow {
		slow[i] = newSlowConn(head, i)
		ln.conns <- slow[i]
	}
	guards := rec.accepted(t, clients)
	held, waiting, refused := 0, 0, 0
	for i, c := range slow {
		select {
		case <-c.drained: // the guard has read everything and asked for more
		case <-time.After(10 * time.Second):
			t.Fatalf("client %d: the guard did not read its head within 10s", i)
		}
		// The guard's goroutine is blocked in c.Read, or has stopped reading c for good.
		if guards[c].f.state == stRejected {
			refused++
			continue
		}
		waiting++
		held += cap(guards[c].back)
	}
	budget := budgetHeads * (maxHeader + 8192)
	if limit := clients*readBuffer + budget; held > limit {
		t.Errorf("%d clients waiting with unfinished heads hold %d bytes of buffers, want at most %d (%d per client and the budget of %d)",
			waiting, held, limit, readBuffer, budget)
	}
	if waiting == 0 || refused == 0 {
		t.Errorf("%d clients were refused and %d wait, want some of both: the budget holds some heads, not all", refused, waiting)
	}
	for i, c := range slow {
		if guards[c].f.state != stRejected {
			continue
		}
		poll.Until(t, 10*time.Second, fmt.Sprintf("client %d closed after its refusal", i), c.isClosed)
		if out := c.written(); !strings.HasPrefix(out, "HTTP/1.1 431 ") {
			t.Errorf("client %d got %q, want 431", i, out)
		}
	}

	small := newSlowConn([]byte("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"), clients)
	ln.conns <- small
	poll.Until(t, 10*time.Second, "an answer to a small request", func() bool { return strings.Contains(small.written(), "\r\n\r\n") })
	if out := small.written(); !strings.HasPrefix(out, "HTTP/1.1 404 ") {
		t.Errorf("a small request got %q, want the 404 of an empty table", out)
	}
}

// scriptListener hands out the connections sent on conns.
type scriptListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *scriptListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *scriptListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *scriptListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// recordingListener keeps the guardConn of every connection it accepts, by the connection it
// wraps.
type recordingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[net.Conn]*guardConn
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if gc, ok := c.(*guardConn); ok {
		l.mu.Lock()
		if l.conns == nil {
			l.conns = make(map[net.Conn]*guardConn)
		}
		l.conns[gc.Conn] = gc
		l.mu.Unlock()
	}
	return c, err
}

// accepted waits until n connections have been accepted and returns them.
func (l *recordingListener) accepted(t *testing.T, n int) map[net.Conn]*guardConn {
	t.Helper()
	poll.Until(t, 10*time.Second, fmt.Sprintf("%d connections accepted", n), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.conns) >= n
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns
}

// slowConn is a client that sends data in 4 KiB pieces and then nothing more until it is closed.
// It closes drained when a read finds nothing left. A read deadline in the past interrupts a
// waiting read, as Go's server relies on.
type slowConn struct {
	data    []byte
	id      int
	drained chan struct{}
	closed  chan struct{}

	mu        sync.Mutex
	expired   chan struct{} // closed while the read deadline is in the past
	out       bytes.Buffer
	drainOnce sync.Once
	closeOnce sync.Once
}

func newSlowConn(data []byte, id int) *slowConn {
	return &slowConn{data: data, id: id, drained: make(chan struct{}), closed: make(chan struct{}), expired: make(chan struct{})}
}

func (c *slowConn) Read(p []byte) (int, error) {
	if len(c.data) > 0 {
		n := copy(p, c.data[:min(len(c.data), 4096)])
		c.data = c.data[n:]
		return n, nil
	}
	c.drainOnce.Do(func() { close(c.drained) })
	c.mu.Lock()
	expired := c.expired
	c.mu.Unlock()
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	case <-expired:
		return 0, os.ErrDeadlineExceeded
	}
}

func (c *slowConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *slowConn) written() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

func (c *slowConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

func (c *slowConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func (c *slowConn) SetReadDeadline(d time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	past := !d.IsZero() && !d.After(time.Now())
	select {
	case <-c.expired:
		if !past {
			c.expired = make(chan struct{})
		}
	default:
		if past {
			close(c.expired)
		}
	}
	return nil
}

func (c *slowConn) SetDeadline(d time.Time) error    { return c.SetReadDeadline(d) }
func (c *slowConn) SetWriteDeadline(time.Time) error { return nil }
func (c *slowConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *slowConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 10000 + c.id}
}

// TestHeadBudgetGivenBack: a large head's buffer goes back to the budget once the server has read
// the head and what came with it, or when its connection is closed with the head unfinished.
func TestHeadBudgetGivenBack(t *testing.T) {
	g := newGuard("N", 72<<10)
	full := g.budget.left.Load()
	head := "POST / HTTP/1.1\r\nHost: a.test\r\nX-Big: " + strings.Repeat("b", 40<<10) + "\r\nContent-Length: 5\r\n\r\n"

	c := &guardConn{Conn: &scriptConn{data: []byte(head + "hello"), chunk: 4096}, g: g}
	buf := make([]byte, len(head)+5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != head+"hello" {
		t.Fatalf("got %q, %v; want the head and the body", buf, err)
	}
	if left := g.budget.left.Load(); left != full {
		t.Errorf("after the server read the request, %d of %d bytes are left in the budget, want all", left, full)
	}

	c = &guardConn{Conn: &scriptConn{data: []byte(head[:30<<10]), chunk: 4096}, g: g}
	if got, err := readAll(c); got != "" || err != io.EOF {
		t.Fatalf("an unfinished head gave %q, %v; want nothing and EOF", got, err)
	}
	if left := g.budget.left.Load(); left == full {
		t.Fatal("an unfinished 30 KiB head took nothing from the budget")
	}
	c.Close()
	if left := g.budget.left.Load(); left != full {
		t.Errorf("after the close, %d of %d bytes are left in the budget, want all", left, full)
	}
}
