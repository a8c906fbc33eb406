package proxy_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestForwarderRunEndsTunnels opens a blind tunnel and an intercepted one and ends the
// Forwarder's Run, as main does at shutdown: once Run has returned both tunnels are closed, and
// a CONNECT after it gets 503.
func TestForwarderRunEndsTunnels(t *testing.T) {
	upstream := silentUpstream(t)
	ca, caPool := newCA(t)
	guard := proxytest.NewGuard(t, testResolver(), "127.0.0.0/8")
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		icpt: Method("CONNECT") && Host(/^a[.]test:443$/) -> <loopback>;
		api: Host(/^a[.]test(:443)?$/) -> "http://%s";
		tun: Method("CONNECT") -> <dynamic>;`, backend.Addr()),
		proxytest.Options{Forward: proxy.ForwardOptions{Guard: guard.Guard, CA: ca}})
	addr := p.Listener.Addr().String()

	blind, blindR, res := sendConnect(t, addr, upstream)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("blind CONNECT: got %d, want 200", res.StatusCode)
	}
	conn, br, res := sendConnect(t, addr, "a.test:443")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("intercepted CONNECT: got %d, want 200", res.StatusCode)
	}
	inner := tls.Client(&bufConn{Conn: conn, r: br}, &tls.Config{ServerName: "a.test", RootCAs: caPool})
	fmt.Fprintf(inner, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n")
	innerR := bufio.NewReader(inner)
	if res, err := http.ReadResponse(innerR, nil); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("request in the intercepted tunnel: got %v %v, want 200", res, err)
	} else {
		io.Copy(io.Discard, res.Body)
	}

	p.StopForwarder()
	blind.SetReadDeadline(time.Now().Add(time.Second)) // Run has returned: the close is done
	if _, err := blindR.ReadByte(); err != io.EOF {
		t.Errorf("reading the blind tunnel after Run: got %v, want EOF", err)
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := innerR.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("reading the intercepted tunnel after Run: got %v, want it closed", err)
	}
	_, _, res = sendConnect(t, addr, upstream)
	if body := readBody(t, res); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("CONNECT after Run: got %d %q, want 503", res.StatusCode, body)
	}
}
