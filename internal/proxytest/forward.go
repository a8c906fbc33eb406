package proxytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/skipper-egress/skipper/internal/forward"
)

// Resolver is a forward.Resolver that answers from a fixed table and never asks DNS.
type Resolver map[string][]netip.Addr

// LookupNetIP returns the addresses listed for host, or a not-found error.
func (r Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if addrs, ok := r[host]; ok {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// Guard is an SSRF guard for tests with its dial count. Its resolver is res, its allow list
// allow (CIDRs or addresses) and its dialer fails the test for any address off loopback, so that
// no test sends a packet elsewhere.
type Guard struct {
	*forward.Guard
	dials atomic.Int64
}

// NewGuard returns a test Guard.
func NewGuard(t testing.TB, res Resolver, allow ...string) *Guard {
	t.Helper()
	prefixes, err := forward.ParsePrefixes(allow)
	if err != nil {
		t.Fatalf("forward.ParsePrefixes: %v", err)
	}
	g := &Guard{}
	dialer := &net.Dialer{}
	g.Guard, err = forward.NewGuard(forward.GuardOptions{
		Resolver: res,
		Allow:    prefixes,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			g.dials.Add(1)
			ap, err := netip.ParseAddrPort(addr)
			if err != nil || !ap.Addr().Unmap().IsLoopback() {
				t.Errorf("guard dialed %s, want a loopback address", addr)
				return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError("off loopback")}
			}
			return dialer.DialContext(ctx, network, addr)
		},
	})
	if err != nil {
		t.Fatalf("forward.NewGuard: %v", err)
	}
	return g
}

// Dials returns how many connections the guard has attempted.
func (g *Guard) Dials() int64 { return g.dials.Load() }

// ForwardClient returns a client that uses the proxy at proxyURL as its forward proxy (as
// HTTPS_PROXY and HTTP_PROXY would) and trusts roots for HTTPS destinations. It asks for no
// compression and keeps no connection between requests.
func ForwardClient(t testing.TB, proxyURL string, roots *x509.CertPool) *http.Client {
	t.Helper()
	u, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{
		Proxy:              http.ProxyURL(u),
		TLSClientConfig:    &tls.Config{RootCAs: roots},
		DisableCompression: true,
		DisableKeepAlives:  true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}
