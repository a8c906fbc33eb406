package filters

import (
	"net"
	"net/http"
	"strings"
)

// Route names of the cookie filters.
const (
	RequestCookieName      = "requestCookie"
	ResponseCookieName     = "responseCookie"
	JSCookieName           = "jsCookie"
	DropRequestCookieName  = "dropRequestCookie"
	DropResponseCookieName = "dropResponseCookie"
)

// cookieChangeOnly is the fourth argument of responseCookie and jsCookie that sets the cookie
// only when the client does not already send it with that value.
const cookieChangeOnly = "change-only"

type cookieSpec struct{ name string }

type requestCookieFilter struct{ pair string }

type responseCookieFilter struct {
	name, value string
	maxAge      int
	changeOnly  bool
	httpOnly    bool
}

var (
	_ Spec           = (*cookieSpec)(nil)
	_ Filter         = (*requestCookieFilter)(nil)
	_ ResponseFilter = (*responseCookieFilter)(nil)
)

// NewRequestCookie returns the spec of requestCookie(name, value), which adds the cookie
// name=value to the request's Cookie header, after those the client sent.
func NewRequestCookie() Spec { return &cookieSpec{RequestCookieName} }

// NewResponseCookie returns the spec of responseCookie(name, value[, max age[, "change-only"]]),
// which adds a Set-Cookie to the answer, as Skipper's: Secure, HttpOnly, Path=/, and a Domain
// from the client's Host (without its port, and without its first label when it has three or
// more: api.example.com gives example.com). max age is in seconds; 0 deletes the cookie
// (Max-Age=0) and without it the cookie has none. With "change-only" the cookie is not set
// when the client sent it with the same value, so its lifetime does not slide.
func NewResponseCookie() Spec { return &cookieSpec{ResponseCookieName} }

// NewJSCookie returns the spec of jsCookie, responseCookie without HttpOnly, so that scripts in
// the browser can read the cookie.
func NewJSCookie() Spec { return &cookieSpec{JSCookieName} }

func (s *cookieSpec) Name() string { return s.name }

func (s *cookieSpec) Create(args []any) (Filter, error) {
	max := 4
	if s.name == RequestCookieName {
		max = 2
	}
	if len(args) < 2 || len(args) > max {
		if max == 2 {
			return nil, argsErrorf("%s: want 2 arguments (name, value), got %d", s.name, len(args))
		}
		return nil, argsErrorf("%s: want 2 to 4 arguments (name, value[, max age[, \"change-only\"]]), got %d", s.name, len(args))
	}
	name, ok := args[0].(string)
	if !ok || name == "" {
		return nil, argsErrorf("%s: argument 1 (name) must be a non-empty string, got %#v", s.name, args[0])
	}
	value, ok := args[1].(string)
	if !ok {
		return nil, argsErrorf("%s: argument 2 (value) must be a string, got %T", s.name, args[1])
	}
	if s.name == RequestCookieName {
		// net/http writes name and value as RFC 6265 allows, dropping the bytes it cannot
		// send, so that route text can never split the header; a name it cannot send at all
		// gives "", and the filter adds nothing.
		return &requestCookieFilter{pair: (&http.Cookie{Name: name, Value: value}).String()}, nil
	}
	f := &responseCookieFilter{name: name, value: value, httpOnly: s.name == ResponseCookieName}
	if len(args) >= 3 {
		n, ok := args[2].(float64)
		if !ok {
			return nil, argsErrorf("%s: argument 3 (max age) must be a number, got %T", s.name, args[2])
		}
		// In net/http MaxAge 0 leaves Max-Age out and a negative one writes Max-Age=0; a
		// route's 0 means the latter, as in Skipper.
		f.maxAge = int(n)
		if f.maxAge == 0 {
			f.maxAge = -1
		}
	}
	if len(args) == 4 {
		f.changeOnly = args[3] == cookieChangeOnly
	}
	return f, nil
}

// Request adds the cookie after the client's. Unlike net/http's AddCookie, it keeps the
// cookies of every Cookie field the client sent (HTTP/2 clients send one field per cookie), in
// one field, as RFC 6265 §5.4 asks of a request going to HTTP/1.1.
func (f *requestCookieFilter) Request(r *http.Request) error {
	if f.pair == "" {
		return nil
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	vs := r.Header["Cookie"]
	all := make([]string, 0, len(vs)+1)
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			all = append(all, v)
		}
	}
	r.Header["Cookie"] = []string{strings.Join(append(all, f.pair), "; ")}
	return nil
}

func (*responseCookieFilter) Request(*http.Request) error { return nil }

func (f *responseCookieFilter) Response(res *http.Response) error {
	in := res.Request
	if in != nil {
		in = Incoming(in)
	}
	if f.changeOnly && in != nil {
		if c, err := in.Cookie(f.name); err == nil && c.Value == f.value {
			return nil
		}
	}
	c := &http.Cookie{Name: f.name, Value: f.value, Path: "/", MaxAge: f.maxAge, Secure: true, HttpOnly: f.httpOnly}
	if in != nil {
		c.Domain = cookieDomain(in.Host)
	}
	if v := c.String(); v != "" { // "" for a name net/http cannot send
		if res.Header == nil {
			res.Header = make(http.Header)
		}
		res.Header.Add("Set-Cookie", v)
	}
	return nil
}

// cookieDomain is Skipper's cookie domain for a Host: without its port, and without its first
// label when it has three or more; an IP address stays whole.
func cookieDomain(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(host) != nil {
		return host // Skipper cuts 10.0.0.1 to 0.0.1, a domain no browser takes
	}
	if strings.Count(host, ".") < 2 {
		return host
	}
	return host[strings.IndexByte(host, '.')+1:]
}

type dropCookieSpec struct{ name string }

type dropRequestCookieFilter struct{ name string }

type dropResponseCookieFilter struct{ name string }

var (
	_ Spec           = (*dropCookieSpec)(nil)
	_ Filter         = (*dropRequestCookieFilter)(nil)
	_ ResponseFilter = (*dropResponseCookieFilter)(nil)
)

// NewDropRequestCookie returns the spec of dropRequestCookie(name), which removes every
// cookie of that name from the request; the client's other cookies reach the backend in one
// Cookie header, as they were written.
func NewDropRequestCookie() Spec { return &dropCookieSpec{DropRequestCookieName} }

// NewDropResponseCookie returns the spec of dropResponseCookie(name), which removes the
// answer's Set-Cookie fields of that cookie name; the others pass unchanged, in order.
func NewDropResponseCookie() Spec { return &dropCookieSpec{DropResponseCookieName} }

func (s *dropCookieSpec) Name() string { return s.name }

func (s *dropCookieSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(s.name, args, 1, "cookie name")
	if err != nil {
		return nil, err
	}
	if s.name == DropRequestCookieName {
		return &dropRequestCookieFilter{name: a[0]}, nil
	}
	return &dropResponseCookieFilter{name: a[0]}, nil
}

func (f *dropRequestCookieFilter) Request(r *http.Request) error {
	vs := r.Header["Cookie"]
	var kept []string
	dropped := false
	for _, v := range vs {
		for pair := range strings.SplitSeq(v, ";") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			name, _, _ := strings.Cut(pair, "=")
			if strings.TrimSpace(name) == f.name {
				dropped = true
				continue
			}
			kept = append(kept, pair)
		}
	}
	switch {
	case !dropped:
	case len(kept) == 0:
		r.Header.Del("Cookie")
	default:
		r.Header["Cookie"] = []string{strings.Join(kept, "; ")}
	}
	return nil
}

func (*dropResponseCookieFilter) Request(*http.Request) error { return nil }

func (f *dropResponseCookieFilter) Response(res *http.Response) error {
	vs := res.Header["Set-Cookie"]
	kept := vs[:0:0]
	for _, v := range vs {
		name, _, _ := strings.Cut(v, "=")
		if strings.TrimSpace(name) != f.name {
			kept = append(kept, v)
		}
	}
	if len(kept) == len(vs) {
		return nil
	}
	if len(kept) == 0 {
		res.Header.Del("Set-Cookie")
		return nil
	}
	res.Header["Set-Cookie"] = kept
	return nil
}
