package filters

import "net/http"

// DropRequestHeaderName is the route name of the filter that removes a request header.
const DropRequestHeaderName = "dropRequestHeader"

type dropHeaderSpec struct{}

type dropHeaderFilter struct {
	header string // canonical
}

var (
	_ Spec   = (*dropHeaderSpec)(nil)
	_ Filter = (*dropHeaderFilter)(nil)
)

// NewDropRequestHeader returns the spec of dropRequestHeader(name), which removes every instance
// of the named request header; the name is matched case-insensitively.
//
// dropRequestHeader("Host") is accepted and changes nothing, as in Skipper: the outgoing Host is
// not a header in Go and a request always has one.
func NewDropRequestHeader() Spec { return &dropHeaderSpec{} }

func (*dropHeaderSpec) Name() string { return DropRequestHeaderName }

func (*dropHeaderSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(DropRequestHeaderName, args, 1, "header name")
	if err != nil {
		return nil, err
	}
	if err := checkHeaderName(DropRequestHeaderName, 1, a[0]); err != nil {
		return nil, err
	}
	return &dropHeaderFilter{header: http.CanonicalHeaderKey(a[0])}, nil
}

func (f *dropHeaderFilter) Request(r *http.Request) error {
	delete(r.Header, f.header)
	return nil
}
