package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeResolver answers from a fixed table and never touches the network.
type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// loopbackOnlyDialer records every dial and fails the test instead of dialing anything outside
// 127.0.0.0/8 and ::1, so a broken guard can never send a packet off loopback.
type loopbackOnlyDialer struct {
	t     *testing.T
	mu    sync.Mutex
	dials []string
}

func (d *loopbackOnlyDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.dials = append(d.dials, addr)
	d.mu.Unlock()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		d.t.Errorf("dial of %q: want an IP:port, never a name", addr)
		return nil, errors.New("test dialer: refused")
	}
	a := ap.Addr()
	if !(a.Is4() && netip.MustParsePrefix("127.0.0.0/8").Contains(a)) && a != netip.IPv6Loopback() {
		d.t.Errorf("dial of %q: outside loopback", addr)
		return nil, errors.New("test dialer: refused")
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

func (d *loopbackOnlyDialer) dialed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.dials)
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func newTestGuard(t *testing.T, allow ...string) (*Guard, *loopbackOnlyDialer) {
	t.Helper()
	d := &loopbackOnlyDialer{t: t}
	prefixes, err := ParsePrefixes(allow)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGuard(GuardOptions{
		Resolver: fakeResolver{
			"internal.test":  addrs("10.1.2.3"),
			"localhost.test": addrs("::1", "127.0.0.1"),
			"metadata.test":  addrs("169.254.169.254"),
			"mixed.test":     addrs("10.0.0.1", "::ffff:192.168.0.1", "fd00::1"),
			"2130706433":     addrs("127.0.0.1"), // what inet_aton makes of it
			"svc.test":       addrs("127.0.0.1"),
			"fallback.test":  addrs("10.0.0.1", "127.0.0.2", "127.0.0.1"),
		},
		Dial:  d.dial,
		Allow: prefixes,
	})
	if err != nil {
		t.Fatal(err)
	}
	return g, d
}

func TestGuardRefusesInternalDestinations(t *testing.T) {
	for _, tc := range []struct {
		hostport, reason string
	}{
		{"127.0.0.1:80", "loopback"},
		{"127.1.2.3:443", "loopback"},
		{"10.0.0.1:80", "private"},
		{"172.16.0.1:80", "private"},
		{"192.168.1.1:80", "private"},
		{"169.254.169.254:80", "cloud metadata"},
		{"169.254.1.1:80", "link-local"},
		{"168.63.129.16:80", "cloud metadata"},
		{"[::1]:80", "loopback"},
		{"[::ffff:10.0.0.1]:80", "private"},
		{"[::ffff:127.0.0.1]:80", "loopback"},
		{"[::ffff:169.254.169.254]:80", "cloud metadata"},
		{"0.0.0.0:80", "this network"},
		{"0.1.2.3:80", "this network"},
		{"[::]:80", "unspecified"},
		{"100.64.0.1:80", "carrier-grade NAT"},
		{"100.100.100.200:80", "carrier-grade NAT"},
		{"[fd00:ec2::254]:80", "cloud metadata"},
		{"[fc00::1]:80", "unique local"},
		{"[fe80::1]:80", "link-local"},
		{"[fe80::1%eth0]:80", "link-local"},
		{"[ff02::1]:80", "multicast"},
		{"224.0.0.1:80", "multicast"},
		{"255.255.255.255:80", "broadcast"},
		{"[::127.0.0.1]:80", "IPv4-compatible"},
		{"[64:ff9b::a00:1]:80", "NAT64 form of a refused address: private"},
		{"[64:ff9b::a9fe:a9fe]:80", "NAT64 form of a refused address: cloud metadata"},
		{"[2002:7f00:1::1]:80", "6to4 form of a refused address: loopback"},
		{"[2001::1]:80", "Teredo"},
		{"internal.test:443", "private"},
		{"localhost.test:80", "loopback"},
		{"metadata.test:80", "cloud metadata"},
		{"mixed.test:80", "private"},
		{"2130706433:80", "loopback"},
	} {
		t.Run(tc.hostport, func(t *testing.T) {
			g, d := newTestGuard(t)
			c, err := g.DialContext(context.Background(), "tcp", tc.hostport)
			if c != nil {
				c.Close()
			}
			var de *DeniedError
			if !errors.As(fmt.Errorf("wrapped: %w", err), &de) {
				t.Fatalf("got error %v, want a *DeniedError", err)
			}
			if !strings.Contains(de.Reason, tc.reason) {
				t.Errorf("got reason %q, want it to contain %q", de.Reason, tc.reason)
			}
			if host, _, _ := net.SplitHostPort(tc.hostport); de.Host != host {
				t.Errorf("got host %q, want %q", de.Host, host)
			}
			if got := d.dialed(); len(got) != 0 {
				t.Errorf("got dials %v, want none", got)
			}
		})
	}
}

func TestGuardAllowListOpensLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	for _, tc := range []struct {
		name, host string
		wantDials  []string
	}{
		{"literal", "127.0.0.1", []string{"127.0.0.1"}},
		{"mapped literal", "::ffff:127.0.0.1", []string{"127.0.0.1"}},
		{"name", "svc.test", []string{"127.0.0.1"}},
		{"refused and failing addresses skipped in order", "fallback.test", []string{"127.0.0.2", "127.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, d := newTestGuard(t, "127.0.0.0/8", "::1")
			c, err := g.DialContext(context.Background(), "tcp", net.JoinHostPort(tc.host, fmt.Sprint(port)))
			if err != nil {
				t.Fatalf("got error %v, want a connection", err)
			}
			defer c.Close()
			if _, err := c.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
				t.Errorf("got echo %q (%v), want %q", buf, err, "ping")
			}
			var want []string
			for _, h := range tc.wantDials {
				want = append(want, net.JoinHostPort(h, fmt.Sprint(port)))
			}
			if got := d.dialed(); !slices.Equal(got, want) {
				t.Errorf("got dials %v, want %v", got, want)
			}
		})
	}
}

func TestGuardDialsExactlyTheCheckedAddress(t *testing.T) {
	var dials []string
	g, err := NewGuard(GuardOptions{
		Resolver: fakeResolver{"api.example.test": addrs("192.168.0.7", "8.8.8.8", "2606:4700::1111")},
		Dial: func(_ context.Context, network, addr string) (net.Conn, error) {
			dials = append(dials, network+" "+addr)
			return nil, errors.New("test dialer: not dialing")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		network string
		want    []string
	}{
		{"tcp", []string{"tcp 8.8.8.8:443", "tcp [2606:4700::1111]:443"}},
		{"tcp4", []string{"tcp4 8.8.8.8:443"}},
		{"tcp6", []string{"tcp6 [2606:4700::1111]:443"}},
	} {
		t.Run(tc.network, func(t *testing.T) {
			dials = nil
			_, err := g.DialContext(context.Background(), tc.network, "api.example.test:443")
			if err == nil {
				t.Fatal("got no error, want the test dialer's")
			}
			if !slices.Equal(dials, tc.want) {
				t.Errorf("got dials %v, want %v", dials, tc.want)
			}
		})
	}
}

func TestGuardRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, network, hostport string
		want                    error
	}{
		{"no port", "tcp", "example.test", ErrInvalidAddress},
		{"port zero", "tcp", "example.test:0", ErrInvalidAddress},
		{"named port", "tcp", "example.test:https", ErrInvalidAddress},
		{"port too big", "tcp", "example.test:65536", ErrInvalidAddress},
		{"empty host", "tcp", ":80", ErrInvalidAddress},
		{"udp", "udp", "127.0.0.1:53", ErrInvalidAddress},
		{"unknown name", "tcp", "nowhere.test:80", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, d := newTestGuard(t, "127.0.0.0/8")
			_, err := g.DialContext(context.Background(), tc.network, tc.hostport)
			if err == nil {
				t.Fatal("got no error, want one")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if errors.As(err, new(*DeniedError)) {
				t.Errorf("got %v, want an error other than a denial", err)
			}
			if got := d.dialed(); len(got) != 0 {
				t.Errorf("got dials %v, want none", got)
			}
		})
	}
}

func TestGuardCheckWithAllowList(t *testing.T) {
	prefixes, err := ParsePrefixes([]string{"10.1.0.0/16", "::ffff:192.168.0.0/112", "fd00:ec2::254"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGuard(GuardOptions{Allow: prefixes})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"64:ff9b::a01:203", true}, // NAT64 of 10.1.2.3
		{"10.2.0.1", false},
		{"192.168.5.5", true},
		{"192.169.0.1", true},
		{"fd00:ec2::254", true},
		{"fd00:ec2::253", false},
		{"127.0.0.1", false},
		{"8.8.8.8", true},
		{"2606:4700::1111", true},
		{"64:ff9b::808:808", true},
		{"2002:808:808::1", true},
		{"::ffff:8.8.8.8", true},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			reason, ok := g.Check(netip.MustParseAddr(tc.addr))
			if ok != tc.ok {
				t.Errorf("got ok %v (reason %q), want %v", ok, reason, tc.ok)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{"cidrs", []string{"10.1.0.0/16", "::1/128"}, []string{"10.1.0.0/16", "::1/128"}, ""},
		{"single addresses", []string{"127.0.0.1", "::1"}, []string{"127.0.0.1/32", "::1/128"}, ""},
		{"masked", []string{"10.1.2.3/8"}, []string{"10.0.0.0/8"}, ""},
		{"mapped", []string{"::ffff:127.0.0.0/104"}, []string{"127.0.0.0/8"}, ""},
		{"every bad entry", []string{"nope", "10.0.0.0/8", "1.2.3.4/33"}, nil, `"nope"`},
		{"zone", []string{"fe80::1%eth0"}, nil, "fe80::1%eth0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrefixes(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one mentioning %s", err, tc.wantErr)
				}
				if tc.name == "every bad entry" && !strings.Contains(err.Error(), "1.2.3.4/33") {
					t.Errorf("got error %v, want it to name every bad entry", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var gotS []string
			for _, p := range got {
				gotS = append(gotS, p.String())
			}
			if !slices.Equal(gotS, tc.want) {
				t.Errorf("got %v, want %v", gotS, tc.want)
			}
		})
	}
}

func TestNewGuardRejectsInvalidPrefix(t *testing.T) {
	if _, err := NewGuard(GuardOptions{Allow: []netip.Prefix{{}}}); err == nil {
		t.Error("got no error for a zero prefix, want one")
	}
}

func TestDeniedErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  *DeniedError
		want string
	}{
		{&DeniedError{Host: "internal.test", Addr: netip.MustParseAddr("10.0.0.1"), Reason: "private"}, `destination "internal.test" (10.0.0.1) refused: private`},
		{&DeniedError{Host: "10.0.0.1", Addr: netip.MustParseAddr("10.0.0.1"), Reason: "private"}, `destination 10.0.0.1 refused: private`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestDeniedErrorPublic: what the client is told names its own host and the reason, never the
// address a name resolved to.
func TestDeniedErrorPublic(t *testing.T) {
	for _, tc := range []struct {
		err  *DeniedError
		want string
	}{
		{&DeniedError{Host: "internal.test", Addr: netip.MustParseAddr("10.0.0.1"), Reason: "private"}, `destination "internal.test" refused: private`},
		{&DeniedError{Host: "10.0.0.1", Addr: netip.MustParseAddr("10.0.0.1"), Reason: "private"}, `destination 10.0.0.1 refused: private`},
		{&DeniedError{Host: "::ffff:10.0.0.1", Addr: netip.MustParseAddr("10.0.0.1"), Reason: "private"}, `destination ::ffff:10.0.0.1 refused: private`},
		{&DeniedError{Addr: netip.MustParseAddr("10.0.0.1"), Reason: "private"}, `destination refused: private`},
	} {
		if got := tc.err.Public(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestGuardWithAllow(t *testing.T) {
	g, err := NewGuard(GuardOptions{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}})
	if err != nil {
		t.Fatal(err)
	}
	route, err := g.WithAllow([]netip.Prefix{netip.MustParsePrefix("::ffff:192.168.1.0/120")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		g          *Guard
		addr       string
		want       bool
		guardLabel string
	}{
		{g, "10.1.0.1", true, "base"},
		{g, "192.168.1.1", false, "base"},
		{route, "10.1.0.1", true, "route"},
		{route, "192.168.1.1", true, "route"},
		{route, "192.168.2.1", false, "route"},
	} {
		if _, ok := tc.g.Check(netip.MustParseAddr(tc.addr)); ok != tc.want {
			t.Errorf("%s guard, %s: got ok %v, want %v", tc.guardLabel, tc.addr, ok, tc.want)
		}
	}
	if _, err := g.WithAllow([]netip.Prefix{{}}); err == nil {
		t.Error("got no error for a zero prefix, want one")
	}
}
