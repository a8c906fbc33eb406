package filters

import "net/http"

// AppendResponseHeaderName is the route name of the filter that adds a response header value.
const AppendResponseHeaderName = "appendResponseHeader"

type appendResponseHeaderSpec struct{}

type appendResponseHeaderFilter struct{ headerValue }

var (
	_ Spec           = (*appendResponseHeaderSpec)(nil)
	_ ResponseFilter = (*appendResponseHeaderFilter)(nil)
)

// NewAppendResponseHeader returns the spec of appendResponseHeader(name, value), which adds
// value as one more instance of the named header of the backend's response. The value takes
// placeholders as in setResponseHeader; a header whose placeholders resolve to nothing is not
// added.
func NewAppendResponseHeader() Spec { return &appendResponseHeaderSpec{} }

func (*appendResponseHeaderSpec) Name() string { return AppendResponseHeaderName }

func (*appendResponseHeaderSpec) Create(args []any) (Filter, error) {
	hv, err := newHeaderValue(AppendResponseHeaderName, args, false)
	if err != nil {
		return nil, err
	}
	return &appendResponseHeaderFilter{hv}, nil
}

// Request does nothing: the filter works on the response.
func (*appendResponseHeaderFilter) Request(*http.Request) error { return nil }

func (f *appendResponseHeaderFilter) Response(res *http.Response) error {
	if v, ok := f.resolve(res.Request, res); ok {
		if res.Header == nil {
			res.Header = make(http.Header)
		}
		res.Header[f.header] = append(res.Header[f.header], v)
	}
	return nil
}
