package filters

import "net/http"

// Route names of the filters that copy a value of the request's state bag into a header.
const (
	SetContextRequestHeaderName     = "setContextRequestHeader"
	AppendContextRequestHeaderName  = "appendContextRequestHeader"
	SetContextResponseHeaderName    = "setContextResponseHeader"
	AppendContextResponseHeaderName = "appendContextResponseHeader"
)

type contextHeaderSpec struct{ name string }

// contextHeaderFilter does nothing: no filter of this proxy puts values in a state bag.
type contextHeaderFilter struct{}

var (
	_ Spec   = (*contextHeaderSpec)(nil)
	_ Filter = contextHeaderFilter{}
)

// NewContextHeaderSpecs returns the specs of setContextRequestHeader(header, key),
// appendContextRequestHeader, setContextResponseHeader and appendContextResponseHeader. In
// Skipper they copy the value a filter left under key in the request's state bag (the OAuth2
// tokeninfo and JWT filters, which this egress proxy leaves out, are what fill it) into the
// header. Here no filter fills a state bag, so, as in Skipper for a key nobody set, they check
// their arguments and set nothing.
func NewContextHeaderSpecs() []Spec {
	return []Spec{
		&contextHeaderSpec{SetContextRequestHeaderName}, &contextHeaderSpec{AppendContextRequestHeaderName},
		&contextHeaderSpec{SetContextResponseHeaderName}, &contextHeaderSpec{AppendContextResponseHeaderName},
	}
}

func (s *contextHeaderSpec) Name() string { return s.name }

func (s *contextHeaderSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(s.name, args, 2, "header name", "state bag key")
	if err != nil {
		return nil, err
	}
	if err := checkHeaderName(s.name, 1, a[0]); err != nil {
		return nil, err
	}
	return contextHeaderFilter{}, nil
}

func (contextHeaderFilter) Request(*http.Request) error { return nil }
