package filters

import "net/http"

// AppendRequestHeaderName is the route name of the filter that adds a request header value.
const AppendRequestHeaderName = "appendRequestHeader"

type appendHeaderSpec struct{}

type appendHeaderFilter struct{ headerValue }

var (
	_ Spec   = (*appendHeaderSpec)(nil)
	_ Filter = (*appendHeaderFilter)(nil)
)

// NewAppendRequestHeader returns the spec of appendRequestHeader(name, value), which adds value
// as one more instance of the named request header, keeping those already there. The value
// takes placeholders as in setRequestHeader, and a header whose placeholders resolve to nothing
// is not added. As in Skipper, appendRequestHeader("Host", h) sets the outgoing Host.
func NewAppendRequestHeader() Spec { return &appendHeaderSpec{} }

func (*appendHeaderSpec) Name() string { return AppendRequestHeaderName }

func (*appendHeaderSpec) Create(args []any) (Filter, error) {
	hv, err := newHeaderValue(AppendRequestHeaderName, args, true)
	if err != nil {
		return nil, err
	}
	return &appendHeaderFilter{hv}, nil
}

func (f *appendHeaderFilter) Request(r *http.Request) error {
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
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header[f.header] = append(r.Header[f.header], v)
	return nil
}
