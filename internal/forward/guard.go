// Package forward holds the pieces of the forward proxy that deal with destinations a client
// chose itself (absolute-form requests and CONNECT): a dialer that refuses internal addresses
// (an SSRF guard) and blind TCP tunnels with a limit, timeouts and byte counts.
package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"
)

// defaultDialTimeout bounds one connection attempt when GuardOptions.Dial is nil.
const defaultDialTimeout = 10 * time.Second

// ErrInvalidAddress is returned (wrapped) when a destination is not a host:port with a numeric
// port, or the network is not TCP. The proxy answers it with 400.
var ErrInvalidAddress = errors.New("invalid destination address")

// Resolver looks up the addresses of a host name. *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialFunc connects to addr on network; net.Dialer.DialContext is one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// GuardOptions configures a Guard.
type GuardOptions struct {
	// Resolver resolves host names once per dial. If nil, net.DefaultResolver is used.
	Resolver Resolver
	// Dial connects to the checked address, always given as an IP:port. If nil, a net.Dialer
	// with DialTimeout is used.
	Dial DialFunc
	// DialTimeout bounds each attempt of the default dialer. Zero means 10s. Ignored when Dial
	// is set.
	DialTimeout time.Duration
	// Allow opens address ranges that would otherwise be refused, for example 127.0.0.0/8 in
	// tests or 10.1.0.0/16 for an internal service a route may reach. IPv4-mapped IPv6 prefixes
	// are treated as the IPv4 prefixes they map. Empty means nothing is opened.
	Allow []netip.Prefix
}

// DeniedError reports a destination the guard refused without dialing it. The proxy answers it
// with 403 and the text of Public.
type DeniedError struct {
	Host   string     // the host as the client wrote it
	Addr   netip.Addr // the refused address (the first one when several were refused)
	Reason string     // why the address is refused, e.g. "loopback"
}

// Error describes the refusal for the operator's log: it names the host and the address it
// resolved to, but nothing secret. Answer clients with Public instead.
func (e *DeniedError) Error() string {
	if e.Host == "" || e.Host == e.Addr.String() {
		return fmt.Sprintf("destination %s refused: %s", e.Addr, e.Reason)
	}
	return fmt.Sprintf("destination %q (%s) refused: %s", e.Host, e.Addr, e.Reason)
}

// Public describes the refusal for the client: the host as the client wrote it and why it is
// refused, but not the address a name resolved to, which would map the inside of the network
// for anyone who can send a request.
func (e *DeniedError) Public() string {
	host := e.Host
	if host == "" {
		return "destination refused: " + e.Reason
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return fmt.Sprintf("destination %s refused: %s", host, e.Reason) // the client's own literal
	}
	return fmt.Sprintf("destination %q refused: %s", host, e.Reason)
}

// Guard dials client-chosen destinations only when every check passes: it resolves a name once,
// refuses internal addresses (listed on deniedRanges in ranges.go) unless its allow list opens them, and dials exactly an address it
// checked, never a name, so a second DNS answer cannot slip in (DNS rebinding). Its
// DialContext fits http.Transport.DialContext. A Guard is immutable and safe for concurrent use.
type Guard struct {
	resolver Resolver
	dial     DialFunc
	allow    []netip.Prefix
	deny     []deniedRange
	embed    []embeddingRange
}

// deniedRange is an address range the guard refuses, with the reason it gives.
type deniedRange struct {
	prefix netip.Prefix
	reason string
}

// embeddingRange is an IPv6 range whose addresses carry an IPv4 address that the network
// translates to; such an address is refused when the IPv4 address it carries is.
type embeddingRange struct {
	prefix  netip.Prefix
	name    string
	extract func(netip.Addr) netip.Addr
}

// NewGuard returns a Guard built from o. It fails if an Allow prefix is invalid.
func NewGuard(o GuardOptions) (*Guard, error) {
	g := &Guard{
		resolver: o.Resolver,
		dial:     o.Dial,
		deny:     deniedRanges(),
		embed:    embeddingRanges(),
	}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	if g.dial == nil {
		timeout := o.DialTimeout
		if timeout <= 0 {
			timeout = defaultDialTimeout
		}
		g.dial = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	}
	return g.WithAllow(o.Allow)
}

// WithAllow returns a Guard like g that also allows the ranges in allow, for a route with its
// own allow list. g itself is unchanged. It fails if a prefix is invalid.
func (g *Guard) WithAllow(allow []netip.Prefix) (*Guard, error) {
	ng := *g
	ng.allow = slices.Clone(g.allow)
	for _, p := range allow {
		if !p.IsValid() {
			return nil, fmt.Errorf("invalid allowed prefix %q", p)
		}
		ng.allow = append(ng.allow, normalizePrefix(p))
	}
	return &ng, nil
}

// ParsePrefixes parses CIDRs ("10.1.0.0/16", "::1/128") or single addresses ("127.0.0.1") for
// an allow-list flag. It reports every bad entry at once.
func ParsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				errs = append(errs, fmt.Errorf("parsing allowed range %q: not a CIDR or an IP address", s))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, normalizePrefix(p))
	}
	return out, errors.Join(errs...)
}

// normalizePrefix masks p and turns an IPv4-mapped IPv6 prefix into its IPv4 prefix, because
// addresses are unmapped before they are checked.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// DialContext resolves hostport's host once (IP literals skip DNS), refuses it with a
// *DeniedError if no resolved address is allowed, and otherwise dials the allowed addresses
// in the resolver's order until one connects. network must be "tcp", "tcp4" or "tcp6".
func (g *Guard) DialContext(ctx context.Context, network, hostport string) (net.Conn, error) {
	ipNetwork, err := lookupNetwork(network)
	if err != nil {
		return nil, err
	}
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	addrs, err := g.resolve(ctx, ipNetwork, host)
	if err != nil {
		return nil, err
	}
	var allowed []netip.Addr
	var denied *DeniedError
	for _, a := range addrs {
		if reason, ok := g.Check(a); !ok {
			if denied == nil {
				denied = &DeniedError{Host: host, Addr: a, Reason: reason}
			}
			continue
		}
		allowed = append(allowed, a)
	}
	if len(allowed) == 0 {
		return nil, denied
	}
	var errs []error
	for _, a := range allowed {
		c, err := g.dial(ctx, network, netip.AddrPortFrom(a, port).String())
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// lookupNetwork maps a dial network to the resolver network with the same address family.
func lookupNetwork(network string) (string, error) {
	switch network {
	case "tcp":
		return "ip", nil
	case "tcp4":
		return "ip4", nil
	case "tcp6":
		return "ip6", nil
	}
	return "", fmt.Errorf("%w: network %q is not tcp", ErrInvalidAddress, network)
}

// splitHostPort splits hostport and requires a numeric port in 1-65535: the guard dials an
// IP:port it built itself, so service names are not looked up.
func splitHostPort(hostport string) (string, uint16, error) {
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", ErrInvalidAddress, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return "", 0, fmt.Errorf("%w: bad port %q", ErrInvalidAddress, portStr)
	}
	if host == "" {
		return "", 0, fmt.Errorf("%w: empty host", ErrInvalidAddress)
	}
	return host, uint16(port), nil
}

// resolve returns the unique, unmapped addresses of host that fit ipNetwork ("ip", "ip4",
// "ip6"), asking the resolver only when host is not an IP literal.
func (g *Guard) resolve(ctx context.Context, ipNetwork, host string) ([]netip.Addr, error) {
	var found []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		found = []netip.Addr{a}
	} else {
		found, err = g.resolver.LookupNetIP(ctx, ipNetwork, host)
		if err != nil {
			return nil, fmt.Errorf("resolving %q: %w", host, err)
		}
	}
	seen := make(map[netip.Addr]bool, len(found))
	var out []netip.Addr
	for _, a := range found {
		if !a.IsValid() {
			continue
		}
		a = a.Unmap()
		if (ipNetwork == "ip4" && !a.Is4()) || (ipNetwork == "ip6" && !a.Is6()) || seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no suitable address", Name: host, IsNotFound: true}
	}
	return out, nil
}

// Check reports whether the guard lets a connection to a through, and when it does not, why.
// The allow list wins over every refusal.
func (g *Guard) Check(a netip.Addr) (reason string, ok bool) {
	// netip.Prefix.Contains never matches an address with a zone, so "fe80::1%eth0" would slip
	// past every range: check the address without it.
	a = a.WithZone("").Unmap()
	if !a.IsValid() {
		return "invalid address", false
	}
	for _, p := range g.allow {
		if p.Contains(a) {
			return "", true
		}
	}
	for _, e := range g.embed {
		if e.prefix.Contains(a) {
			if reason, ok := g.Check(e.extract(a)); !ok {
				return e.name + " form of a refused address: " + reason, false
			}
			return "", true
		}
	}
	for _, d := range g.deny {
		if d.prefix.Contains(a) {
			return d.reason, false
		}
	}
	// Belt and braces: the table above covers all of these; the standard library's own view
	// keeps a typo in the table from opening them.
	switch {
	case a.IsLoopback():
		return "loopback", false
	case a.IsPrivate():
		return "private", false
	case a.IsLinkLocalUnicast():
		return "link-local", false
	case a.IsUnspecified():
		return "unspecified", false
	case a.IsMulticast(), a.IsInterfaceLocalMulticast(), a.IsLinkLocalMulticast():
		return "multicast", false
	}
	return "", true
}
