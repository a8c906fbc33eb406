package h1_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/h1"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// exchangeMethods are the methods a fuzzed request takes, by its method byte.
var exchangeMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodTrace, "PROPPATCH", "get",
}

// exchangeLimits are the response head limits a fuzzed exchange takes, by its limit byte.
var exchangeLimits = []int64{h1.DefaultMaxResponseHeaderBytes, 4 << 10, 256, 64}

// What the backend does with the first connection once it has written the fuzzed answer.
const (
	modeKeep      = iota // serve more requests on it, if the answer leaves it usable
	modeClose            // close it, as a backend whose idle timeout passed
	modeHalfClose        // shut down its sending side, and count requests still sent on it
	modeDropNext         // read the next request on it, then close it without an answer
	modeResetNext        // read the next request on it, then reset it
	modes
	modeTLS = 0x80 // a bit of the mode byte: the backend speaks TLS, an https:// URL reaches it
)

// script is one fuzzed exchange: request a, answered with answer, then request b.
type script struct {
	methodA, methodB string
	keyB             int // Idempotency-Key on request b: 0 none, 1 with a value, 2 present with none
	closeA           bool
	mode             int
	tls              bool // over TLS: HTTP/1.1 pools to https backends read as plain ones do
	limit            int64
	answer           []byte
}

// result is what a client saw of one request: the error kind, or the response as read to its end.
type result struct {
	Err              string // "": a response; "head too large"; "error"
	Status           int
	Proto            string
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	Close            bool
	Body             string
	BodyErr          bool
	Trailer          http.Header
}

// outcome is everything compared between the two clients for one script.
type outcome struct {
	A, B     result
	SeenA    string // request a as the backend parsed it
	Conns    int    // connections the backend accepted
	Requests int    // requests the backend read
	Late     int    // requests sent on a connection the backend had half-closed
}

// FuzzExchange checks package h1 against net/http's Transport: the same two requests against the
// same scripted backend give the same outcome with both clients. The first request is answered
// with the fuzzed bytes (any status, 1xx responses, framing, body, trailers, Connection: close,
// bytes beyond the response, heads over the limit, nothing at all) and the first connection then
// kept, closed or half-closed, or kept until the second request arrives and then closed or reset
// without an answer; the second request, of any method, shows whether that connection was
// reused, must never go out on a connection the backend closed, and is sent again after a
// failure only when net/http would send it again. Compared: the request as
// the backend saw it, the error (only its kind) or the status, headers, body, body error and
// trailers, and the backend's count of connections and requests. A bit of the mode byte runs the
// script over TLS, where a backend that closes sends close_notify first, and a connection in the
// pool has TLS records, not bare bytes, to find.
//
// net/http learns that an idle connection closed through its background read; the test waits
// until net/http has closed it before the second request, so that its outcome is settled, and
// gives h1 no such wait: its probe must find the same.
func FuzzExchange(f *testing.F) {
	log.SetOutput(io.Discard) // net/http logs each unsolicited response
	f.Cleanup(func() { log.SetOutput(nil) })
	for _, s := range exchangeSeeds {
		f.Add(s.methodA, s.methodB, s.closeA, s.mode, s.limit, []byte(s.answer))
		f.Add(s.methodA, s.methodB, s.closeA, s.mode|modeTLS, s.limit, []byte(s.answer))
	}
	f.Fuzz(func(t *testing.T, methodA, methodB uint8, closeA bool, mode, limit uint8, answer []byte) {
		if len(answer) > 8<<10 {
			return // longer answers pass every limit but the default, and slow the fuzzer down
		}
		sc := script{
			methodA: exchangeMethods[int(methodA)%len(exchangeMethods)],
			methodB: exchangeMethods[int(methodB&15)%len(exchangeMethods)],
			keyB:    int(methodB>>4) % 3,
			closeA:  closeA,
			mode:    int(mode&^modeTLS) % modes,
			tls:     mode&modeTLS != 0,
			limit:   exchangeLimits[int(limit)%len(exchangeLimits)],
			answer:  answer,
		}
		got := runExchange(t, sc, false)
		want := runExchange(t, sc, true)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s then %s (key %d, close %v, mode %d, tls %v, limit %d), answer %q:\nh1:       %+v\nnet/http: %+v",
				sc.methodA, sc.methodB, sc.keyB, sc.closeA, sc.mode, sc.tls, sc.limit, sc.answer, got, want)
		}
	})
}

// watchdog bounds each step of an exchange: a client still waiting after it is stuck, which is a
// finding, never a slow machine (every byte it waits for is already sent or never will be).
const watchdog = 10 * time.Second

// runExchange runs sc against a new backend with h1's client, or net/http's when reference is set.
func runExchange(t *testing.T, sc script, reference bool) outcome {
	b := startFuzzBackend(t, sc)
	closed := make(chan struct{}) // closed when the client closes the first connection
	var once sync.Once
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	var rt http.RoundTripper
	if reference {
		var dials atomic.Int32
		tr := &http.Transport{
			TLSClientConfig: b.clientTLS,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nc, err := dial(ctx, network, addr)
				if err != nil || dials.Add(1) > 1 {
					return nc, err
				}
				return &closeSignalConn{Conn: nc, closed: func() { once.Do(func() { close(closed) }) }}, nil
			},
			DisableCompression:     true,
			MaxResponseHeaderBytes: sc.limit,
			MaxIdleConnsPerHost:    64,
		}
		defer tr.CloseIdleConnections()
		rt = tr
	} else {
		tr := h1.New(h1.Options{DialContext: dial, MaxResponseHeaderBytes: sc.limit, TLSClientConfig: b.clientTLS})
		defer tr.CloseIdleConnections()
		rt = tr
	}

	var o outcome
	o.A = exchange(t, rt, b.url, sc.methodA, 0, sc.closeA)
	select {
	case <-b.firstDone:
	case <-time.After(watchdog):
		t.Fatal("the backend did not finish with the first connection")
	}
	if reference && !b.firstReusable {
		select { // net/http's background read sees the close, and closes the connection
		case <-closed:
		case <-time.After(watchdog):
			t.Fatal("net/http did not close the connection the backend closed")
		}
	}
	o.B = exchange(t, rt, b.url, sc.methodB, sc.keyB, false)
	select {
	case o.SeenA = <-b.seenA:
	case <-time.After(watchdog):
		t.Fatal("the backend never read the first request")
	}
	b.stop()
	o.Conns, o.Requests, o.Late = int(b.conns.Load()), int(b.requests.Load()), int(b.late.Load())
	return o
}

// closeSignalConn calls closed when the connection is closed.
type closeSignalConn struct {
	net.Conn
	closed func()
}

func (c *closeSignalConn) Close() error {
	err := c.Conn.Close()
	c.closed()
	return err
}

// exchange sends one bodyless request and reads its answer to the end. key is as script.keyB.
func exchange(t *testing.T, rt http.RoundTripper, url, method string, key int, closeConn bool) result {
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url+"/x?y=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Close = closeConn
	req.Header.Set("X-Test", "1")
	switch key {
	case 1:
		req.Header.Set("Idempotency-Key", "k1")
	case 2:
		req.Header["Idempotency-Key"] = nil // sent as nothing, and still a promise to net/http
	}
	res, err := rt.RoundTrip(req)
	if ctx.Err() != nil {
		t.Fatalf("%s: no answer within %s: stuck", method, watchdog)
	}
	if err != nil {
		if errors.Is(err, h1.ErrResponseHeaderTooLarge) || bytes.Contains([]byte(err.Error()), []byte("server response headers exceeded")) {
			return result{Err: "head too large"}
		}
		return result{Err: "error"}
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if ctx.Err() != nil {
		t.Fatalf("%s: body not read within %s: stuck", method, watchdog)
	}
	return result{
		Status: res.StatusCode, Proto: res.Proto, Header: res.Header, ContentLength: res.ContentLength,
		TransferEncoding: res.TransferEncoding, Close: res.Close, Body: string(body), BodyErr: err != nil,
		Trailer: res.Trailer,
	}
}

// fuzzBackend answers the first request of the first connection with a script's answer and
// every other request with "sec".
type fuzzBackend struct {
	ln                    net.Listener
	url                   string
	serverTLS, clientTLS  *tls.Config // nil for plain text
	sc                    script
	firstReusable         bool          // the first connection stays open after the answer
	firstDone             chan struct{} // closed when the answer is written and mode applied
	seenA                 chan string
	conns, requests, late atomic.Int32
	wg                    sync.WaitGroup
	mu                    sync.Mutex
	open                  []net.Conn
	stopOnce              sync.Once
}

func startFuzzBackend(t *testing.T, sc script) *fuzzBackend {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &fuzzBackend{ln: ln, url: "http://" + ln.Addr().String(), sc: sc,
		firstDone: make(chan struct{}), seenA: make(chan string, 1)}
	if sc.tls {
		cert, roots := fuzzCert(t)
		b.url = "https://" + ln.Addr().String()
		// It offers h2 as most servers do; both clients offer HTTP/1.1 alone.
		b.serverTLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
		b.clientTLS = &tls.Config{RootCAs: roots}
	}
	b.firstReusable = (sc.mode == modeKeep || sc.mode == modeDropNext || sc.mode == modeResetNext) &&
		selfDelimited(sc.answer, sc.methodA)
	t.Cleanup(b.stop)
	b.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.open = append(b.open, c)
			b.mu.Unlock()
			n := b.conns.Add(1)
			b.wg.Go(func() { b.serve(c.(*net.TCPConn), n == 1) })
		}
	})
	return b
}

// stop closes the listener and every connection, and waits for the backend's goroutines.
func (b *fuzzBackend) stop() {
	b.stopOnce.Do(func() {
		b.ln.Close()
		b.mu.Lock()
		for _, c := range b.open {
			c.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
}

func (b *fuzzBackend) serve(raw *net.TCPConn, first bool) {
	var c net.Conn = raw
	var tc *tls.Conn
	if b.serverTLS != nil {
		tc = tls.Server(raw, b.serverTLS)
		c = tc
	}
	defer c.Close()
	br := bufio.NewReader(c)
	if first {
		req, err := http.ReadRequest(br)
		if err != nil {
			close(b.firstDone)
			b.seenA <- "none: " + err.Error()
			return
		}
		b.requests.Add(1)
		b.seenA <- describeRequest(req, b.ln.Addr().String())
		c.Write(b.sc.answer)
		if b.firstReusable {
			close(b.firstDone)
			if b.sc.mode == modeDropNext || b.sc.mode == modeResetNext {
				if _, err := http.ReadRequest(br); err == nil {
					b.requests.Add(1)
				}
				if b.sc.mode == modeResetNext {
					raw.SetLinger(0) // a reset rather than a FIN
				}
				return
			}
		} else {
			// The client's kernel knows of the FIN, after close_notify over TLS, before the
			// test goes on.
			if tc != nil {
				tc.CloseWrite()
			}
			proxytest.ShutdownWrite(raw)
			if b.sc.mode != modeHalfClose {
				c.Close()
			}
			close(b.firstDone)
			if _, err := http.ReadRequest(br); err == nil {
				b.late.Add(1)
			}
			return
		}
	}
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		b.requests.Add(1)
		answer := "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"
		if req.Method != http.MethodHead {
			answer += "sec"
		}
		if _, err := io.WriteString(c, answer); err != nil {
			return
		}
	}
}

var fuzzCerts struct {
	once  sync.Once
	cert  tls.Certificate
	roots *x509.CertPool
}

// fuzzCert returns the TLS backends' certificate for 127.0.0.1, made once: a key pair per
// exchange would slow the fuzzer down for nothing.
func fuzzCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	fuzzCerts.once.Do(func() { fuzzCerts.cert, fuzzCerts.roots = proxytest.NewCert(t, "127.0.0.1") })
	return fuzzCerts.cert, fuzzCerts.roots
}

// describeRequest returns what the backend compares of a request, with its own address, which
// differs between runs, left out.
func describeRequest(r *http.Request, addr string) string {
	host := strings.ReplaceAll(r.Host, addr, "backend")
	return fmt.Sprintf("%s %s %s host=%s close=%v cl=%d te=%v %v", r.Method, r.RequestURI, r.Proto, host,
		r.Close, r.ContentLength, r.TransferEncoding, r.Header)
}

// selfDelimited reports whether answer, as net/http's parser reads it for a request with method,
// is interim responses and one final response that ends by its own framing, with nothing after
// it: a client may send its next request on the connection, and the backend waits for it.
func selfDelimited(answer []byte, method string) bool {
	br := bufio.NewReader(bytes.NewReader(answer))
	req := &http.Request{Method: method}
	for {
		res, err := http.ReadResponse(br, req)
		if err != nil {
			return false
		}
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		if res.Close || res.StatusCode == http.StatusSwitchingProtocols {
			return false // ends with the connection (a body read to EOF sets Close too)
		}
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			return false
		}
		_, err = br.Peek(1)
		return err == io.EOF
	}
}
