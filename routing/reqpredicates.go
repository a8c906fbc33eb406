package routing

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"strings"
)

// Limits of net/http and net/url: with more cookies or query parameters than this they parse
// none (unless GODEBUG says otherwise). Requests over a limit are handed to them, so that
// the answer is theirs; requests within it are scanned here without allocating.
const (
	stdMaxCookies     = 3000
	stdMaxQueryParams = 10000
)

const headerXForwardedFor = "X-Forwarded-For"

// cookieMatcher is a Cookie(name, valueRegexp) predicate: the request's first cookie of that
// name, as http.Request.Cookie finds it, must have a value matching the regexp.
type cookieMatcher struct {
	name  string
	valid bool // name is a token; no cookie has any other name
	value textMatcher
}

// queryMatcher is a QueryParam(name[, valueRegexp]) predicate: the query, parsed as
// url.ParseQuery does, must have a parameter of that name, with a value matching the regexp
// if one is given.
type queryMatcher struct {
	name     string
	hasValue bool
	value    textMatcher
}

// sourceKind says which address a sourceMatcher checks.
type sourceKind uint8

const (
	sourceClientIP sourceKind = iota // the connection's remote address
	sourceFirst                      // the first X-Forwarded-For entry, else the remote address
	sourceLast                       // the last X-Forwarded-For entry, else the remote address
)

// sourceMatcher is a ClientIP, Source or SourceFromLast predicate.
type sourceMatcher struct {
	kind     sourceKind
	prefixes []netip.Prefix
}

func (m *matcher) addRequestPredicate(c Call) error {
	var err error
	switch c.Name {
	case predCookie:
		var cm cookieMatcher
		cm, err = newCookieMatcher(c)
		m.extra().cookies = append(m.extra().cookies, cm)
	case predQueryParam:
		var qm queryMatcher
		qm, err = newQueryMatcher(c)
		m.extra().queries = append(m.extra().queries, qm)
	default:
		var sm sourceMatcher
		sm, err = newSourceMatcher(c)
		m.extra().sources = append(m.extra().sources, sm)
	}
	m.weight++
	return err
}

func newCookieMatcher(c Call) (cookieMatcher, error) {
	args, err := stringArgs(c, 2)
	if err != nil {
		return cookieMatcher{}, err
	}
	rx, err := newTextMatcher(args[1])
	if err != nil {
		return cookieMatcher{}, fmt.Errorf("%s predicate: %w", c.Name, err)
	}
	return cookieMatcher{name: args[0], valid: isToken(args[0]), value: rx}, nil
}

func newQueryMatcher(c Call) (queryMatcher, error) {
	if len(c.Args) != 1 && len(c.Args) != 2 || !allStrings(c.Args, len(c.Args)) {
		return queryMatcher{}, fmt.Errorf("%s predicate expects 1 or 2 string arguments", c.Name)
	}
	q := queryMatcher{name: c.Args[0].(string), hasValue: len(c.Args) == 2}
	if q.hasValue {
		rx, err := newTextMatcher(c.Args[1].(string))
		if err != nil {
			return q, fmt.Errorf("%s predicate: %w", c.Name, err)
		}
		q.value = rx
	}
	return q, nil
}

// newSourceMatcher reads the addresses ("10.0.0.1", "::1") and networks ("10.0.0.0/8") of a
// ClientIP, Source or SourceFromLast predicate. As in Skipper, an unspecified address
// (0.0.0.0, ::) alone is an error, and at least one argument is needed.
func newSourceMatcher(c Call) (sourceMatcher, error) {
	sm := sourceMatcher{kind: sourceClientIP}
	switch c.Name {
	case predSource:
		sm.kind = sourceFirst
	case predSourceLast:
		sm.kind = sourceLast
	}
	if len(c.Args) == 0 || !allStrings(c.Args, len(c.Args)) {
		return sm, fmt.Errorf("%s predicate expects at least 1 string argument", c.Name)
	}
	for _, a := range c.Args {
		s := a.(string)
		var p netip.Prefix
		if strings.Contains(s, "/") {
			var err error
			if p, err = netip.ParsePrefix(s); err != nil {
				return sm, fmt.Errorf("%s predicate: invalid network %q", c.Name, s)
			}
		} else {
			addr, err := netip.ParseAddr(s)
			if err != nil || addr.Zone() != "" || addr.IsUnspecified() {
				return sm, fmt.Errorf("%s predicate: invalid address %q", c.Name, s)
			}
			p = netip.PrefixFrom(addr, addr.BitLen())
		}
		sm.prefixes = append(sm.prefixes, p)
	}
	return sm, nil
}

func (m *morePredicates) matchRequestPredicates(in *matchInput) bool {
	r := in.r
	for i := range m.cookies {
		if !m.cookies[i].match(r) {
			return false
		}
	}
	for i := range m.queries {
		if !m.queries[i].match(r) {
			return false
		}
	}
	for i := range m.sources {
		if !m.sources[i].match(r) {
			return false
		}
	}
	return m.matchStatePredicates(in)
}

func (c *cookieMatcher) match(r *http.Request) bool {
	if !c.valid {
		return false
	}
	v, ok := cookie(r, c.name)
	return ok && c.value.match(v)
}

// cookie returns the value of r's first cookie called name, as r.Cookie(name) finds it, without
// allocating. name must be a token (isToken); no cookie has any other name.
func cookie(r *http.Request, name string) (string, bool) {
	lines := r.Header["Cookie"]
	if len(lines) == 0 {
		return "", false
	}
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	if n > stdMaxCookies {
		ck, err := r.Cookie(name)
		if err != nil {
			return "", false
		}
		return ck.Value, true
	}
	// The loop of net/http's readCookies, for one name.
	for _, line := range lines {
		line = textproto.TrimString(line)
		var part string
		for line != "" {
			part, line, _ = strings.Cut(line, ";")
			k, val, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(k) != name {
				continue
			}
			if v, ok := cookieValue(val); ok {
				return v, true
			}
		}
	}
	return "", false
}

// cookieValue strips one pair of double quotes and checks the bytes as net/http does.
func cookieValue(raw string) (string, bool) {
	if len(raw) > 1 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	for i := 0; i < len(raw); i++ {
		if b := raw[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return "", false
		}
	}
	return raw, true
}

// isToken reports whether s is a non-empty RFC 9110 token, as cookie names must be.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return s != ""
}

func (q *queryMatcher) match(r *http.Request) bool {
	if r.URL == nil {
		return false
	}
	raw := r.URL.RawQuery
	if strings.Count(raw, "&")+1 > stdMaxQueryParams {
		vals, _ := url.ParseQuery(raw)
		for _, v := range vals[q.name] {
			if !q.hasValue || q.value.match(v) {
				return true
			}
		}
		return false
	}
	// The loop of url.ParseQuery, for one name.
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		key, val, _ := strings.Cut(pair, "=")
		if !unescapesTo(key, q.name) || !validEscapes(val) {
			continue
		}
		if !q.hasValue {
			return true
		}
		if strings.ContainsAny(val, "%+") {
			val, _ = url.QueryUnescape(val) // allocates, for escaped values only
		}
		if q.value.match(val) {
			return true
		}
	}
	return false
}

// unescapesTo reports whether the query component raw is validly escaped and decodes to want,
// without allocating.
func unescapesTo(raw, want string) bool {
	j := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '+':
			c = ' '
		case '%':
			if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
				return false
			}
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		}
		if j >= len(want) || want[j] != c {
			return false
		}
		j++
	}
	return j == len(want)
}

// validEscapes reports whether every "%" in s starts a two-digit hex escape.
func validEscapes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func (s *sourceMatcher) match(r *http.Request) bool {
	addr := s.address(r)
	for _, p := range s.prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// address returns the address the predicate checks, or the zero Addr, which no prefix
// contains. It follows Skipper: Source takes the first X-Forwarded-For entry as it stands,
// SourceFromLast the last one with blanks trimmed; both fall back to the remote address when
// the header is missing or the entry is not an address (with or without a port). ClientIP
// needs a remote address with a port, as net/http always sets it.
func (s *sourceMatcher) address(r *http.Request) netip.Addr {
	if s.kind != sourceClientIP {
		if xff := r.Header.Get(headerXForwardedFor); xff != "" {
			entry, _, _ := strings.Cut(xff, ",")
			if s.kind == sourceLast {
				entry = textproto.TrimString(xff[strings.LastIndexByte(xff, ',')+1:])
			}
			if a, err := netip.ParseAddr(stripPort(entry)); err == nil {
				return a
			}
		}
		a, _ := netip.ParseAddr(stripPort(r.RemoteAddr))
		return a
	}
	h, _, ok := splitHostPort(r.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	a, _ := netip.ParseAddr(h)
	return a
}

// stripPort returns hostport's host if it splits as net.SplitHostPort would, else hostport.
func stripPort(hostport string) string {
	if h, _, ok := splitHostPort(hostport); ok {
		return h
	}
	return hostport
}

// splitHostPort is net.SplitHostPort without the error values, which allocate.
func splitHostPort(hostport string) (host, port string, ok bool) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return "", "", false
	}
	j, k := 0, 0
	if hostport[0] == '[' {
		end := strings.IndexByte(hostport, ']')
		if end < 0 || end+1 != i {
			return "", "", false
		}
		host, j, k = hostport[1:end], 1, end+1
	} else {
		host = hostport[:i]
		if strings.IndexByte(host, ':') >= 0 {
			return "", "", false
		}
	}
	if strings.IndexByte(hostport[j:], '[') >= 0 || strings.IndexByte(hostport[k:], ']') >= 0 {
		return "", "", false
	}
	return host, hostport[i+1:], true
}
