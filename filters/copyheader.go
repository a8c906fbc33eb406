package filters

import "net/http"

// CopyRequestHeaderName is the route name of the filter that copies one request header to
// another.
const CopyRequestHeaderName = "copyRequestHeader"

type copyHeaderSpec struct{}

type copyHeaderFilter struct {
	src, dst string // canonical
}

var (
	_ Spec   = (*copyHeaderSpec)(nil)
	_ Filter = (*copyHeaderFilter)(nil)
)

// NewCopyRequestHeader returns the spec of copyRequestHeader(src, dst), which sets the request
// header dst to the first value of src, replacing dst's values; when src is absent or empty,
// dst is left as it is. As in Skipper, a dst of Host sets the outgoing Host, and a src of Host
// copies nothing: Go keeps the Host apart from the headers.
func NewCopyRequestHeader() Spec { return &copyHeaderSpec{} }

func (*copyHeaderSpec) Name() string { return CopyRequestHeaderName }

func (*copyHeaderSpec) Create(args []any) (Filter, error) {
	src, dst, err := copyHeaderArgs(CopyRequestHeaderName, args)
	if err != nil {
		return nil, err
	}
	return &copyHeaderFilter{src: src, dst: dst}, nil
}

func (f *copyHeaderFilter) Request(r *http.Request) error {
	v := firstValue(r.Header, f.src)
	if v == "" {
		return nil
	}
	if f.dst == headerHost {
		if validHost(v) {
			r.Host = v
		}
		return nil
	}
	r.Header[f.dst] = []string{v}
	return nil
}

// copyHeaderArgs checks the (source, target) header names of the copy filters.
func copyHeaderArgs(filter string, args []any) (src, dst string, err error) {
	a, err := stringArgs(filter, args, 2, "source header name", "target header name")
	if err != nil {
		return "", "", err
	}
	for i, name := range a {
		if err := checkHeaderName(filter, i+1, name); err != nil {
			return "", "", err
		}
	}
	return http.CanonicalHeaderKey(a[0]), http.CanonicalHeaderKey(a[1]), nil
}
