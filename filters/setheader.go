package filters

import (
	"net/http"
	"strings"
)

// SetRequestHeaderName is the route name of the filter that sets a request header to a fixed
// value.
const SetRequestHeaderName = "setRequestHeader"

const headerHost = "Host"

type setHeaderSpec struct{}

type setHeaderFilter struct {
	header string // canonical
	value  string
}

var (
	_ Spec   = (*setHeaderSpec)(nil)
	_ Filter = (*setHeaderFilter)(nil)
)

// NewSetRequestHeader returns the spec of setRequestHeader(name, value), which replaces every
// instance of the named request header with value.
//
// As in Skipper, setRequestHeader("Host", h) sets the outgoing Host: Go keeps the Host apart
// from the header map and never sends a "Host" entry of it, so the filter sets r.Host instead.
// The proxy must therefore choose the outgoing Host (the backend's, or the client's under
// preserveHost) before it runs the request filters, so that this filter can override it.
//
// The value is taken literally and may not contain control characters; a Host value must also
// be non-empty and contain no spaces. Skipper's ${...} placeholders are not expanded yet.
func NewSetRequestHeader() Spec { return &setHeaderSpec{} }

func (*setHeaderSpec) Name() string { return SetRequestHeaderName }

func (*setHeaderSpec) Create(args []any) (Filter, error) {
	const name = SetRequestHeaderName
	a, err := stringArgs(name, args, 2, "header name", "header value")
	if err != nil {
		return nil, err
	}
	if err := checkHeaderName(name, 1, a[0]); err != nil {
		return nil, err
	}
	if err := checkHeaderText(name, 2, "header value", a[1]); err != nil {
		return nil, err
	}
	header := http.CanonicalHeaderKey(a[0])
	if header == headerHost && (a[1] == "" || strings.ContainsAny(a[1], " \t")) {
		return nil, argsErrorf("%s: argument 2 (header value) must be a host without spaces for Host", name)
	}
	return &setHeaderFilter{header: header, value: a[1]}, nil
}

func (f *setHeaderFilter) Request(r *http.Request) error {
	if f.header == headerHost {
		r.Host = f.value
		return nil
	}
	setHeader(r, f.header, f.value)
	return nil
}
