package secrets_test

import (
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/secrets"
)

func TestHostPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, scheme, host string
		want                  bool
	}{
		{"api.example.com", "https", "api.example.com", true},
		{"api.example.com", "https", "API.Example.COM.:443", true}, // case, trailing dot
		{"API.example.com.", "http", "api.example.com:8080", true}, // no port: any
		{"api.example.com", "https", "example.com", false},
		{"api.example.com", "https", "xapi.example.com", false},
		{"api.example.com:443", "https", "api.example.com", true}, // the scheme's port
		{"api.example.com:443", "http", "api.example.com", false},
		{"api.example.com:8443", "https", "api.example.com:8443", true},
		{"*.example.com", "https", "a.example.com", true},
		{"*.example.com", "https", "a.b.example.com", true},
		{"*.example.com", "https", "example.com", false}, // not the domain itself
		{"*.example.com", "https", "a.example.com.evil.org", false},
		{"*.example.com", "https", "aexample.com", false},
		{"*.example.com:443", "https", "a.example.com:444", false},
		{"192.0.2.1", "http", "192.0.2.1:8080", true},
		{"192.0.2.1", "http", "[::ffff:192.0.2.1]:80", true}, // mapped: the same address
		{"192.0.2.1:80", "http", "192.0.2.1", true},
		{"192.0.2.1", "http", "192.0.2.10", false},
		{"2001:db8::1", "https", "[2001:db8::1]:443", true},
		{"[2001:db8::1]", "https", "[2001:DB8:0::1]", true},
		{"[2001:db8::1]:8080", "http", "[2001:db8::1]:8080", true},
		{"[2001:db8::1]:8080", "http", "[2001:db8::1]:80", false},
		{"*.example.com", "http", "192.0.2.1", false},
		{"localhost", "http", "127.0.0.1", false}, // names are not resolved
	}
	for _, tc := range tests {
		p, err := secrets.ParseHostPattern(tc.pattern)
		if err != nil {
			t.Errorf("%q: %v", tc.pattern, err)
			continue
		}
		d, err := secrets.ParseDestination(tc.scheme, tc.host)
		if err != nil {
			t.Errorf("%s %q: %v", tc.scheme, tc.host, err)
			continue
		}
		if got := p.Match(d); got != tc.want {
			t.Errorf("%q (%s) matches %s %q: %v, want %v", tc.pattern, p, tc.scheme, tc.host, got, tc.want)
		}
	}
}

func TestHostPatternErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", "empty"},
		{"*", `"*" may only stand first`},
		{"*..", `not a name after "*."`},

		{"a.*.example.com", `"*" may only stand first`},
		{"api.example.com:", "empty port"},
		{"api.example.com:0", `bad port "0"`},
		{"api.example.com:65536", `bad port "65536"`},
		{"api.example.com:+1", `bad port "+1"`},
		{"2001:db8::1:443:x", "not an IPv6 address"},
		{"[2001:db8::1", "no closing bracket"},
		{"[192.0.2.1]:80", "brackets hold no IPv6 address"},
		{"[2001:db8::1]x", "not a port"},
		{"fe80::1%eth0", "zone"},
		{"http://api.example.com", "bad port"},
		{"api example.com", "not a host name"},
		{"api.example.com/x", "not a host name"},
	}
	for _, tc := range tests {
		_, err := secrets.ParseHostPattern(tc.pattern)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"`+tc.pattern+`"`) {
			t.Errorf("%q: got error %v, want one quoting the pattern and saying %q", tc.pattern, err, tc.want)
		}
	}
}

func TestParseHostsFile(t *testing.T) {
	pats, err := secrets.ParseHostsFile("/s/tok.hosts", []byte("# where tok goes\n\n  api.example.com  # the API\n*.example.org:443\n"))
	if err != nil || len(pats) != 2 || pats[0].String() != "api.example.com" || pats[1].String() != "*.example.org:443" {
		t.Errorf("got %v, %v", pats, err)
	}
	pats, err = secrets.ParseHostsFile("/s/tok.hosts", []byte("# nowhere\n"))
	if err != nil || len(pats) != 0 {
		t.Errorf("comments alone: got %v, %v, want no pattern", pats, err)
	}
	_, err = secrets.ParseHostsFile("/s/tok.hosts", []byte("ok.example\nhttps://x\n\nb c\n"))
	if err == nil || !strings.Contains(err.Error(), "/s/tok.hosts:2: ") || !strings.Contains(err.Error(), "/s/tok.hosts:4: ") {
		t.Errorf("got %v, want errors naming lines 2 and 4", err)
	}
}
