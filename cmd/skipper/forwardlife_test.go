package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// connBackend is a loopback HTTP backend that counts the connections open to it, as its
// http.Server's ConnState sees them.
type connBackend struct {
	*httptest.Server
	mu   sync.Mutex
	open int
}

func newConnBackend(t *testing.T, h http.HandlerFunc) *connBackend {
	t.Helper()
	b := &connBackend{}
	b.Server = httptest.NewUnstartedServer(h)
	b.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch s {
		case http.StateNew:
			b.open++
		case http.StateClosed, http.StateHijacked:
			b.open--
		}
	}
	b.Start()
	t.Cleanup(b.Close)
	return b
}

// Open returns the number of connections open to the backend.
func (b *connBackend) Open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open
}

// Addr returns the backend's host:port.
func (b *connBackend) Addr() string { return b.Listener.Addr().String() }

// TestForwardTransportIdleConnections: the connections of <dynamic> routes, which skipper dials
// through its SSRF guard, keep to the backend flags: at most -idle-conns-num stay open to one
// destination, and all of them are closed every -close-idle-conns-period.
func TestForwardTransportIdleConnections(t *testing.T) {
	const routes = `-inline-routes=fwd: * -> <dynamic>`

	t.Run("per-host limit", func(t *testing.T) {
		// The backend answers only once all requests have arrived, so that each has its own
		// connection.
		const parallel = 6
		var arrived sync.WaitGroup
		arrived.Add(parallel)
		all := make(chan struct{})
		go func() { arrived.Wait(); close(all) }()
		backend := newConnBackend(t, func(w http.ResponseWriter, r *http.Request) {
			arrived.Done()
			select {
			case <-all:
			case <-r.Context().Done():
				return
			}
			io.WriteString(w, "ok")
		})
		p := start(t, routes, "-forward-allow-cidrs=127.0.0.1", "-idle-conns-num=2", "-close-idle-conns-period=0")
		client := proxytest.ForwardClient(t, "http://"+p.addr, nil)
		var wg sync.WaitGroup
		for range parallel {
			wg.Go(func() {
				res, err := client.Get("http://" + backend.Addr() + "/")
				if err != nil {
					t.Errorf("GET through the forward proxy: %v", err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Errorf("got %d, want 200", res.StatusCode)
				}
			})
		}
		wg.Wait()
		poll.Until(t, 5*time.Second, "at most 2 connections kept to the backend", func() bool { return backend.Open() <= 2 })
	})

	t.Run("closed every period", func(t *testing.T) {
		backend := newConnBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
		p := start(t, routes, "-forward-allow-cidrs=127.0.0.1", "-close-idle-conns-period=200ms")
		client := proxytest.ForwardClient(t, "http://"+p.addr, nil)
		res, err := client.Get("http://" + backend.Addr() + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if backend.Open() != 1 {
			t.Fatalf("%d connections open to the backend after the request, want the one kept alive", backend.Open())
		}
		poll.Until(t, 5*time.Second, "the idle connection closed by skipper", func() bool { return backend.Open() == 0 })
	})
}

// TestForwardTunnelsEndAtShutdown opens a blind CONNECT tunnel through skipper and stops
// skipper with SIGTERM: skipper ends the tunnel itself, saying so, and exits 0.
func TestForwardTunnelsEndAtShutdown(t *testing.T) {
	backend := newConnBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	p := startNoCleanup(t, `-inline-routes=tun: Method("CONNECT") -> <dynamic>`, "-forward-allow-cidrs=127.0.0.1")

	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "CONNECT %[1]s HTTP/1.1\r\nHost: %[1]s\r\n\r\n", backend.Addr())
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: got %v %v, want 200", res, err)
	}
	// The tunnel carries a request to the backend and its answer.
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", backend.Addr())
	res, err = http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("request in the tunnel: got %v %v, want 200", res, err)
	}
	io.Copy(io.Discard, res.Body)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("reading the tunnel after SIGTERM: got %d bytes, %v, want EOF", n, err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("skipper did not exit within 10s of SIGTERM with a tunnel open:\n%s", p.Log())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0:\n%s", code, p.Log())
	}
	if !strings.Contains(p.Log(), "Closing 1 open tunnels") {
		t.Errorf("skipper did not say it closed the open tunnel:\n%s", p.Log())
	}
	poll.Until(t, 5*time.Second, "the tunnel's backend connection closed", func() bool { return backend.Open() == 0 })
}
