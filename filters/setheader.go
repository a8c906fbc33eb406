package filters

import "net/http"

// SetRequestHeaderName is the route name of the filter that sets a request header to a fixed
// value.
const SetRequestHeaderName = "setRequestHeader"

const headerHost = "Host"

type setHeaderSpec struct{}

// requestHeaderFilter is setRequestHeader's and appendRequestHeader's request-time half: the
// two differ only in whether the value replaces the header's values or joins them.
type requestHeaderFilter struct {
	headerValue
	appendValue bool
}

var (
	_ Spec   = (*setHeaderSpec)(nil)
	_ Filter = (*requestHeaderFilter)(nil)
)

// NewSetRequestHeader returns the spec of setRequestHeader(name, value), which replaces every
// instance of the named request header with value.
//
// As in Skipper, setRequestHeader("Host", h) sets the outgoing Host: Go keeps the Host apart
// from the header map and never sends a "Host" entry of it, so the filter sets r.Host instead.
// The proxy must therefore choose the outgoing Host (the backend's, or the client's under
// preserveHost) before it runs the request filters, so that this filter can override it.
//
// The value may hold Skipper's placeholders, such as ${request.header.X-Team} or
// ${request.query.id}, expanded per request; if one of them resolves to nothing, or the result
// could not be sent (a control character, or for Host a space or nothing), the header is left
// as it is. ${name} placeholders for path parameters are not supported and stay literal. The
// route text may not contain control characters; a literal Host value must also be non-empty
// and contain no spaces.
func NewSetRequestHeader() Spec { return &setHeaderSpec{} }

func (*setHeaderSpec) Name() string { return SetRequestHeaderName }

func (*setHeaderSpec) Create(args []any) (Filter, error) {
	hv, err := newHeaderValue(SetRequestHeaderName, args, true)
	if err != nil {
		return nil, err
	}
	return &requestHeaderFilter{headerValue: hv}, nil
}

// Request sets, or adds, the expanded value; the Host header sets r.Host, which Go sends in
// place of any Host entry of the header map.
func (f *requestHeaderFilter) Request(r *http.Request) error {
	v, ok := f.resolve(r, nil)
	if !ok {
		return nil
	}
	if f.header == headerHost {
		if validHost(v) {
			r.Host = v
		}
		return nil
	}
	if f.appendValue {
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		r.Header[f.header] = append(r.Header[f.header], v)
		return nil
	}
	setHeader(r, f.header, v)
	return nil
}
