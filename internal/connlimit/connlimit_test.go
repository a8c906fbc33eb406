package connlimit_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/connlimit"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// server is an http.Server on loopback behind a connlimit.Listener. A request for a path
// under /block/ is announced on started and answered only once release(path) is called.
type server struct {
	l       *connlimit.Listener
	addr    string
	tls     *tls.Config // the client's, when the server speaks TLS
	started chan string
	gates   sync.Map // path -> chan struct{}
}

func (s *server) gate(path string) chan struct{} {
	g, _ := s.gates.LoadOrStore(path, make(chan struct{}))
	return g.(chan struct{})
}

// release lets the request for path be answered.
func (s *server) release(path string) { close(s.gate(path)) }

func newServer(t *testing.T, o connlimit.Options, useTLS bool) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{l: connlimit.New(ln, o), addr: ln.Addr().String(), started: make(chan string, 16)}
	var served net.Listener = s.l
	if useTLS {
		cert, pool := proxytest.NewCert(t, "127.0.0.1")
		// tls.NewListener keeps the connection's addresses, as the proxy's own TLS does.
		served = tls.NewListener(s.l, &tls.Config{Certificates: []tls.Certificate{cert}})
		s.tls = &tls.Config{RootCAs: pool}
	}
	srv := &http.Server{
		ConnState: s.l.ConnState,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/block/") {
				s.started <- r.URL.Path
				select {
				case <-s.gate(r.URL.Path):
				case <-r.Context().Done(): // the server closes
					return
				}
			}
			io.WriteString(w, "ok "+r.URL.Path)
		}),
	}
	go srv.Serve(served)
	t.Cleanup(func() { srv.Close() })
	return s
}

// client is one raw keep-alive connection to a server.
type client struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

// dial connects; every read and write on the connection fails after 10 s, which bounds every
// wait in these tests.
func (s *server) dial(t *testing.T) *client {
	t.Helper()
	var conn net.Conn
	var err error
	if s.tls != nil {
		conn, err = tls.Dial("tcp", s.addr, s.tls)
	} else {
		conn, err = net.Dial("tcp", s.addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// send writes a GET for path.
func (c *client) send(path string) {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.conn, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path); err != nil {
		c.t.Fatalf("sending %s: %v", path, err)
	}
}

// answer reads the answer to a request sent, and returns its body or the error.
func (c *client) answer() (string, error) {
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}

// get sends GET path and fails the test unless it is answered.
func (c *client) get(path string) {
	c.t.Helper()
	c.send(path)
	if body, err := c.answer(); err != nil || body != "ok "+path {
		c.t.Fatalf("GET %s: got %q, %v; want \"ok %s\"", path, body, err, path)
	}
}

// waitClosed waits until the server closes the connection: a read ends in EOF or a reset,
// not in the 10 s deadline.
func (c *client) waitClosed(what string) {
	c.t.Helper()
	_, err := c.br.ReadByte()
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("%s: read %v, want the connection closed", what, err)
	}
}

func (s *server) waitStarted(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-s.started:
		case <-time.After(10 * time.Second):
			t.Fatal("a blocking request did not reach the handler within 10s")
		}
	}
}

// TestIdleClientsMakeRoom: at the limit, a new client is served by closing the client that has
// been idle the longest; idle keep-alive connections never keep a new one out.
func TestIdleClientsMakeRoom(t *testing.T) {
	for _, mode := range []string{"plain", "tls"} {
		t.Run(mode, func(t *testing.T) {
			s := newServer(t, connlimit.Options{MaxConcurrency: 2}, mode == "tls")
			var clients []*client
			for i := range 5 {
				c := s.dial(t)
				c.get(fmt.Sprintf("/%d", i))
				clients = append(clients, c)
				// The server reports a connection idle just after it has sent the answer.
				poll.Until(t, 5*time.Second, "the server seeing the client idle", func() bool {
					return s.l.Stats().Idle == min(i+1, 2)
				})
			}
			// Each of the last three made room by closing the longest idle one.
			for i, c := range clients[:3] {
				c.waitClosed(fmt.Sprintf("client %d, idle the longest", i))
			}
			clients[3].get("/again")
			clients[4].get("/again")
			if st := s.l.Stats(); st.ClosedIdle != 3 || st.Active != 2 || st.Queued != 0 {
				t.Errorf("got %+v, want 3 closed idle, 2 active, none queued", st)
			}
		})
	}
}

// TestBusyClientsBeyondLimitAndQueue: while every slot serves a request, new connections wait
// in the queue; one more than the queue holds closes the one that waited longest. When a
// request ends, its now idle connection makes room for the newest waiting one at once.
func TestBusyClientsBeyondLimitAndQueue(t *testing.T) {
	s := newServer(t, connlimit.Options{MaxConcurrency: 2, MaxQueue: 1}, false)
	busy := []*client{s.dial(t), s.dial(t)}
	busy[0].send("/block/0")
	busy[1].send("/block/1")
	s.waitStarted(t, 2)

	waiting := s.dial(t)
	waiting.send("/waiting")
	poll.Until(t, 5*time.Second, "a connection queued", func() bool { return s.l.Stats().Queued == 1 })
	newest := s.dial(t)
	newest.send("/newest")
	waiting.waitClosed("the longest waiting connection, beyond the queue")
	if st := s.l.Stats(); st.ClosedQueueFull != 1 || st.Queued != 1 || st.Active != 2 {
		t.Errorf("got %+v, want 1 closed for a full queue, 1 queued, 2 active", st)
	}

	s.release("/block/0") // one busy request ends; its connection goes idle
	if body, err := busy[0].answer(); err != nil || body != "ok /block/0" {
		t.Fatalf("the released request: got %q, %v", body, err)
	}
	busy[0].waitClosed("the connection that went idle while another waited")
	if body, err := newest.answer(); err != nil || body != "ok /newest" {
		t.Fatalf("the waiting request: got %q, %v; want it served", body, err)
	}
	if st := s.l.Stats(); st.ClosedIdle != 1 {
		t.Errorf("got %+v, want 1 closed idle", st)
	}
}

// TestQueueTimeout: a connection that waits longer than the queue timeout is closed without
// its request reaching the server.
func TestQueueTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	s := newServer(t, connlimit.Options{MaxConcurrency: 1, MaxQueue: 5, QueueTimeout: timeout}, false)
	busy := s.dial(t)
	busy.send("/block/busy")
	s.waitStarted(t, 1)

	// The listener queues the connection once it accepts it, which may be before dial
	// returns: the clock starts before the dial, the earliest the queue time can start.
	queued := time.Now()
	waiting := s.dial(t)
	waiting.send("/block/waiting")
	waiting.waitClosed("a connection that waited past the queue timeout")
	if waited := time.Since(queued); waited < timeout {
		t.Errorf("closed after %s, before the queue timeout of %s", waited, timeout)
	}
	if st := s.l.Stats(); st.ClosedQueueTimeout != 1 || st.Queued != 0 || st.Active != 1 {
		t.Errorf("got %+v, want 1 closed for the queue timeout, none queued, 1 active", st)
	}
	select {
	case <-s.started:
		t.Error("the timed-out connection's request reached the server")
	default:
	}
	s.release("/block/busy")
	if body, err := busy.answer(); err != nil || body != "ok /block/busy" {
		t.Errorf("the busy request: got %q, %v", body, err)
	}
}

// TestSilentClientsMakeRoomAfterGrace: a connection that sent no request holds its slot for the
// grace period, then makes room for one that waits.
func TestSilentClientsMakeRoomAfterGrace(t *testing.T) {
	const grace = 100 * time.Millisecond
	s := newServer(t, connlimit.Options{MaxConcurrency: 1, MaxQueue: 1, NewGrace: grace}, false)
	silent := s.dial(t)
	opened := time.Now()
	poll.Until(t, 5*time.Second, "the silent connection served", func() bool { return s.l.Stats().Active == 1 })
	c := s.dial(t)
	c.get("/after-grace")
	if waited := time.Since(opened); waited < grace {
		t.Errorf("served after %s, before the silent connection's grace of %s ended", waited, grace)
	}
	silent.waitClosed("the silent connection after its grace")
	if st := s.l.Stats(); st.ClosedIdle != 1 {
		t.Errorf("got %+v, want 1 closed", st)
	}
}

// TestCloseEndsWaiting: closing the listener closes the connections that wait and makes Accept
// fail, while a connection already served stays open.
func TestCloseEndsWaiting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := connlimit.New(ln, connlimit.Options{MaxConcurrency: 1, MaxQueue: 1})
	first, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	served, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer served.Close()
	second, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	poll.Until(t, 5*time.Second, "second connection queued", func() bool { return l.Stats().Queued == 1 })

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	second.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("waiting connection: read %v, want it closed", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: got %v, want net.ErrClosed", err)
	}
	if _, err := served.Write([]byte("x")); err != nil {
		t.Errorf("the served connection: %v, want it still open", err)
	}
	served.Close()
	if st := l.Stats(); st.Active != 0 {
		t.Errorf("got %d active after the served connection closed, want 0", st.Active)
	}
}

func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		nofile            uint64
		concurrency, want int
	}{
		{0, connlimit.MaxDefaultConcurrency, connlimit.MaxDefaultConcurrency / 4},
		{10, 1, 1},
		{1024, 358, 89},
		{20000, 7948, 1987},
		{1 << 20, connlimit.MaxDefaultConcurrency, connlimit.MaxDefaultConcurrency / 4},
	} {
		c := connlimit.DefaultConcurrency(tc.nofile)
		q := connlimit.DefaultQueue(c)
		if c != tc.concurrency || q != tc.want {
			t.Errorf("nofile %d: got concurrency %d, queue %d; want %d, %d", tc.nofile, c, q, tc.concurrency, tc.want)
		}
		if tc.nofile > connlimit.ReservedFiles && uint64(2*(c+q)+connlimit.ReservedFiles) > tc.nofile {
			t.Errorf("nofile %d: %d served and %d waiting, each with a backend connection, need more descriptors", tc.nofile, c, q)
		}
	}
}
