package proxy

import (
	"bufio"
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/routing"
)

// fuzzMaxHeader is the MaxHeaderBytes of FuzzConnection's server: small, so that inputs reach
// the limits.
const fuzzMaxHeader = 2048

// FuzzConnection sends a byte stream of pipelined requests through a Listener connection to Go's
// server, whose handler records every request it is handed (method, target, version, Host, the
// other fields, body, trailers) and then lets the proxy answer it. The requests must be those
// that the strict reading of refRead finds, one for one; or the connection must have been
// refused (an answer of 400 or above, then the end) where they part: before any request that the
// strict reading reads differently or not at all. The one request the handler may see beyond the
// reading is one whose body the reading refused or did not see end, and whose body read then
// failed for the handler too. chunk is the most each read from the network yields.
//
// The seed corpus in testdata/fuzz/FuzzConnection holds the smuggling suite's cases and the
// findings of issue 11; plain go test runs it.
func FuzzConnection(f *testing.F) {
	p := New(Options{Router: routing.NewRouter()})
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		chunk = max(1, chunk%8192)
		got, out := serveConnection(t, p, data, chunk)
		checkConnection(t, data, refRead(data), got, out)
	})
}

// serveConnection serves data as one client connection through p's Listener, and returns the
// requests the handler saw and what the server wrote back.
func serveConnection(t *testing.T, p *Proxy, data []byte, chunk int) ([]refRequest, []byte) {
	conn := &memConn{in: data, chunk: chunk}
	ln := newOneConnListener(conn)
	var seen []refRequest // written by the connection's goroutine, read after it has ended
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !p.isRefusal(r) {
				body, err := io.ReadAll(r.Body)
				seen = append(seen, seenRequest(r, body, err))
			}
			p.ServeHTTP(w, r)
		}),
		MaxHeaderBytes: fuzzMaxHeader,
		// OPTIONS * would be answered by the server itself, unseen by the handler.
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed || s == http.StateHijacked {
				ln.finish()
			}
		},
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(p.Listener(ln, ListenerOptions{MaxHeaderBytes: fuzzMaxHeader})) //nolint:errcheck // ends with the connection
	}()
	select {
	case <-ln.finished:
	case <-time.After(10 * time.Second):
		t.Fatalf("the connection did not end within 10s: %q", data)
	}
	<-served
	return seen, conn.written()
}

// checkConnection checks what the handler saw, got, and what the server wrote, out, against the
// strict reading ref of data.
func checkConnection(t *testing.T, data []byte, ref refResult, got []refRequest, out []byte) {
	t.Helper()
	n := len(ref.reqs)
	for i, g := range got {
		switch {
		case i < n && g == ref.reqs[i]:
		case i < n:
			t.Fatalf("input %q\nrequest %d: the handler saw\n%+v\nthe strict reading\n%+v", data, i, g, ref.reqs[i])
		case i == n && ref.partial != nil && g.BodyErr:
			want := *ref.partial
			g.Body, g.Trailer, g.BodyErr = "", "", false
			if g != want {
				t.Fatalf("input %q\nrequest %d, whose body fails: the handler saw\n%+v\nthe strict reading\n%+v", data, i, g, want)
			}
		default:
			t.Fatalf("input %q\nthe handler saw request %d\n%+v\nbut the strict reading stops after %d: %s %s", data, i, g, n, ref.stop, ref.reason)
		}
	}
	if len(got) < n {
		statuses := answerStatuses(out, got)
		if len(statuses) <= len(got) || statuses[len(got)] < 400 {
			t.Fatalf("input %q\nthe handler saw %d requests, the strict reading %d, and the server did not refuse the next: answers %v\n%q",
				data, len(got), n, statuses, out)
		}
	}
}

// answerStatuses reads the final answers in out, one for each request the handler saw and then
// the status of one more, if there is one.
func answerStatuses(out []byte, got []refRequest) []int {
	br := bufio.NewReader(bytes.NewReader(out))
	var statuses []int
	for _, r := range got {
		for {
			res, err := http.ReadResponse(br, &http.Request{Method: r.Method})
			if err != nil {
				return statuses
			}
			io.Copy(io.Discard, res.Body)
			if res.StatusCode >= 200 || res.StatusCode == http.StatusSwitchingProtocols {
				statuses = append(statuses, res.StatusCode)
				break
			}
		}
	}
	line, _ := br.ReadString('\n')
	if _, rest, ok := strings.Cut(line, " "); ok && len(rest) >= 3 {
		if code, err := strconv.Atoi(rest[:3]); err == nil {
			statuses = append(statuses, code)
		}
	}
	return statuses
}

// memConn is a client connection that sends in, in reads of at most chunk bytes, then ends (as
// a client that half-closes after its last request), and keeps what the server writes.
type memConn struct {
	in    []byte
	chunk int

	mu  sync.Mutex
	out bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.in[:min(c.chunk, len(c.in))])
	c.in = c.in[n:]
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *memConn) written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1234} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
