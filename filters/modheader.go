package filters

import (
	"net/http"
	"regexp"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// ModRequestHeaderName is the route name of the filter that rewrites a request header with a
// regexp.
const ModRequestHeaderName = "modRequestHeader"

// ModResponseHeaderName is the route name of the filter that rewrites a response header with
// a regexp.
const ModResponseHeaderName = "modResponseHeader"

type modHeaderSpec struct{ response bool }

// modHeader is modRequestHeader's and modResponseHeader's compiled form.
type modHeader struct {
	header      string // canonical
	rx          *regexp.Regexp
	replacement string
}

// modResponseHeaderFilter runs modHeader on the response only.
type modResponseHeaderFilter struct{ modHeader }

var (
	_ Spec           = (*modHeaderSpec)(nil)
	_ Filter         = (*modHeader)(nil)
	_ ResponseFilter = (*modResponseHeaderFilter)(nil)
)

// NewModRequestHeader returns the spec of modRequestHeader(name, regexp, replacement), which
// replaces every match of regexp in the request header's first value with replacement ($1 or
// ${name} for submatches, as regexp.ReplaceAllString) and leaves the header with that one
// value; a header the request does not have is not added. As in Skipper, for "Host" it
// rewrites the client's Host and sends the result as the Host the backend sees. A result that
// could not be sent (a Host with a space, or nothing) leaves the header as it was.
func NewModRequestHeader() Spec { return &modHeaderSpec{} }

// NewModResponseHeader returns the spec of modResponseHeader(name, regexp, replacement), the
// same as modRequestHeader on the response's header.
func NewModResponseHeader() Spec { return &modHeaderSpec{response: true} }

func (s *modHeaderSpec) Name() string {
	if s.response {
		return ModResponseHeaderName
	}
	return ModRequestHeaderName
}

func (s *modHeaderSpec) Create(args []any) (Filter, error) {
	name := s.Name()
	a, err := stringArgs(name, args, 3, "header name", "regexp", "replacement")
	if err != nil {
		return nil, err
	}
	if err := checkHeaderName(name, 1, a[0]); err != nil {
		return nil, err
	}
	rx, err := regexp.Compile(a[1])
	if err != nil {
		return nil, argsErrorf("%s: argument 2 (regexp): %v", name, err)
	}
	if err := checkHeaderText(name, 3, "replacement", a[2]); err != nil {
		return nil, err
	}
	m := modHeader{header: http.CanonicalHeaderKey(a[0]), rx: rx, replacement: a[2]}
	if s.response {
		return &modResponseHeaderFilter{m}, nil
	}
	return &m, nil
}

func (f *modHeader) Request(r *http.Request) error {
	if f.header == headerHost {
		if h := f.rx.ReplaceAllString(Incoming(r).Host, f.replacement); validHost(h) {
			r.Host = h
		}
		return nil
	}
	f.rewrite(r.Header)
	return nil
}

// rewrite replaces the header's values in h by its rewritten first value, if it has any.
func (f *modHeader) rewrite(h http.Header) {
	vs := h[f.header]
	if len(vs) == 0 {
		return
	}
	v := f.rx.ReplaceAllString(vs[0], f.replacement)
	if httpsyntax.InvalidValueByte(v) >= 0 {
		return
	}
	h[f.header] = []string{v}
}

// Request does nothing: modResponseHeader changes only the response.
func (*modResponseHeaderFilter) Request(*http.Request) error { return nil }

func (f *modResponseHeaderFilter) Response(res *http.Response) error {
	f.rewrite(res.Header)
	return nil
}
