package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestDrainClosesKeepAliveConnections stops skipper with SIGTERM while keep-alive clients keep
// sending: busy ones back to back, quiet ones with pauses, so that some connections are idle
// when the signal arrives. After -wait-for-healthcheck-interval, with or without one, skipper
// stops accepting connections and drains the open ones: every answer asks the client to close
// its connection, and a well-behaved client then stops sending there (it would be refused if
// it connected again); idle connections are closed only after this drain. So every request gets
// its whole answer, none is cut by EOF or a reset, every client hears "Connection: close"
// before skipper goes, and no answer before the signal says it. The requests are POSTs, which
// Go's client does not quietly retry on a closed connection.
func TestDrainClosesKeepAliveConnections(t *testing.T) {
	if testing.Short() {
		t.Skip("runs load against the binary")
	}
	for _, wait := range []string{"1s", "0"} {
		t.Run("wait "+wait, func(t *testing.T) { testDrain(t, wait) })
	}
}

func testDrain(t *testing.T, wait string) {
	backend := proxytest.NewBackend(t, nil)
	p := startNoCleanup(t, fmt.Sprintf(`-inline-routes=* -> "http://%s"`, backend.Addr()), "-wait-for-healthcheck-interval="+wait)

	const (
		busy, quiet = 8, 8
		maxRequests = 2000 // per client: bounds the test if no answer ever says close
		quietPause  = 50 * time.Millisecond
	)
	var (
		answered  atomic.Int64
		signalled atomic.Bool
		mu        sync.Mutex
		failures  []string
		toldEarly int // answers with Connection: close before the signal
		told      int // clients that ended on an answer with Connection: close
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	client := func(id int, pause time.Duration) {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
		defer tr.CloseIdleConnections()
		for i := range maxRequests {
			req, err := http.NewRequest("POST", "http://"+p.addr+"/", strings.NewReader(fmt.Sprintf("client %d request %d", id, i)))
			if err != nil {
				fail("client %d: %v", id, err)
				return
			}
			req.GetBody = nil // no retry of a request that may have been sent
			before := signalled.Load()
			res, err := tr.RoundTrip(req)
			if err != nil {
				fail("client %d, request %d: %v", id, i, err)
				return
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK || string(body) != "ok" {
				fail("client %d, request %d: got %d %q, %v; want 200 ok", id, i, res.StatusCode, body, err)
				return
			}
			answered.Add(1)
			if res.Close {
				mu.Lock()
				if !before && !signalled.Load() {
					toldEarly++
				}
				told++
				mu.Unlock()
				return // told to go away: a well-behaved client sends elsewhere
			}
			if pause > 0 {
				time.Sleep(pause) // the client's own pace, which leaves its connection idle
			}
		}
		fail("client %d: %d answers, none with Connection: close", id, maxRequests)
	}
	var wg sync.WaitGroup
	for i := range busy + quiet {
		pause := time.Duration(0)
		if i >= busy {
			pause = quietPause
		}
		wg.Go(func() { client(i, pause) })
	}
	poll.Until(t, 20*time.Second, "100 answers before the signal", func() bool { return answered.Load() >= 100 })
	signalled.Store(true)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("skipper did not exit within 20s of SIGTERM:\n%s", p.Log())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0:\n%s", code, p.Log())
	}
	for i, f := range failures {
		if i == 5 {
			t.Errorf("... and %d more", len(failures)-5)
			break
		}
		t.Error(f)
	}
	if toldEarly > 0 {
		t.Errorf("%d answers before SIGTERM said Connection: close, want none", toldEarly)
	}
	if told != busy+quiet {
		t.Errorf("%d of %d clients were told to close their connection", told, busy+quiet)
	}
	t.Logf("%d requests answered", answered.Load())
}

// TestConnCounter: none is closed once every connection the server reported new has closed or
// been hijacked, and the hook passes every state on.
func TestConnCounter(t *testing.T) {
	var c connCounter
	var passed []http.ConnState
	hook := c.hook(func(_ net.Conn, s http.ConnState) { passed = append(passed, s) })
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	if !closed(c.none()) {
		t.Fatal("no connection yet: none is not closed")
	}
	for _, s := range []http.ConnState{http.StateNew, http.StateNew, http.StateActive, http.StateIdle} {
		hook(nil, s)
	}
	none := c.none()
	hook(nil, http.StateHijacked)
	if closed(none) {
		t.Fatal("one connection still open: none is closed")
	}
	hook(nil, http.StateClosed)
	if !closed(none) {
		t.Fatal("every connection gone: none is not closed")
	}
	if len(passed) != 6 {
		t.Errorf("the next hook saw %d states, want 6", len(passed))
	}
}
