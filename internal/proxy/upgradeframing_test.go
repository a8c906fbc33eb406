package proxy_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// rigModes are the ways a client's HTTP/1.1 requests reach the proxy: a plain connection, the
// proxy's own TLS, and a CONNECT tunnel that the proxy intercepts.
var rigModes = []string{"http", "https", "intercepted"}

// framingRig is a proxy whose route injects a bearer token, a backend that records every request
// that reaches it, and a way to open connections that carry HTTP/1.1 requests to the proxy.
// Requests should name Host a.test, the intercepted tunnel's destination.
type framingRig struct {
	p       *proxytest.Proxy
	backend *proxytest.Backend
	dial    func(t *testing.T) net.Conn
}

// newFramingRig starts a rig whose connections are of the given mode (one of rigModes) and whose
// backend answers with answer (nil: 200 "ok").
func newFramingRig(t *testing.T, mode string, answer http.HandlerFunc) *framingRig {
	t.Helper()
	tok := writeSecret(t, t.TempDir(), "token", canary+"-framing")
	backend := proxytest.NewBackend(t, answer)
	ca, caPool := newCA(t)
	routes := fmt.Sprintf(`
		icpt: Method("CONNECT") && Host(/^a[.]test:443$/) -> <loopback>;
		api: * -> bearerinjector(%q) -> "http://%s";`, tok, backend.Addr())
	p := proxytest.New(t, routes, proxytest.Options{
		TLS:              mode == "https",
		CredentialsPaths: []string{tok},
		Forward:          proxy.ForwardOptions{Guard: proxytest.NewGuard(t, testResolver()).Guard, CA: ca},
	})
	rig := &framingRig{p: p, backend: backend}
	switch mode {
	case "http", "https":
		rig.dial = func(t *testing.T) net.Conn { return dialRaw(t, p) }
	case "intercepted":
		rig.dial = func(t *testing.T) net.Conn {
			t.Helper()
			conn, br, res := sendConnect(t, p.Listener.Addr().String(), "a.test:443")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("CONNECT: got %d, want 200", res.StatusCode)
			}
			tc := tls.Client(&bufConn{Conn: conn, r: br}, &tls.Config{ServerName: "a.test", RootCAs: caPool})
			if err := tc.Handshake(); err != nil {
				t.Fatalf("TLS handshake in the tunnel: %v", err)
			}
			return tc
		}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	return rig
}

// wantReceived checks that the backend received exactly the requests for paths, each with the
// route's credential.
func (rig *framingRig) wantReceived(t *testing.T, paths ...string) {
	t.Helper()
	got := rig.backend.Received()
	var uris []string
	for _, r := range got {
		uris = append(uris, r.RequestURI)
	}
	if strings.Join(uris, " ") != strings.Join(paths, " ") {
		t.Errorf("backend received %q, want %q", uris, paths)
	}
	for _, r := range got {
		if a := r.Header.Get("Authorization"); a != "Bearer "+canary+"-framing" {
			t.Errorf("backend got %s with Authorization %q, want the injected token", r.RequestURI, a)
		}
	}
	checkNoCanary(t, rig.p)
}

// smuggledAfter is what a client pipelines after an upgrade attempt in the tests below: a POST
// with both Content-Length and Transfer-Encoding whose body hides a request, and an obs-fold
// request. Neither may ever reach the backend.
func smuggledAfter() string {
	hidden := "0\r\n\r\nGET /hidden HTTP/1.1\r\nHost: a.test\r\n\r\n"
	return fmt.Sprintf("POST /smuggled HTTP/1.1\r\nHost: a.test\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%s",
		len(hidden), hidden) +
		"GET /folded HTTP/1.1\r\nHost: a.test\r\nX-A: 1\r\n 2\r\n\r\n"
}

// TestUpgradeAttemptKeepsFramingChecked sends upgrade requests that the backend does not switch,
// each followed on the same keep-alive connection by smuggling attempts. The upgrade request
// reaches the backend with the route's credential and the protocol it asks for, if it asks for
// exactly one; nothing after it ever does, and the connection is closed after the answer. Before
// the fix an empty first Upgrade field, with websocket in a second one, made the guard stop
// checking while the proxy, which read only the first, kept the connection open: the smuggled
// requests reached the backend with the credential.
func TestUpgradeAttemptKeepsFramingChecked(t *testing.T) {
	cases := []struct {
		name, head  string
		wantUpgrade string // the Upgrade the backend sees
	}{
		{"empty first upgrade", "GET /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade:\r\nUpgrade: websocket\r\n\r\n", "websocket"},
		{"whitespace-only upgrade", "GET /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade:  \t \r\n\r\n", ""},
		{"two different upgrades", "GET /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n\r\n", ""},
		{"upgrade list", "GET /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: , websocket, h2c\r\n\r\n", ""},
		{"lower-case connection, h2c", "GET /up HTTP/1.1\r\nHost: a.test\r\nconnection: upgrade, http2-settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQAAP__\r\n\r\n", "h2c"},
		{"connection upgrade without upgrade", "GET /up HTTP/1.1\r\nHost: a.test\r\nConnection: upgrade\r\n\r\n", ""},
		{"upgrade with a body", "POST /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello", "websocket"},
		{"upgrade with a chunked body", "POST /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "websocket"},
	}
	for _, mode := range rigModes {
		t.Run(mode, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					rig := newFramingRig(t, mode, nil)
					conn := rig.dial(t)
					io.WriteString(conn, tc.head+smuggledAfter())
					br := bufio.NewReader(conn)
					res, err := http.ReadResponse(br, nil)
					if err != nil {
						t.Fatalf("reading the answer: %v", err)
					}
					body, _ := io.ReadAll(res.Body)
					if res.StatusCode != http.StatusOK || string(body) != "ok" {
						t.Errorf("got %d %q, want the backend's 200 ok", res.StatusCode, body)
					}
					if _, err := br.ReadByte(); err != io.EOF {
						t.Errorf("got %v after the answer, want EOF: the connection must not carry another request", err)
					}
					rig.wantReceived(t, "/up")
					if got := rig.backend.Received(); len(got) > 0 && got[0].Header.Get("Upgrade") != tc.wantUpgrade {
						t.Errorf("backend saw Upgrade %q, want %q", got[0].Header.Get("Upgrade"), tc.wantUpgrade)
					}
				})
			}
		})
	}
}

// switchTo returns a backend answer that switches protocols to proto (101 with that Upgrade),
// then echoes back the first n bytes the client sends in the tunnel.
func switchTo(proto string, n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", proto)
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, n)
		if _, err := io.ReadFull(brw, buf); err == nil {
			conn.Write(buf)
		}
	}
}

// TestUpgradeAnswers: only a 101 that switches to the protocol asked for opens a tunnel. A 101
// to another protocol or to a request that asked for none is answered 502; the checks go on
// after the one that did not ask, and the connection is closed after the one that did. When the
// backend does switch, what the client sent ahead of the 101 reaches it unchanged, even if it
// looks like a refused request: the guard held it back, it did not check it as HTTP.
func TestUpgradeAnswers(t *testing.T) {
	const wsHead = "GET /up HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
	for _, mode := range rigModes {
		t.Run(mode, func(t *testing.T) {
			t.Run("another protocol", func(t *testing.T) {
				rig := newFramingRig(t, mode, switchTo("h2c", 1))
				conn := rig.dial(t)
				io.WriteString(conn, wsHead+smuggledAfter())
				br := bufio.NewReader(conn)
				wantStatuses(t, br, http.StatusBadGateway)
				rig.wantReceived(t, "/up")
			})
			t.Run("not asked", func(t *testing.T) {
				rig := newFramingRig(t, mode, switchTo("websocket", 1))
				conn := rig.dial(t)
				io.WriteString(conn, "GET /plain HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\n\r\n"+smuggledAfter())
				br := bufio.NewReader(conn)
				wantStatuses(t, br, http.StatusBadGateway, http.StatusBadRequest)
				rig.wantReceived(t, "/plain")
			})
			t.Run("switched", func(t *testing.T) {
				early := smuggledAfter()
				rig := newFramingRig(t, mode, switchTo("websocket", len(early)))
				conn := rig.dial(t)
				io.WriteString(conn, wsHead+early)
				br := bufio.NewReader(conn)
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("got %d, want 101", res.StatusCode)
				}
				echo, err := io.ReadAll(br)
				if string(echo) != early {
					t.Errorf("the tunnel carried back %q (%v), want the bytes sent ahead of the 101:\n%q", echo, err, early)
				}
				rig.wantReceived(t, "/up")
			})
		})
	}
}

// wantStatuses reads one answer per status from br, checks their statuses, and then that the
// connection is closed.
func wantStatuses(t *testing.T, br *bufio.Reader, statuses ...int) {
	t.Helper()
	for _, want := range statuses {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("reading the answer: %v", err)
		}
		io.Copy(io.Discard, res.Body)
		if res.StatusCode != want {
			t.Errorf("got %d, want %d", res.StatusCode, want)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("got %v after %d answers, want EOF", err, len(statuses))
	}
}
