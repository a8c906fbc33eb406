package filters

import "net/http"

// CopyResponseHeaderName is the route name of the filter that copies one response header to
// another.
const CopyResponseHeaderName = "copyResponseHeader"

type copyResponseHeaderSpec struct{}

type copyResponseHeaderFilter struct {
	src, dst string // canonical
}

var (
	_ Spec           = (*copyResponseHeaderSpec)(nil)
	_ ResponseFilter = (*copyResponseHeaderFilter)(nil)
)

// NewCopyResponseHeader returns the spec of copyResponseHeader(src, dst), which sets the header
// dst of the backend's response to the first value of its header src, replacing dst's values;
// when src is absent or empty, dst is left as it is.
func NewCopyResponseHeader() Spec { return &copyResponseHeaderSpec{} }

func (*copyResponseHeaderSpec) Name() string { return CopyResponseHeaderName }

func (*copyResponseHeaderSpec) Create(args []any) (Filter, error) {
	src, dst, err := copyHeaderArgs(CopyResponseHeaderName, args)
	if err != nil {
		return nil, err
	}
	return &copyResponseHeaderFilter{src: src, dst: dst}, nil
}

// Request does nothing: the filter works on the response.
func (*copyResponseHeaderFilter) Request(*http.Request) error { return nil }

func (f *copyResponseHeaderFilter) Response(res *http.Response) error {
	if v := firstValue(res.Header, f.src); v != "" {
		res.Header[f.dst] = []string{v}
	}
	return nil
}
