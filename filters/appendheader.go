package filters

// AppendRequestHeaderName is the route name of the filter that adds a request header value.
const AppendRequestHeaderName = "appendRequestHeader"

type appendHeaderSpec struct{}

var _ Spec = (*appendHeaderSpec)(nil)

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
	return &requestHeaderFilter{headerValue: hv, appendValue: true}, nil
}
