package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/connlimit"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestIdleClientsDoNotExhaustDescriptors: with an open file limit of 256, more keep-alive
// clients than that leave their connections open after a request each. Every one of them, and
// a new client after them, is served: the default connection limit, derived from the file
// limit, closes the longest idle connections to make room, and descriptors remain for the
// backend. Without a limit, accept failed with "too many open files" and clients waited.
func TestIdleClientsDoNotExhaustDescriptors(t *testing.T) {
	const nofile, clients = 256, 300
	backend := proxytest.NewBackend(t, nil)
	p := startUnder(t, []string{"sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0" "$@"`, nofile)},
		fmt.Sprintf(`-inline-routes=* -> "http://%s"`, backend.Addr()))
	limit := connlimit.DefaultConcurrency(nofile)
	if want := fmt.Sprintf("Client connections: %d served at once, %d more wait up to 1m0s", limit, connlimit.DefaultQueue(limit)); !strings.Contains(p.Log(), want) {
		t.Errorf("log does not say %q:\n%s", want, p.Log())
	}

	get := func(i int) net.Conn {
		conn, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "GET /%d HTTP/1.1\r\nHost: test\r\n\r\n", i)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("client %d of %d (with %d descriptors): %v\n%s", i, clients, nofile, err, p.Log())
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || string(body) != "ok" {
			t.Fatalf("client %d: got %d %q, want 200 \"ok\"", i, res.StatusCode, body)
		}
		return conn // left open: an idle keep-alive connection
	}
	for i := range clients {
		get(i)
	}
	get(clients) // a new client after them all

	_, metrics := p.supportGet(t, "/metrics")
	if n := metricValue(metrics, `skipper_listener_closed_connections_total{reason="idle"}`); n < clients+1-float64(limit) {
		t.Errorf("got %v connections closed as idle, want at least %d", n, clients+1-limit)
	}
	if n := metricValue(metrics, "skipper_listener_active_connections"); n < 1 || n > float64(limit) {
		t.Errorf("got %v active connections, want between 1 and %d", n, limit)
	}
}

func TestListenerFlags(t *testing.T) {
	cfg, _, err := parseFlags([]string{"-max-tcp-listener-concurrency=10", "-max-tcp-listener-queue=3", "-enable-tcp-queue",
		"-read-header-timeout-server=7s"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.connLimits(1024), (connlimit.Options{MaxConcurrency: 10, MaxQueue: 3, QueueTimeout: 7 * time.Second}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}

	def, _, err := parseFlags([]string{"-read-header-timeout-server=0", "-read-timeout-server=9s"})
	if err != nil {
		t.Fatal(err)
	}
	c := connlimit.DefaultConcurrency(1024)
	if got, want := def.connLimits(1024), (connlimit.Options{MaxConcurrency: c, MaxQueue: connlimit.DefaultQueue(c), QueueTimeout: 9 * time.Second}); got != want {
		t.Errorf("defaults: got %+v, want %+v (Skipper's queue timeout falls back to -read-timeout-server)", got, want)
	}

	for _, arg := range []string{"-max-tcp-listener-concurrency=-1", "-max-tcp-listener-queue=-1"} {
		name, _, _ := strings.Cut(arg, "=")
		if _, _, err := parseFlags([]string{arg}); err == nil || !strings.Contains(err.Error(), name+" must not be negative") {
			t.Errorf("%s: got %v, want an error that it must not be negative", arg, err)
		}
	}
}
