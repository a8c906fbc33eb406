package filters

import "net/http"

// DropResponseHeaderName is the route name of the filter that removes a response header.
const DropResponseHeaderName = "dropResponseHeader"

type dropResponseHeaderSpec struct{}

type dropResponseHeaderFilter struct {
	header string // canonical
	value  *string
}

var (
	_ Spec           = (*dropResponseHeaderSpec)(nil)
	_ ResponseFilter = (*dropResponseHeaderFilter)(nil)
)

// NewDropResponseHeader returns the spec of dropResponseHeader(name[, value]), which removes
// every instance of the named header from the backend's response, or with value only those
// equal to it; the name is matched case-insensitively.
func NewDropResponseHeader() Spec { return &dropResponseHeaderSpec{} }

func (*dropResponseHeaderSpec) Name() string { return DropResponseHeaderName }

func (*dropResponseHeaderSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(DropResponseHeaderName, args, 1, "header name", "value")
	if err != nil {
		return nil, err
	}
	if err := checkHeaderName(DropResponseHeaderName, 1, a[0]); err != nil {
		return nil, err
	}
	f := &dropResponseHeaderFilter{header: http.CanonicalHeaderKey(a[0])}
	if len(a) == 2 {
		f.value = &a[1]
	}
	return f, nil
}

// Request does nothing: the filter works on the response.
func (*dropResponseHeaderFilter) Request(*http.Request) error { return nil }

func (f *dropResponseHeaderFilter) Response(res *http.Response) error {
	dropHeaderValues(res.Header, f.header, f.value)
	return nil
}
