package forward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heldConn is a wrapper like the proxy's guard: it has read held from its connection, and its
// reads return those bytes first.
type heldConn struct {
	net.Conn
	held []byte
}

func (c *heldConn) Read(p []byte) (int, error) {
	if len(c.held) > 0 {
		n := copy(p, c.held)
		c.held = c.held[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func (c *heldConn) Unwrap() (net.Conn, []byte) {
	held := c.held
	c.held = nil
	return c.Conn, held
}

// bulkSteps records the steps of bulk mode while a test runs.
type bulkSteps struct {
	mu        sync.Mutex
	moved     [2]int64 // down, up
	endedBulk [2]bool  // the direction's source ended during a bulk step
}

func recordBulk(t *testing.T) *bulkSteps {
	t.Helper()
	s := &bulkSteps{}
	bulkStepHook = func(isUp bool, n int64, err error) {
		i := 0
		if isUp {
			i = 1
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.moved[i] += n
		if err == nil && n < bulkStep {
			s.endedBulk[i] = true
		}
	}
	t.Cleanup(func() { bulkStepHook = nil })
	return s
}

func (s *bulkSteps) get() (moved [2]int64, ended [2]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.moved, s.endedBulk
}

func randomBytes(n int) []byte {
	var seed [32]byte
	seed[0] = byte(n)
	b := make([]byte, n)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// TestTunnelBulkThroughWrappers: a bulk transfer each way between wrapped connections goes
// through bulk mode between the TCP connections beneath, after the bytes the wrappers held, and
// arrives whole and in order; each side's end still half-closes the other during bulk mode.
func TestTunnelBulkThroughWrappers(t *testing.T) {
	for _, idle := range []time.Duration{0, 5 * time.Second} {
		t.Run("idle "+idle.String(), func(t *testing.T) {
			steps := recordBulk(t)
			clientApp, clientSide := tcpPair(t)
			upstreamSide, upstreamApp := tcpPair(t)
			// Stream order on the client side: Hijacked's prefix, then what the guard held.
			client := &prefixConn{
				Conn:   &heldConn{Conn: clientSide, held: []byte("held-by-guard|")},
				prefix: bytes.NewReader([]byte("prefix|")),
			}
			upstream := &heldConn{Conn: upstreamSide, held: []byte("held-upstream|")}
			var upSeen, downSeen atomic.Int64
			tu := newTunnels(t, TunnelOptions{
				IdleTimeout: idle,
				OnBytes:     func(up, down int64) { upSeen.Add(up); downSeen.Add(down) },
			})
			res := startRun(context.Background(), tu, client, upstream)

			upload, download := randomBytes(5<<20+123), randomBytes(6<<20+45)
			var wg sync.WaitGroup
			var gotUp, gotDown []byte
			var upErr, downErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				gotUp, upErr = io.ReadAll(upstreamApp)
				upstreamApp.Write(download)
				upstreamApp.CloseWrite()
			}()
			go func() {
				defer wg.Done()
				clientApp.Write(upload)
				clientApp.CloseWrite()
				gotDown, downErr = io.ReadAll(clientApp)
			}()
			wg.Wait()
			r := waitRun(t, res)

			wantUp := append([]byte("prefix|held-by-guard|"), upload...)
			wantDown := append([]byte("held-upstream|"), download...)
			if upErr != nil || !bytes.Equal(gotUp, wantUp) {
				t.Errorf("upstream got %d bytes (%v), want the %d sent, in order", len(gotUp), upErr, len(wantUp))
			}
			if downErr != nil || !bytes.Equal(gotDown, wantDown) {
				t.Errorf("client got %d bytes (%v), want the %d sent, in order", len(gotDown), downErr, len(wantDown))
			}
			if r.err != nil {
				t.Errorf("got error %v, want nil", r.err)
			}
			want := Stats{Up: int64(len(wantUp)), Down: int64(len(wantDown))}
			if r.stats != want {
				t.Errorf("got stats %+v, want %+v", r.stats, want)
			}
			if got := (Stats{Up: upSeen.Load(), Down: downSeen.Load()}); got != want {
				t.Errorf("got OnBytes totals %+v, want %+v", got, want)
			}
			moved, ended := steps.get()
			if moved[1] == 0 || moved[0] == 0 {
				t.Errorf("bulk mode moved %d bytes up and %d down, want both directions in it", moved[1], moved[0])
			}
			if !ended[1] || !ended[0] {
				t.Errorf("source ended in bulk mode: up %v, down %v; want both", ended[1], ended[0])
			}
		})
	}
}

// TestTunnelTrickleAcrossModes: a byte every twentieth of the idle timeout, in one direction
// only, keeps a tunnel open past the idle timeout, before a bulk transfer, after it, and while
// chunks large enough for bulk mode come as slowly; silence then ends it as idle. The client
// reads on its own, so that the pace at which bytes reach the tunnel is the sender's alone. The
// margin between the pace and the timeout is what a starved test process may stall (seen here:
// half a second under -race beside a CPU hog) without the tunnel seeing an idle period.
func TestTunnelTrickleAcrossModes(t *testing.T) {
	const idle = time.Second
	const ticks = 25 // a quarter more than the idle timeout of trickle in each phase
	steps := recordBulk(t)
	clientApp, clientSide := tcpPair(t)
	upstreamSide, upstreamApp := tcpPair(t)

	// The whole stream is made up front, so that the client checks it as it comes without
	// holding it, and only the pacing below takes time.
	bulk, large := randomBytes(4<<20), randomBytes(256<<10)
	var want []byte
	for range ticks {
		want = append(want, 'a')
	}
	want = append(want, bulk...)
	for range ticks {
		want = append(want, 'b')
	}
	for range ticks {
		want = append(want, large...)
	}
	checked := make(chan error, 1)
	go func() {
		buf := make([]byte, 64<<10)
		rest := want
		for {
			n, err := clientApp.Read(buf)
			if n > len(rest) || !bytes.Equal(buf[:n], rest[:n]) {
				checked <- fmt.Errorf("byte %d on differs from what was sent", len(want)-len(rest))
				return
			}
			rest = rest[n:]
			if err != nil {
				if len(rest) > 0 || err != io.EOF {
					err = fmt.Errorf("read %d bytes of %d, then %w", len(want)-len(rest), len(want), err)
				} else {
					err = nil
				}
				checked <- err
				return
			}
		}
	}()
	tu := newTunnels(t, TunnelOptions{IdleTimeout: idle})
	res := startRun(context.Background(), tu, clientSide, upstreamSide)

	// The upstream writes each chunk it is handed, as the test's ticker hands them.
	chunks := make(chan []byte)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for c := range chunks {
			upstreamApp.Write(c) // a write after the tunnel ended shows in the totals
		}
	}()
	hand := func(phase string, c []byte) {
		t.Helper()
		select {
		case chunks <- c:
		case r := <-res:
			t.Fatalf("%s: tunnel ended with %v while bytes moved", phase, r.err)
		}
	}
	trickle := func(phase string, c []byte) {
		t.Helper()
		tick := time.NewTicker(idle / 20)
		defer tick.Stop()
		for range ticks {
			<-tick.C
			hand(phase, c)
		}
	}

	trickle("trickle before bulk", []byte("a"))
	hand("bulk", bulk)
	trickle("trickle after bulk", []byte("b"))
	afterBulk, _ := steps.get()
	trickle("slow large chunks", large)
	afterLarge, _ := steps.get()
	close(chunks)
	<-writerDone

	r := waitRun(t, res)
	if !errors.Is(r.err, ErrIdle) {
		t.Errorf("got error %v after silence, want %v", r.err, ErrIdle)
	}
	if err := <-checked; err != nil {
		t.Errorf("the client: %v", err)
	}
	if r.stats != (Stats{Down: int64(len(want))}) {
		t.Errorf("got stats %+v, want all %d bytes down", r.stats, len(want))
	}
	if afterBulk[0] == 0 {
		t.Error("a 4 MiB download did not go through bulk mode")
	}
	if afterLarge[0] == afterBulk[0] {
		t.Error("slow large chunks never went through bulk mode")
	}
}

// opaqueConn hides the connection beneath: a tunnel over it copies through its buffer.
type opaqueConn struct{ net.Conn }

// BenchmarkTunnelDownload moves 1 MiB chunks from the upstream to the client over loopback TCP:
// through a plain relay (io.Copy each way, which splices) as the reference, through Run between
// the TCP connections, and through Run between wrappers it cannot unwrap (the buffered loop).
func BenchmarkTunnelDownload(b *testing.B) {
	for _, mode := range []string{"relay", "tunnel", "tunnel-buffered"} {
		b.Run(mode, func(b *testing.B) {
			clientApp, clientSide := tcpPair(b)
			upstreamSide, upstreamApp := tcpPair(b)
			switch mode {
			case "relay":
				go io.Copy(clientSide, upstreamSide)
				go io.Copy(upstreamSide, clientSide)
			case "tunnel":
				startRun(context.Background(), newTunnels(b, TunnelOptions{IdleTimeout: time.Minute}), clientSide, upstreamSide)
			default:
				startRun(context.Background(), newTunnels(b, TunnelOptions{IdleTimeout: time.Minute}),
					opaqueConn{clientSide}, opaqueConn{upstreamSide})
			}
			chunk, got := make([]byte, 1<<20), make([]byte, 1<<20)
			b.SetBytes(int64(len(chunk)))
			b.ResetTimer()
			go func() {
				for range b.N {
					if _, err := upstreamApp.Write(chunk); err != nil {
						return
					}
				}
			}()
			for range b.N {
				if _, err := io.ReadFull(clientApp, got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
