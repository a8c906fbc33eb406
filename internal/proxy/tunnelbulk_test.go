package proxy_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// echoUpstream listens on loopback and sends back whatever each connection sends, half-closing
// when the client does, until the test ends.
func echoUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestForwardBlindTunnelEarlyBytesAndBulk: a client that sends its first tunnel bytes in the
// same write as the CONNECT head and then megabytes each way gets every byte through, in
// order, over a plain and a TLS listener.
func TestForwardBlindTunnelEarlyBytesAndBulk(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			upstream := echoUpstream(t)
			guard := proxytest.NewGuard(t, testResolver(), "127.0.0.0/8")
			p := proxytest.New(t, `tun: Method("CONNECT") -> <dynamic>`, proxytest.Options{
				TLS:     useTLS,
				Forward: proxy.ForwardOptions{Guard: guard.Guard},
			})
			var conn net.Conn
			var err error
			if useTLS {
				conf := p.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
				conf.NextProtos = []string{"http/1.1"}
				conn, err = tls.Dial("tcp", p.Listener.Addr().String(), conf)
			} else {
				conn, err = net.Dial("tcp", p.Listener.Addr().String())
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(20 * time.Second))

			const early = "client-hello-in-the-same-write"
			if _, err := fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %[1]s\r\n\r\n%s", upstream, early); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("CONNECT: got %v, %v; want 200", res, err)
			}
			payload := make([]byte, 3<<20)
			rand.NewChaCha8([32]byte{1}).Read(payload)
			sent := make(chan error, 1)
			go func() {
				_, err := conn.Write(payload)
				if err == nil {
					err = conn.(interface{ CloseWrite() error }).CloseWrite()
				}
				sent <- err
			}()
			got, err := io.ReadAll(br)
			if err := <-sent; err != nil {
				t.Fatalf("sending: %v", err)
			}
			if want := append([]byte(early), payload...); err != nil || !bytes.Equal(got, want) {
				t.Errorf("the echo carried %d bytes (%v), want the %d sent, in order", len(got), err, len(want))
			}
		})
	}
}
