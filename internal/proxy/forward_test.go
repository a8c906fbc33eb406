package proxy_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/forward"
	"github.com/skipper-egress/skipper/internal/mitm"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// testResolver maps the names the forward tests use; none of them reaches DNS.
func testResolver() proxytest.Resolver {
	return proxytest.Resolver{
		"internal.test": {netip.MustParseAddr("10.1.2.3")},
		"loop.test":     {netip.MustParseAddr("127.0.0.1")},
	}
}

// newCA writes a fresh CA to a temporary directory and loads it, returning it with a pool that
// trusts it.
func newCA(t *testing.T) (*mitm.CA, *x509.CertPool) {
	t.Helper()
	certPath, keyPath, err := mitm.InitCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ca, err := mitm.LoadCA(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert())
	return ca, pool
}

// sendConnect opens a connection to the proxy, sends CONNECT authority and returns the
// connection, a reader positioned after the response head, and the response.
func sendConnect(t *testing.T, proxyAddr, authority string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", authority, authority)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("reading CONNECT response: %v", err)
	}
	return conn, br, res
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestForwardAbsoluteFormInjects(t *testing.T) {
	tok := writeSecret(t, t.TempDir(), "token", canary+"-fwd")
	backend := proxytest.NewBackend(t, nil)
	guard := proxytest.NewGuard(t, testResolver())
	p := proxytest.New(t, fmt.Sprintf(`Host(/^a[.]test$/) -> bearerinjector(%q) -> "http://%s"`, tok, backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{tok}, Forward: proxy.ForwardOptions{Guard: guard.Guard}})
	client := proxytest.ForwardClient(t, "http://user:pass@"+p.Listener.Addr().String(), nil)

	res, err := client.Get("http://a.test/x")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, res); res.StatusCode != http.StatusOK {
		t.Fatalf("got %d %q, want 200", res.StatusCode, body)
	}
	got := backend.Last(t)
	if want := "Bearer " + canary + "-fwd"; got.Header.Get("Authorization") != want {
		t.Errorf("backend got Authorization %q, want the injected token", got.Header.Get("Authorization"))
	}
	if v, ok := got.Header["Proxy-Authorization"]; ok {
		t.Errorf("backend got Proxy-Authorization %q, want none", v)
	}
	if got.RequestURI != "/x" {
		t.Errorf("backend got request URI %q, want /x", got.RequestURI)
	}

	res, err = client.Get("http://b.test/x")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, res)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "no route allows b.test") {
		t.Errorf("no route: got %d %q, want 403 naming b.test", res.StatusCode, body)
	}
	if n := guard.Dials(); n != 0 {
		t.Errorf("guard dialed %d times, want 0", n)
	}
	if len(backend.Received()) != 1 {
		t.Errorf("backend got %d requests, want 1", len(backend.Received()))
	}
	checkNoCanary(t, p)
}

func TestForwardSSRFGuard(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	_, port, _ := net.SplitHostPort(backend.Addr())
	targets := []string{
		"127.0.0.1:" + port,
		"10.0.0.1:80",
		"169.254.169.254:80",
		"[::1]:" + port,
		"internal.test:80",
		"loop.test:" + port,
	}
	guard := proxytest.NewGuard(t, testResolver())
	p := proxytest.New(t, `fwd: * -> <dynamic>`, proxytest.Options{Forward: proxy.ForwardOptions{Guard: guard.Guard}})
	client := proxytest.ForwardClient(t, p.URL, nil)
	for _, target := range targets {
		t.Run("absolute/"+target, func(t *testing.T) {
			res, err := client.Get("http://" + target + "/")
			if err != nil {
				t.Fatal(err)
			}
			if body := readBody(t, res); res.StatusCode != http.StatusForbidden {
				t.Errorf("got %d %q, want 403", res.StatusCode, body)
			}
		})
		t.Run("connect/"+target, func(t *testing.T) {
			_, _, res := sendConnect(t, p.Listener.Addr().String(), target)
			if body := readBody(t, res); res.StatusCode != http.StatusForbidden {
				t.Errorf("got %d %q, want 403", res.StatusCode, body)
			}
		})
	}
	if n := guard.Dials(); n != 0 {
		t.Errorf("guard dialed %d times, want 0", n)
	}
	if n := len(backend.Received()); n != 0 {
		t.Errorf("backend got %d requests, want 0", n)
	}
}

func TestForwardDynamicAllowed(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	_, port, _ := net.SplitHostPort(backend.Addr())
	guard := proxytest.NewGuard(t, testResolver(), "127.0.0.0/8")
	p := proxytest.New(t, `fwd: * -> <dynamic>`, proxytest.Options{Forward: proxy.ForwardOptions{Guard: guard.Guard}})
	client := proxytest.ForwardClient(t, p.URL, nil)
	for _, target := range []string{"127.0.0.1:" + port, "loop.test:" + port} {
		t.Run(target, func(t *testing.T) {
			res, err := client.Get("http://" + target + "/y?q=1")
			if err != nil {
				t.Fatal(err)
			}
			if body := readBody(t, res); res.StatusCode != http.StatusOK || body != "ok" {
				t.Fatalf("got %d %q, want 200 ok", res.StatusCode, body)
			}
			if got := backend.Last(t); got.Host != target || got.RequestURI != "/y?q=1" {
				t.Errorf("backend got Host %q URI %q, want %q /y?q=1", got.Host, got.RequestURI, target)
			}
		})
	}
}

func TestForwardBlindTunnelCarriesTLS(t *testing.T) {
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secret-over-tls")
	}))
	t.Cleanup(backend.Close)
	pool := x509.NewCertPool()
	pool.AddCert(backend.Certificate())
	guard := proxytest.NewGuard(t, testResolver(), "127.0.0.0/8")
	p := proxytest.New(t, `tun: Method("CONNECT") -> <dynamic>`, proxytest.Options{Forward: proxy.ForwardOptions{Guard: guard.Guard}})
	client := proxytest.ForwardClient(t, p.URL, pool)

	res, err := client.Get(backend.URL + "/z")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, res); res.StatusCode != http.StatusOK || body != "secret-over-tls" {
		t.Errorf("got %d %q, want 200 from the TLS backend", res.StatusCode, body)
	}
	if res.TLS == nil || !res.TLS.PeerCertificates[0].Equal(backend.Certificate()) {
		t.Error("the client did not see the backend's own certificate")
	}
	if strings.Contains(p.Log(), "secret-over-tls") {
		t.Error("the tunnelled bytes reached the log")
	}
}

func TestForwardConnectRefusals(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	guard := proxytest.NewGuard(t, testResolver(), "127.0.0.0/8")
	routes := fmt.Sprintf(`
		net: Method("CONNECT") && Host(/^net[.]test/) -> "http://%s";
		icpt: Method("CONNECT") && Host(/^icpt[.]test/) -> <loopback>;
		tun: Method("CONNECT") && Host(/^127/) -> <dynamic>;`, backend.Addr())
	p := proxytest.New(t, routes, proxytest.Options{Forward: proxy.ForwardOptions{Guard: guard.Guard}})
	for _, tc := range []struct {
		authority string
		want      int
	}{
		{"net.test:443", http.StatusForbidden},     // a network route opens no tunnel
		{"icpt.test:443", http.StatusBadGateway},   // interception without a CA
		{"127.0.0.1", http.StatusBadRequest},       // no port
		{"nothing.test:443", http.StatusForbidden}, // no route
	} {
		t.Run(tc.authority, func(t *testing.T) {
			_, _, res := sendConnect(t, p.Listener.Addr().String(), tc.authority)
			if body := readBody(t, res); res.StatusCode != tc.want {
				t.Errorf("got %d %q, want %d", res.StatusCode, body, tc.want)
			}
		})
	}
	if n := len(backend.Received()); n != 0 {
		t.Errorf("backend got %d requests, want 0", n)
	}
}

// silentUpstream listens on loopback and holds every connection open without a byte, until the
// test ends.
func silentUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return ln.Addr().String()
}

func TestForwardTunnelIdleAndLimit(t *testing.T) {
	upstream := silentUpstream(t)
	guard := proxytest.NewGuard(t, testResolver(), "127.0.0.0/8")
	p := proxytest.New(t, `tun: Method("CONNECT") -> <dynamic>`, proxytest.Options{Forward: proxy.ForwardOptions{
		Guard:   guard.Guard,
		Tunnels: forward.TunnelOptions{Max: 1, IdleTimeout: 200 * time.Millisecond},
	}})
	conn, br, res := sendConnect(t, p.Listener.Addr().String(), upstream)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("first CONNECT: got %d, want 200", res.StatusCode)
	}

	_, _, res2 := sendConnect(t, p.Listener.Addr().String(), upstream)
	if body := readBody(t, res2); res2.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second CONNECT over the limit: got %d %q, want 503", res2.StatusCode, body)
	}

	// The idle tunnel is closed by the proxy: the read ends with EOF, not with the deadline.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("reading the idle tunnel: got %v, want EOF", err)
	}
	// Its slot is free again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, res3 := sendConnect(t, p.Listener.Addr().String(), upstream)
		if res3.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CONNECT after the idle tunnel closed: got %d, want 200", res3.StatusCode)
		}
		time.Sleep(10 * time.Millisecond) // polling for the release, with a deadline
	}
}

func TestForwardInterceptInjects(t *testing.T) {
	tok := writeSecret(t, t.TempDir(), "token", canary+"-mitm")
	backend := httptest.NewUnstartedServer(nil)
	seen := make(chan http.Header, 1)
	backend.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		io.WriteString(w, "inner-ok")
	})
	backend.StartTLS()
	t.Cleanup(backend.Close)
	roots := x509.NewCertPool()
	roots.AddCert(backend.Certificate())
	ca, caPool := newCA(t)
	guard := proxytest.NewGuard(t, testResolver())
	routes := fmt.Sprintf(`
		icpt: Method("CONNECT") && Host(/^a[.]test:443$/) -> <loopback>;
		api: Host(/^a[.]test(:443)?$/) -> bearerinjector(%q) -> "%s";`, tok, backend.URL)
	p := proxytest.New(t, routes, proxytest.Options{
		CredentialsPaths: []string{tok},
		Transport:        proxy.TransportOptions{RootCAs: roots},
		Forward:          proxy.ForwardOptions{Guard: guard.Guard, CA: ca},
	})
	client := proxytest.ForwardClient(t, p.URL, caPool)

	res, err := client.Get("https://a.test/inner")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, res); res.StatusCode != http.StatusOK || body != "inner-ok" {
		t.Fatalf("got %d %q, want 200 inner-ok", res.StatusCode, body)
	}
	if got, want := (<-seen).Get("Authorization"), "Bearer "+canary+"-mitm"; got != want {
		t.Errorf("backend got Authorization %q, want the injected token", got)
	}
	if n := guard.Dials(); n != 0 {
		t.Errorf("guard dialed %d times, want 0: the route's backend is not client-chosen", n)
	}

	t.Run("misdirected", func(t *testing.T) {
		conn, br, res := sendConnect(t, p.Listener.Addr().String(), "a.test:443")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("CONNECT: got %d, want 200", res.StatusCode)
		}
		tc := tls.Client(&bufConn{Conn: conn, r: br}, &tls.Config{ServerName: "a.test", RootCAs: caPool})
		fmt.Fprintf(tc, "GET /inner HTTP/1.1\r\nHost: b.test\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(tc), nil)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, res); res.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("got %d %q, want 421", res.StatusCode, body)
		}
		if len(seen) != 0 {
			t.Error("the misdirected request reached the backend")
		}
	})
	checkNoCanary(t, p)
}

// TestForwardInterceptKeepsTLSState: requests decrypted from an intercepted tunnel count as
// having come over TLS (X-Forwarded-Proto auto says https), although the inner server reads them
// through the framing guard.
func TestForwardInterceptKeepsTLSState(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	ca, caPool := newCA(t)
	routes := fmt.Sprintf(`
		icpt: Method("CONNECT") && Host(/^a[.]test:443$/) -> <loopback>;
		api: Host(/^a[.]test(:443)?$/) -> "http://%s";`, backend.Addr())
	p := proxytest.New(t, routes, proxytest.Options{
		Forward:          proxy.ForwardOptions{Guard: proxytest.NewGuard(t, testResolver()).Guard, CA: ca},
		ForwardedHeaders: proxy.ForwardedHeaders{Proto: proxy.ForwardedAuto},
	})
	res, err := proxytest.ForwardClient(t, p.URL, caPool).Get("https://a.test/inner")
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, res); res.StatusCode != http.StatusOK {
		t.Fatalf("got %d %q, want 200", res.StatusCode, body)
	}
	if got := backend.Last(t).Header.Get("X-Forwarded-Proto"); got != "https" {
		t.Errorf("backend got X-Forwarded-Proto %q, want https", got)
	}
}

// TestForwardInterceptWebSocket opens a WebSocket inside an intercepted tunnel: the upgrade gets
// the route's token and messages echo until the client closes. The tunnel used to be closed as
// soon as the proxy took the connection over for the WebSocket.
func TestForwardInterceptWebSocket(t *testing.T) {
	tok := writeSecret(t, t.TempDir(), "token", canary+"-ws")
	backend := proxytest.NewBackend(t, wsEcho)
	ca, caPool := newCA(t)
	routes := fmt.Sprintf(`
		icpt: Method("CONNECT") && Host(/^a[.]test:443$/) -> <loopback>;
		api: Host(/^a[.]test(:443)?$/) -> bearerinjector(%q) -> "http://%s";`, tok, backend.Addr())
	p := proxytest.New(t, routes, proxytest.Options{
		CredentialsPaths: []string{tok},
		Forward:          proxy.ForwardOptions{Guard: proxytest.NewGuard(t, testResolver()).Guard, CA: ca},
	})
	conn, br, res := sendConnect(t, p.Listener.Addr().String(), "a.test:443")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: got %d, want 200", res.StatusCode)
	}
	tc := tls.Client(&bufConn{Conn: conn, r: br}, &tls.Config{ServerName: "a.test", RootCAs: caPool})
	key := "MDEyMzQ1Njc4OWFiY2RlZg=="
	fmt.Fprintf(tc, "GET /chat HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n", key)
	tbr := bufio.NewReader(tc)
	res, err := http.ReadResponse(tbr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		t.Fatalf("got %d %v, want 101 with the accept key", res.StatusCode, res.Header)
	}
	if got := backend.Last(t).Header.Get("Authorization"); got != "Bearer "+canary+"-ws" {
		t.Errorf("backend got Authorization %q, want the injected token", got)
	}
	for _, msg := range []string{"hello", strings.Repeat("x", 70000)} {
		if err := wsWrite(tc, 1, []byte(msg), true); err != nil {
			t.Fatal(err)
		}
		if op, echo, err := wsRead(tbr); err != nil || op != 1 || string(echo) != msg {
			t.Fatalf("got opcode %d, %d bytes, %v; want the %d-byte message back", op, len(echo), err, len(msg))
		}
	}
	wsWrite(tc, 8, nil, true)
	if op, _, err := wsRead(tbr); err != nil || op != 8 {
		t.Errorf("got opcode %d, %v after close, want the close frame back", op, err)
	}
	checkNoCanary(t, p)
}

// bufConn reads through r, which holds what was read from Conn ahead.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestForwardProxyAuth(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	guard := proxytest.NewGuard(t, testResolver())
	p := proxytest.New(t, fmt.Sprintf(`Host(/^a[.]test$/) -> "http://%s"`, backend.Addr()),
		proxytest.Options{Forward: proxy.ForwardOptions{
			Guard:     guard.Guard,
			ProxyAuth: func() ([]byte, error) { return []byte("user:" + canary), nil },
		}})
	for _, tc := range []struct {
		name, userinfo string
		want           int
	}{
		{"none", "", http.StatusProxyAuthRequired},
		{"wrong password", "user:nope@", http.StatusProxyAuthRequired},
		{"wrong user", "other:" + canary + "@", http.StatusProxyAuthRequired},
		{"right", "user:" + canary + "@", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := proxytest.ForwardClient(t, "http://"+tc.userinfo+p.Listener.Addr().String(), nil)
			res, err := client.Get("http://a.test/")
			if err != nil {
				t.Fatal(err)
			}
			if body := readBody(t, res); res.StatusCode != tc.want {
				t.Fatalf("got %d %q, want %d", res.StatusCode, body, tc.want)
			}
			if tc.want == http.StatusProxyAuthRequired && res.Header.Get("Proxy-Authenticate") == "" {
				t.Error("407 without a Proxy-Authenticate challenge")
			}
		})
	}
	if n := len(backend.Received()); n != 1 {
		t.Fatalf("backend got %d requests, want 1", n)
	}
	if v, ok := backend.Last(t).Header["Proxy-Authorization"]; ok {
		t.Errorf("backend got Proxy-Authorization %q, want none", v)
	}
	t.Run("connect", func(t *testing.T) {
		_, _, res := sendConnect(t, p.Listener.Addr().String(), "a.test:443")
		if body := readBody(t, res); res.StatusCode != http.StatusProxyAuthRequired {
			t.Errorf("got %d %q, want 407", res.StatusCode, body)
		}
	})
	t.Run("reverse requests are not checked", func(t *testing.T) {
		if res, body := p.Do(t, "GET", "a.test", "/"); res.StatusCode != http.StatusOK {
			t.Errorf("got %d %q, want 200", res.StatusCode, body)
		}
	})
	checkNoCanary(t, p)
}
