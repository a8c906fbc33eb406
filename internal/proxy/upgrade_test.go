package proxy_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/forward"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// switchingBackend is a backend that answers every request with 101 Switching Protocols to the
// protocol the request names and then hands the raw connection, with what it buffered, to
// serve, which runs in the backend's handler. Each switched connection is announced on the
// returned channel once serve returns, with the error serve returned.
func switchingBackend(t *testing.T, serve func(conn net.Conn, br *bufio.Reader) error) (*proxytest.Backend, <-chan error) {
	t.Helper()
	done := make(chan error, 16)
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", r.Header.Get("Upgrade"))
		done <- serve(conn, brw.Reader)
	})
	return backend, done
}

// upgradeThrough sends an upgrade request for proto on a new connection to p and returns the
// connection, a reader for what follows the answer, and the answer.
func upgradeThrough(t *testing.T, p *proxytest.Proxy, proto string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn := dialRaw(t, p)
	fmt.Fprintf(conn, "GET /tunnel HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", proto)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer to the upgrade: %v\n%s", err, p.Log())
	}
	return conn, br, res
}

// waitBackend waits for the backend's side of a tunnel to end and returns serve's error.
func waitBackend(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the backend's side of the tunnel did not end within 10s")
		return nil
	}
}

// TestUpgradeTunnelIdleTimeout: a tunnel that a backend opened with 101 and in which no byte
// moves is closed after the tunnel idle timeout, on both sides.
func TestUpgradeTunnelIdleTimeout(t *testing.T) {
	const idle = 100 * time.Millisecond
	backend, done := switchingBackend(t, func(conn net.Conn, br *bufio.Reader) error {
		_, err := br.ReadByte() // the client sends nothing: this ends when the proxy closes
		return err
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{
		Forward: proxy.ForwardOptions{Tunnels: forward.TunnelOptions{IdleTimeout: idle}},
	})
	// The tunnel's idle clock starts before the 101 reaches the client, so measure from
	// before the request: the client must not see the close sooner than idle after it.
	sent := time.Now()
	conn, br, res := upgradeThrough(t, p, "websocket")
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("got %d, want 101", res.StatusCode)
	}
	// dialRaw's 10 s deadline bounds the wait: without an idle timeout the read times out.
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("client read %v, want EOF when the idle tunnel is closed", err)
	}
	if waited := time.Since(sent); waited < idle {
		t.Errorf("closed after %s, before the idle timeout of %s", waited, idle)
	}
	if err := waitBackend(t, done); err != io.EOF {
		t.Errorf("backend read %v, want EOF", err)
	}
	conn.Close()
}

// TestUpgradeTunnelHalfClose: a client that finishes sending half-closes its connection; the
// backend sees EOF after the client's bytes and can still answer, and its answer reaches the
// client before the tunnel closes. Over plain HTTP the half-close is TCP's, over HTTPS TLS's
// close_notify.
func TestUpgradeTunnelHalfClose(t *testing.T) {
	for _, mode := range []string{"http", "https"} {
		t.Run(mode, func(t *testing.T) {
			backend, done := switchingBackend(t, func(conn net.Conn, br *bufio.Reader) error {
				got, err := io.ReadAll(br) // up to the client's half-close
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(conn, "got %q", got)
				return err
			})
			var up, down atomic.Int64
			p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{
				TLS: mode == "https",
				Forward: proxy.ForwardOptions{Tunnels: forward.TunnelOptions{
					IdleTimeout: time.Minute,
					OnBytes:     func(u, d int64) { up.Add(u); down.Add(d) },
				}},
			})
			conn, br, res := upgradeThrough(t, p, "echo")
			if res.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("got %d, want 101", res.StatusCode)
			}
			io.WriteString(conn, "hello")
			if err := conn.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(br)
			if want := `got "hello"`; err != nil || string(got) != want {
				t.Fatalf("client read %q, %v; want %q and EOF: the backend's answer after the half-close was lost", got, err, want)
			}
			if err := waitBackend(t, done); err != nil {
				t.Errorf("backend: %v", err)
			}
			// The tunnel's bytes count in the metric of tunnel bytes (skipper_tunnel_bytes_total).
			poll.Until(t, 5*time.Second, "tunnel bytes counted", func() bool {
				return up.Load() == int64(len("hello")) && down.Load() == int64(len(`got "hello"`))
			})
		})
	}
}

// TestUpgradeTunnelLimit: upgrades share -max-tunnels with CONNECT tunnels. At the limit an
// upgrade request is answered 503 without reaching the backend, and the connection is closed;
// once a tunnel closes, its slot serves the next upgrade.
func TestUpgradeTunnelLimit(t *testing.T) {
	backend, done := switchingBackend(t, func(conn net.Conn, br *bufio.Reader) error {
		_, err := io.Copy(conn, br) // echo until the client closes
		return err
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{
		Forward: proxy.ForwardOptions{Tunnels: forward.TunnelOptions{Max: 1}},
	})
	first, firstBr, res := upgradeThrough(t, p, "websocket")
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("first upgrade: got %d, want 101", res.StatusCode)
	}
	io.WriteString(first, "ping")
	if got := make([]byte, 4); readFull(firstBr, got) != nil || string(got) != "ping" {
		t.Fatalf("first tunnel: echo %q, want ping", got)
	}

	conn, br, res := upgradeThrough(t, p, "websocket")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("upgrade beyond the limit: got %d %q, want 503", res.StatusCode, body)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the 503: read %v, want EOF", err)
	}
	conn.Close()
	if n := len(backend.Received()); n != 1 {
		t.Errorf("backend received %d upgrade requests, want 1: the refused one must not reach it", n)
	}
	if !strings.Contains(p.Log(), `"GET /tunnel HTTP/1.1" 503`) {
		t.Errorf("no access log line of the refused upgrade:\n%s", p.Log())
	}

	first.Close()
	if err := waitBackend(t, done); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Logf("first tunnel's backend ended with %v", err)
	}
	// The slot is given back once the first tunnel has closed both sides.
	poll.Until(t, 5*time.Second, "a new upgrade after the first tunnel closed", func() bool {
		conn, _, res := upgradeThrough(t, p, "websocket")
		defer conn.Close()
		return res.StatusCode == http.StatusSwitchingProtocols
	})
}

func readFull(r io.Reader, b []byte) error {
	_, err := io.ReadFull(r, b)
	return err
}
