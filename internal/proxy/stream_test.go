package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// patternReader yields a repeating 64 KiB pattern, cheaply: a body of any size without holding it.
type patternReader struct {
	block []byte
	off   int
}

func newPattern() *patternReader {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return &patternReader{block: b}
}

func (r *patternReader) Read(p []byte) (int, error) {
	n := copy(p, r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	return n, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sumOf returns the length and CRC-32C of everything r yields.
func sumOf(r io.Reader) (int64, uint32, error) {
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, r)
	return n, h.Sum32(), err
}

// TestLargeBodiesStreamWithFlatMemory sends 1 GiB up through the proxy (chunked) and 1 GiB down
// (with a Content-Length), and checks that the heap stays flat: the proxy streams and never
// buffers a body.
func TestLargeBodiesStreamWithFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 2 GiB")
	}
	const size = int64(1 << 30) // 9-14s under the race detector on two cores; ~1s without
	_, wantSum, _ := sumOf(io.LimitReader(newPattern(), size))

	type result struct {
		n   int64
		sum uint32
		err error
	}
	upload := make(chan result, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, sum, err := sumOf(r.Body)
		upload <- result{n, sum, err}
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		io.Copy(w, io.LimitReader(newPattern(), size))
	}))
	defer backend.Close()
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Listener.Addr()), proxytest.Options{})

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()

	start := time.Now()
	res, err := p.Client().Post(p.URL+"/", "application/octet-stream", io.LimitReader(newPattern(), size))
	if err != nil {
		t.Fatal(err)
	}
	n, sum, err := sumOf(res.Body)
	res.Body.Close()
	close(stop)
	<-sampled
	if err != nil || n != size || sum != wantSum {
		t.Errorf("client got %d bytes with CRC %08x (%v), want %d with %08x", n, sum, err, size, wantSum)
	}
	up := <-upload
	if up.err != nil || up.n != size || up.sum != wantSum {
		t.Errorf("backend got %d bytes with CRC %08x (%v), want %d with %08x", up.n, up.sum, up.err, size, wantSum)
	}
	growth := int64(peak.Load()) - int64(base)
	t.Logf("%d MiB each way in %s; heap in use grew by at most %.1f MiB", size>>20, time.Since(start).Round(time.Millisecond), float64(growth)/(1<<20))
	if growth > 64<<20 {
		t.Errorf("heap in use grew by %d MiB while streaming, want under 64 MiB", growth>>20)
	}
}

// TestClientGoesAway: a client that gives up, mid-response or while the backend is still
// thinking, cancels the backend's request, and leaves no goroutine behind once the proxy has
// answered.
func TestClientGoesAway(t *testing.T) {
	got := make(chan struct{}, 1)       // the backend has the request
	cancelled := make(chan struct{}, 1) // the backend saw its request cancelled
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		got <- struct{}{}
		if r.URL.Path == "/stream" {
			for r.Context().Err() == nil {
				w.Write(bytes.Repeat([]byte("x"), 1024))
				w.(http.Flusher).Flush()
			}
		}
		<-r.Context().Done()
		cancelled <- struct{}{}
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})

	tests := []struct {
		path   string
		giveUp func(cancel context.CancelFunc, res *http.Response)
		logged int
	}{
		{"/stream", func(cancel context.CancelFunc, res *http.Response) {
			io.ReadFull(res.Body, make([]byte, 4096)) // some of the answer, then gone
			cancel()
		}, http.StatusOK},
		{"/think", func(cancel context.CancelFunc, _ *http.Response) { cancel() }, 499},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			before := goroutines()
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", p.URL+tc.path, nil)
			done := make(chan *http.Response, 1)
			go func() {
				res, _ := p.Client().Do(req)
				done <- res
			}()
			select {
			case <-got:
			case <-time.After(10 * time.Second):
				t.Fatal("the backend did not get the request within 10s")
			}
			var res *http.Response
			if tc.path == "/stream" {
				res = <-done
			}
			tc.giveUp(cancel, res)
			select {
			case <-cancelled:
			case <-time.After(10 * time.Second):
				t.Fatal("the backend's request was not cancelled within 10s")
			}
			if res == nil {
				res = <-done // the request that never got an answer ends
			}
			if res != nil {
				res.Body.Close()
			}
			p.Client().CloseIdleConnections()
			checkNoNewGoroutines(t, before)
			defer func() {
				if t.Failed() {
					t.Log(p.Log())
				}
			}()
			// The access log has the request: 200 when the answer had begun, else 499.
			want := fmt.Sprintf(`"GET %s HTTP/1.1" %d `, tc.path, tc.logged)
			poll.Until(t, 5*time.Second, "access line "+want, func() bool { return strings.Contains(p.Log(), want) })
		})
	}
}

// goroutines returns the stacks of the running goroutines, by goroutine id.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		id, _, _ := strings.Cut(strings.TrimPrefix(g, "goroutine "), " ")
		all[id] = g
	}
	return all
}

// checkNoNewGoroutines waits up to 5s for every goroutine that serves HTTP or runs proxy code
// and was not running in before to end, and reports those that remain. Other goroutines, such
// as a secrets watcher that started late, are not the request's.
func checkNoNewGoroutines(t *testing.T, before map[string]string) {
	t.Helper()
	var left []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		left = left[:0]
		for id, stack := range goroutines() {
			_, old := before[id]
			ours := strings.Contains(stack, "net/http.") || strings.Contains(stack, "skipper/internal/proxy.")
			if !old && ours && !strings.Contains(stack, "checkNoNewGoroutines") {
				left = append(left, stack)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // a poll interval, not a wait for an event
	}
	if len(left) > 0 {
		t.Errorf("%d goroutines left behind:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}
