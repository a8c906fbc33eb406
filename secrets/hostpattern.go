package secrets

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// HostPattern is one destination a secret may be sent to, as -credentials-bind and a .hosts
// file write it:
//
//   - an exact name, "api.example.com", or IP address, "192.0.2.1", "2001:db8::1" or
//     "[2001:db8::1]";
//   - "*.example.com": any name under example.com, at any depth, but not example.com itself;
//   - either followed by ":port" (an IPv6 address then in brackets); without a port, any port.
//
// Names are compared without regard to case and without a trailing dot. A wildcard never
// matches an IP address, and an IP address matches only a destination written as that address
// (IPv4-mapped IPv6 addresses are read as IPv4): names are not resolved.
type HostPattern struct {
	name   string     // lower case, no trailing dot; "" for an address
	suffix bool       // name is ".example.com": a wildcard
	addr   netip.Addr // valid for an address pattern
	port   int        // 0: any
}

// ParseHostPattern parses one pattern (see HostPattern). Its errors quote the pattern.
func ParseHostPattern(s string) (HostPattern, error) {
	p, err := parseHostPattern(s)
	if err != nil {
		return HostPattern{}, fmt.Errorf("host pattern %q: %w", s, err)
	}
	return p, nil
}

func parseHostPattern(s string) (HostPattern, error) {
	var p HostPattern
	host, port := s, ""
	switch {
	case s == "":
		return p, errors.New("empty")
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return p, errors.New("no closing bracket")
		}
		host, port = s[1:end], s[end+1:]
		if port != "" && !strings.HasPrefix(port, ":") {
			return p, errors.New("text after the closing bracket is not a port")
		}
		port = strings.TrimPrefix(port, ":")
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return p, errors.New("brackets hold no IPv6 address")
		}
		if port == "" && strings.HasSuffix(s, ":") {
			return p, errors.New("empty port")
		}
	case strings.Count(s, ":") > 1:
		// A bare IPv6 address: with a port, it would need brackets.
		host = s
	default:
		var ok bool
		if host, port, ok = strings.Cut(s, ":"); ok && port == "" {
			return p, errors.New("empty port")
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '+' || port[0] == '-' {
			return p, fmt.Errorf("bad port %q", port)
		}
		p.port = n
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return p, errors.New("an address with a zone cannot be a destination")
		}
		p.addr = a.Unmap()
		return p, nil
	}
	if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
		return p, errors.New("not an IPv6 address (a port after one needs brackets: [2001:db8::1]:443)")
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		if !validName(rest) {
			return p, errors.New("not a name after \"*.\"")
		}
		p.name, p.suffix = name[1:], true
		return p, nil
	}
	if strings.Contains(name, "*") {
		return p, errors.New(`"*" may only stand first, as "*.example.com"`)
	}
	if !validName(name) {
		return p, errors.New("not a host name or IP address")
	}
	p.name = name
	return p, nil
}

// validName reports whether s, lower case and without a trailing dot, is a DNS name: labels of
// letters, digits, '-' and '_' (which some services use), 1 to 63 bytes each, 253 in all.
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// String returns the pattern as it would be written, normalised.
func (p HostPattern) String() string {
	var h string
	switch {
	case p.addr.IsValid() && p.addr.Is6():
		h = "[" + p.addr.String() + "]"
		if p.port == 0 {
			return p.addr.String()
		}
	case p.addr.IsValid():
		h = p.addr.String()
	case p.suffix:
		h = "*" + p.name
	default:
		h = p.name
	}
	if p.port != 0 {
		h += ":" + strconv.Itoa(p.port)
	}
	return h
}

// Destination is where a request goes, normalised for matching HostPatterns.
type Destination struct {
	name string     // lower case, no trailing dot; "" for an address
	addr netip.Addr // valid for an address
	port int
}

// ParseDestination reads the scheme and host (a URL's Host: name, name:port, address or
// [address]:port) of a request's destination. Without a port, the scheme's default is used:
// 80 for http and h2c, 443 for https.
func ParseDestination(scheme, host string) (Destination, error) {
	var d Destination
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ""
	}
	switch {
	case port != "":
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return d, fmt.Errorf("destination %q: bad port", host)
		}
		d.port = n
	case scheme == "https":
		d.port = 443
	case scheme == "http" || scheme == "h2c":
		d.port = 80
	default:
		return d, fmt.Errorf("destination %q: no port and scheme %q has no default", host, scheme)
	}
	if a, err := netip.ParseAddr(name); err == nil {
		d.addr = a.Unmap()
		return d, nil
	}
	d.name = strings.ToLower(strings.TrimSuffix(name, "."))
	if d.name == "" {
		return d, fmt.Errorf("destination %q: no host", host)
	}
	return d, nil
}

// String returns host:port.
func (d Destination) String() string {
	h := d.name
	if d.addr.IsValid() {
		h = d.addr.String()
	}
	return net.JoinHostPort(h, strconv.Itoa(d.port))
}

// Match reports whether the pattern allows d.
func (p HostPattern) Match(d Destination) bool {
	if p.port != 0 && p.port != d.port {
		return false
	}
	switch {
	case p.addr.IsValid():
		return d.addr.IsValid() && p.addr == d.addr.WithZone("")
	case d.addr.IsValid():
		return false
	case p.suffix:
		return len(d.name) > len(p.name) && strings.HasSuffix(d.name, p.name)
	default:
		return d.name == p.name
	}
}
