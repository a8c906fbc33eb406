package secrets

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// strictHostPattern is a second, plain reading of the HostPattern grammar, written from its
// documentation rather than from the parser: "[v6]" or "[v6]:port"; a bare IPv6 address (two
// colons or more, no port); else host or host:port, the host an IPv4 address, a name, or
// "*." and a name. Ports are decimal digits only, 1 to 65535.
func strictHostPattern(s string) (HostPattern, bool) {
	var p HostPattern
	host, port, hasPort := s, "", false
	if rest, ok := strings.CutPrefix(s, "["); ok {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return p, false
		}
		a, err := netip.ParseAddr(rest[:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return p, false
		}
		if tail := rest[end+1:]; tail != "" {
			if port, hasPort = strings.CutPrefix(tail, ":"); !hasPort {
				return p, false
			}
		}
		p.addr = a.Unmap()
	} else if strings.Count(s, ":") >= 2 {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, false
		}
		p.addr = a.Unmap()
	} else {
		host, port, hasPort = strings.Cut(s, ":")
	}
	if hasPort {
		if port == "" {
			return p, false
		}
		n := 0
		for _, c := range port {
			if c < '0' || c > '9' {
				return p, false
			}
			if n = n*10 + int(c-'0'); n > 65535 {
				return p, false
			}
		}
		if n == 0 {
			return p, false
		}
		p.port = n
	}
	if p.addr.IsValid() {
		return p, true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !a.Is4() {
			return p, false
		}
		p.addr = a
		return p, true
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		p.name, p.suffix = "."+rest, true
		name = rest
	} else {
		p.name = name
	}
	if name == "" || len(name) > 253 {
		return p, false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return p, false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return p, false
			}
		}
	}
	return p, true
}

// FuzzHostPattern checks ParseHostPattern, a hand-written parser of operator input, against
// the strict reading above, and that a pattern's String parses back to the same pattern.
func FuzzHostPattern(f *testing.F) {
	for _, s := range []string{
		"", "*", "*.", "*..", "api.example.com", "API.Example.com.:443", "*.example.com:8443",
		"a.*.example.com", "api.example.com:", "api.example.com:0", "api.example.com:65536",
		"api.example.com:+1", "api.example.com:0443", "192.0.2.1", "192.0.2.1:80", "1.2.3.256",
		"2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:8080", "[2001:db8::1]:", "[2001:db8::1]x",
		"[192.0.2.1]:80", "[::ffff:192.0.2.1]:80", "::ffff:192.0.2.1", "fe80::1%eth0",
		"[fe80::1%eth0]:1", "2001:db8::1:443:x", "http://api.example.com", "api example.com",
		"a_b.example.com", "xn--bcher-kva.example", "-.-", "[", "]", ":", "[]:1", "*.[::1]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseHostPattern(s)
		want, ok := strictHostPattern(s)
		if (err == nil) != ok {
			t.Fatalf("ParseHostPattern(%q): error %v, the strict reading accepts: %v", s, err, ok)
		}
		if !ok {
			return
		}
		if got != want {
			t.Fatalf("ParseHostPattern(%q) = %+v, the strict reading %+v", s, got, want)
		}
		if _, err := netip.ParseAddr(got.name); err == nil {
			// "192.0.2.1." is a name, not the address: it prints without its dot, and the
			// print reads as the address. Both refuse more than they allow; reported, not mended.
			return
		}
		again, err := ParseHostPattern(got.String())
		if err != nil || again != got {
			t.Fatalf("ParseHostPattern(%q).String() = %q, which parses to %+v, %v", s, got.String(), again, err)
		}
	})
}

// FuzzHostsFile checks ParseHostsFile against reading the file line by line with the strict
// reading: every line that is not blank or a comment is one pattern, and one bad line is an
// error that names its number.
func FuzzHostsFile(f *testing.F) {
	f.Add([]byte("api.example.com\n# comment\n\n*.example.org:443 # trailing\r\n"))
	f.Add([]byte("   \n\t#\nbad host\n[2001:db8::1]:8080"))
	f.Add([]byte("#only\n#comments\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseHostsFile("f.hosts", data)
		var want []HostPattern
		bad := 0
		n := 0
		for line := range strings.Lines(string(data)) {
			n++
			line, _, _ = strings.Cut(line, "#")
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			p, ok := strictHostPattern(line)
			if !ok {
				bad++
				if err == nil || !strings.Contains(err.Error(), "f.hosts:"+strconv.Itoa(n)+":") {
					t.Fatalf("line %d %q does not parse, but the error is %v", n, line, err)
				}
				continue
			}
			want = append(want, p)
		}
		if (err != nil) != (bad > 0) {
			t.Fatalf("%d bad lines, error %v", bad, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d patterns, the strict reading %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("pattern %d: %+v, the strict reading %+v", i, got[i], want[i])
			}
		}
	})
}
