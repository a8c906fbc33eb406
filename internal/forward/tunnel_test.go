package forward

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

type runResult struct {
	stats Stats
	err   error
}

// startRun runs a tunnel in the background and returns where its result arrives.
func startRun(ctx context.Context, tu *Tunnels, client, upstream net.Conn) <-chan runResult {
	res := make(chan runResult, 1)
	go func() {
		s, err := tu.Run(ctx, client, upstream)
		res <- runResult{s, err}
	}()
	return res
}

func waitRun(t *testing.T, res <-chan runResult) runResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("tunnel did not end within 10s")
		return runResult{}
	}
}

// waitGoroutines polls until no more than want goroutines run, so a leaked copier fails the test.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := runtime.NumGoroutine()
		if got <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("got %d goroutines, want at most %d:\n%s", got, want, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

func newTunnels(t testing.TB, o TunnelOptions) *Tunnels {
	t.Helper()
	tu, err := NewTunnels(o)
	if err != nil {
		t.Fatal(err)
	}
	return tu
}

func TestTunnelCopiesBothWaysWithHalfClose(t *testing.T) {
	for _, tc := range []struct {
		name     string
		up, down int
	}{
		{"small", 5, 6},
		{"large", 1 << 20, 3 << 20},
		{"empty upload", 0, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clientApp, clientSide := tcpPair(t)
			upstreamSide, upstreamApp := tcpPair(t)
			var upSeen, downSeen atomic.Int64
			tu := newTunnels(t, TunnelOptions{
				IdleTimeout: 5 * time.Second,
				OnBytes:     func(up, down int64) { upSeen.Add(up); downSeen.Add(down) },
			})
			base := runtime.NumGoroutine()
			res := startRun(context.Background(), tu, clientSide, upstreamSide)

			upload := bytes.Repeat([]byte("u"), tc.up)
			download := bytes.Repeat([]byte("d"), tc.down)
			var wg sync.WaitGroup
			var gotUp, gotDown []byte
			var upErr, downErr error
			wg.Add(2)
			go func() { // the upstream reads the whole request, then answers
				defer wg.Done()
				gotUp, upErr = io.ReadAll(upstreamApp)
				upstreamApp.Write(download)
				upstreamApp.CloseWrite()
			}()
			go func() {
				defer wg.Done()
				clientApp.Write(upload)
				clientApp.CloseWrite() // the answer must still arrive after this
				gotDown, downErr = io.ReadAll(clientApp)
			}()
			wg.Wait()

			r := waitRun(t, res)
			if r.err != nil {
				t.Errorf("got error %v, want nil", r.err)
			}
			if upErr != nil || downErr != nil || !bytes.Equal(gotUp, upload) || !bytes.Equal(gotDown, download) {
				t.Errorf("got %d bytes up (%v), %d down (%v), want %d and %d", len(gotUp), upErr, len(gotDown), downErr, tc.up, tc.down)
			}
			want := Stats{Up: int64(tc.up), Down: int64(tc.down)}
			if r.stats != want {
				t.Errorf("got stats %+v, want %+v", r.stats, want)
			}
			if got := (Stats{Up: upSeen.Load(), Down: downSeen.Load()}); got != want {
				t.Errorf("got OnBytes totals %+v, want %+v", got, want)
			}
			waitGoroutines(t, base)
		})
	}
}

// TestTunnelClearsDeadlines: a connection taken over from an http.Server may carry the
// server's read or write deadline; without an idle timeout, nothing would reset it, and the
// tunnel would end when it passed.
func TestTunnelClearsDeadlines(t *testing.T) {
	clientApp, clientSide := tcpPair(t)
	upstreamSide, upstreamApp := tcpPair(t)
	past := time.Now().Add(-time.Second)
	clientSide.SetDeadline(past)
	upstreamSide.SetDeadline(past)
	res := startRun(context.Background(), newTunnels(t, TunnelOptions{}), clientSide, upstreamSide)

	clientApp.Write([]byte("up"))
	clientApp.CloseWrite()
	got, err := io.ReadAll(upstreamApp)
	if err != nil || string(got) != "up" {
		t.Fatalf("upstream got %q, %v; want \"up\" and EOF", got, err)
	}
	upstreamApp.Write([]byte("down"))
	upstreamApp.CloseWrite()
	got, err = io.ReadAll(clientApp)
	if err != nil || string(got) != "down" {
		t.Fatalf("client got %q, %v; want \"down\" and EOF", got, err)
	}
	if r := waitRun(t, res); r.err != nil {
		t.Errorf("got error %v, want nil", r.err)
	}
}

func TestTunnelEnds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    TunnelOptions
		traffic time.Duration // upstream sends a byte this often until the tunnel ends; 0 for silence
		cancel  bool
		want    error
	}{
		{"idle", TunnelOptions{IdleTimeout: 50 * time.Millisecond}, 0, false, ErrIdle},
		{"lifetime while busy", TunnelOptions{IdleTimeout: time.Second, MaxLifetime: 100 * time.Millisecond}, 10 * time.Millisecond, false, ErrLifetime},
		{"context", TunnelOptions{}, 0, true, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clientApp, clientSide := net.Pipe()
			upstreamSide, upstreamApp := net.Pipe()
			defer clientApp.Close()
			defer upstreamApp.Close()
			tu := newTunnels(t, tc.opts)
			base := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res := startRun(ctx, tu, clientSide, upstreamSide)

			stopTraffic := make(chan struct{})
			trafficDone := make(chan struct{})
			go func() {
				defer close(trafficDone)
				if tc.traffic == 0 {
					return
				}
				tick := time.NewTicker(tc.traffic)
				defer tick.Stop()
				for {
					select {
					case <-stopTraffic:
						return
					case <-tick.C:
						if _, err := upstreamApp.Write([]byte("x")); err != nil {
							return
						}
					}
				}
			}()
			drained := make(chan error, 1)
			go func() { _, err := io.Copy(io.Discard, clientApp); drained <- err }()
			if tc.cancel {
				cancel()
			}

			r := waitRun(t, res)
			close(stopTraffic)
			<-trafficDone
			if !errors.Is(r.err, tc.want) {
				t.Errorf("got error %v, want %v", r.err, tc.want)
			}
			if err := <-drained; err != nil {
				t.Errorf("client read ended with %v, want EOF", err)
			}
			if tc.traffic > 0 && r.stats.Down == 0 {
				t.Error("got no bytes down, want the upstream's ticks")
			}
			waitGoroutines(t, base)
		})
	}
}

func TestTunnelOneWayTrafficIsNotIdle(t *testing.T) {
	clientApp, clientSide := net.Pipe()
	upstreamSide, upstreamApp := net.Pipe()
	defer clientApp.Close()
	defer upstreamApp.Close()
	const idle = 200 * time.Millisecond
	tu := newTunnels(t, TunnelOptions{IdleTimeout: idle})
	res := startRun(context.Background(), tu, clientSide, upstreamSide)
	go io.Copy(io.Discard, clientApp)

	// The client sends nothing while the upstream streams for several idle periods.
	start := time.Now()
	for time.Since(start) < 3*idle {
		if _, err := upstreamApp.Write([]byte("chunk")); err != nil {
			t.Fatalf("tunnel closed after %s of one-way traffic: %v", time.Since(start), err)
		}
		select {
		case r := <-res:
			t.Fatalf("tunnel ended with %v during one-way traffic", r.err)
		case <-time.After(idle / 10):
		}
	}
	r := waitRun(t, res) // silence now: the idle timeout must end it
	if !errors.Is(r.err, ErrIdle) {
		t.Errorf("got error %v, want %v", r.err, ErrIdle)
	}
}

func TestTunnelWithoutHalfCloseEndsWhenOneSideCloses(t *testing.T) {
	clientApp, clientSide := net.Pipe()
	upstreamSide, upstreamApp := net.Pipe()
	tu := newTunnels(t, TunnelOptions{})
	res := startRun(context.Background(), tu, clientSide, upstreamSide)
	go func() { clientApp.Write([]byte("bye")); clientApp.Close() }()
	got, err := io.ReadAll(upstreamApp)
	if err != nil || string(got) != "bye" {
		t.Errorf("got %q (%v), want %q and EOF", got, err, "bye")
	}
	if r := waitRun(t, res); r.err != nil || r.stats.Up != 3 {
		t.Errorf("got %+v, %v, want 3 bytes up and no error", r.stats, r.err)
	}
}

func TestTunnelsLimit(t *testing.T) {
	tu := newTunnels(t, TunnelOptions{Max: 2})
	r1, ok1 := tu.Acquire()
	r2, ok2 := tu.Acquire()
	_, ok3 := tu.Acquire()
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("got acquires %v %v %v, want true true false", ok1, ok2, ok3)
	}
	r1()
	r1() // a second release must not free another slot
	if got := tu.Open(); got != 1 {
		t.Errorf("got %d open, want 1", got)
	}
	r4, ok4 := tu.Acquire()
	_, ok5 := tu.Acquire()
	if !ok4 || ok5 {
		t.Errorf("got acquires %v %v after a release, want true false", ok4, ok5)
	}
	r2()
	r4()
	if got := tu.Open(); got != 0 {
		t.Errorf("got %d open, want 0", got)
	}
}

func TestTunnelsLimitConcurrent(t *testing.T) {
	const limit, callers = 10, 100
	tu := newTunnels(t, TunnelOptions{Max: limit})
	var granted atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok := tu.Acquire(); ok {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := granted.Load(); got != limit {
		t.Errorf("got %d tunnels granted, want %d", got, limit)
	}
}

func TestTunnelsUnlimited(t *testing.T) {
	tu := newTunnels(t, TunnelOptions{})
	for i := range 1000 {
		if _, ok := tu.Acquire(); !ok {
			t.Fatalf("acquire %d refused, want no limit", i)
		}
	}
}

func TestNewTunnelsRejectsNegativeTimeouts(t *testing.T) {
	if _, err := NewTunnels(TunnelOptions{IdleTimeout: -time.Second}); err == nil {
		t.Error("got no error, want one")
	}
}

func TestHijacked(t *testing.T) {
	a, b := tcpPair(t)
	if _, err := a.Write([]byte("CONNECT x:443 HTTP/1.1\r\n\r\nhello")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(b)
	for { // read the request head the way the HTTP server would
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	c := Hijacked(b, br)
	if _, ok := c.(interface{ CloseWrite() error }); !ok {
		t.Error("got a connection without CloseWrite, want it kept")
	}
	a.Write([]byte(" world"))
	a.CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello world" {
		t.Errorf("got %q (%v), want %q", got, err, "hello world")
	}
	if c2 := Hijacked(b, bufio.NewReader(b)); c2 != net.Conn(b) {
		t.Error("got a wrapper for an empty buffer, want the connection itself")
	}
}
