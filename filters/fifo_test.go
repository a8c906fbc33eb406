package filters_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestFifoBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewFifo(), []argsCase{
		{"two", []any{1.0, 1.0}, "fifo: want 3 arguments (max concurrency, max queue size, timeout), got 2"},
		{"zero", []any{0.0, 1.0, "1s"}, "fifo: argument 1 (max concurrency) must be a whole number from 1, got 0"},
		{"queue", []any{1.0, -1.0, "1s"}, "fifo: argument 2 (max queue size) must be a whole number from 0, got -1"},
	})
}

// TestFifoThroughProxy holds one request in the backend and checks what the next ones get:
// 503 with no room to wait, 502 after waiting too long, and a slot again once the first is
// done.
func TestFifoThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	entered, release := make(chan string, 4), make(chan struct{})
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		entered <- r.Host
		if r.URL.Path == "/hold" {
			<-release
		}
	})
	p := proxytest.New(t, fmt.Sprintf(`
		noqueue: Host("noqueue.test") -> fifo(1, 0, "10s") -> "http://%[1]s";
		wait: Host("wait.test") -> fifoWithBody(1, 1, "1s") -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	for _, tc := range []struct {
		host string
		want int
	}{
		{"noqueue.test", http.StatusServiceUnavailable},
		{"wait.test", http.StatusBadGateway},
	} {
		held := make(chan int, 1)
		go func() {
			res, _ := p.Do(t, "GET", tc.host, "/hold")
			held <- res.StatusCode
		}()
		<-entered // the first request has the route's only slot
		if res, _ := p.Do(t, "GET", tc.host, "/next"); res.StatusCode != tc.want {
			t.Errorf("%s: second request got %d, want %d", tc.host, res.StatusCode, tc.want)
		}
		release <- struct{}{}
		if got := <-held; got != 200 {
			t.Errorf("%s: first request got %d", tc.host, got)
		}
		// fifoWithBody's slot comes back when the handler has returned, which may be just after
		// the client has the answer: the next request waits for it in the queue.
		if res, _ := p.Do(t, "GET", tc.host, "/after"); res.StatusCode != 200 {
			t.Errorf("%s: request after the first got %d, want 200: its slot came back", tc.host, res.StatusCode)
		}
		<-entered
	}
}
