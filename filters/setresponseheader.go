package filters

import "net/http"

// SetResponseHeaderName is the route name of the filter that sets a response header.
const SetResponseHeaderName = "setResponseHeader"

type setResponseHeaderSpec struct{}

type setResponseHeaderFilter struct{ headerValue }

var (
	_ Spec           = (*setResponseHeaderSpec)(nil)
	_ ResponseFilter = (*setResponseHeaderFilter)(nil)
)

// NewSetResponseHeader returns the spec of setResponseHeader(name, value), which replaces every
// instance of the named header of the backend's response with value. The value takes the
// placeholders of setRequestHeader, whose request values come from the request sent to the
// backend, and ${response.header.<Name>}; a header whose placeholders resolve to nothing is
// left as it is.
func NewSetResponseHeader() Spec { return &setResponseHeaderSpec{} }

func (*setResponseHeaderSpec) Name() string { return SetResponseHeaderName }

func (*setResponseHeaderSpec) Create(args []any) (Filter, error) {
	hv, err := newHeaderValue(SetResponseHeaderName, args, false)
	if err != nil {
		return nil, err
	}
	return &setResponseHeaderFilter{hv}, nil
}

// Request does nothing: the filter works on the response.
func (*setResponseHeaderFilter) Request(*http.Request) error { return nil }

func (f *setResponseHeaderFilter) Response(res *http.Response) error {
	if v, ok := f.resolve(res.Request, res); ok {
		if res.Header == nil {
			res.Header = make(http.Header)
		}
		res.Header[f.header] = []string{v}
	}
	return nil
}
