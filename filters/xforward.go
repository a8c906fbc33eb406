package filters

import (
	"net"
	"net/http"
)

// Route names of the filters that set the X-Forwarded headers.
const (
	XForwardName      = "xforward"
	XForwardFirstName = "xforwardFirst"
)

type xforwardSpec struct{ first bool }

type xforwardFilter struct{ first bool }

var (
	_ Spec   = (*xforwardSpec)(nil)
	_ Filter = (*xforwardFilter)(nil)
)

// NewXForward returns the spec of xforward(), which, as Skipper's, adds the client's address
// to the end of the request's X-Forwarded-For (after its first value) and sets
// X-Forwarded-Host to the Host the client sent.
func NewXForward() Spec { return &xforwardSpec{} }

// NewXForwardFirst returns the spec of xforwardFirst(), xforward with the client's address put
// first in X-Forwarded-For.
func NewXForwardFirst() Spec { return &xforwardSpec{first: true} }

func (s *xforwardSpec) Name() string {
	if s.first {
		return XForwardFirstName
	}
	return XForwardName
}

// Create ignores arguments, as Skipper does.
func (s *xforwardSpec) Create([]any) (Filter, error) { return &xforwardFilter{first: s.first}, nil }

func (f *xforwardFilter) Request(r *http.Request) error {
	in := Incoming(r)
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	addr := in.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if addr != "" {
		v := firstValue(r.Header, "X-Forwarded-For")
		switch {
		case v == "":
			v = addr
		case f.first:
			v = addr + ", " + v
		default:
			v += ", " + addr
		}
		r.Header["X-Forwarded-For"] = []string{v}
	}
	if in.Host != "" {
		r.Header["X-Forwarded-Host"] = []string{in.Host}
	}
	return nil
}
