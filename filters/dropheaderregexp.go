package filters

import (
	"net/http"
	"regexp"
)

// Route names of the filters that remove header values matching a regular expression: the
// names Skipper's code registers, and those its documentation gives.
const (
	DropRequestHeaderRegexpName       = "dropRequestHeaderRegexp"
	DropResponseHeaderRegexpName      = "dropResponseHeaderRegexp"
	DropRequestHeaderValueRegexpName  = "dropRequestHeaderValueRegexp"
	DropResponseHeaderValueRegexpName = "dropResponseHeaderValueRegexp"
)

type dropHeaderRegexpSpec struct {
	name     string
	response bool
}

type dropHeaderRegexpFilter struct {
	response bool
	header   string // canonical
	rx       *regexp.Regexp
}

var (
	_ Spec           = (*dropHeaderRegexpSpec)(nil)
	_ ResponseFilter = (*dropHeaderRegexpFilter)(nil)
)

// NewDropRequestHeaderRegexp returns the spec of dropRequestHeaderRegexp(name, regexp), which,
// as Skipper's, removes the values of the request header that regexp matches (unanchored);
// a header left without values is removed.
func NewDropRequestHeaderRegexp() Spec {
	return &dropHeaderRegexpSpec{name: DropRequestHeaderRegexpName}
}

// NewDropResponseHeaderRegexp returns the spec of dropResponseHeaderRegexp(name, regexp), the
// same on the answer's header.
func NewDropResponseHeaderRegexp() Spec {
	return &dropHeaderRegexpSpec{name: DropResponseHeaderRegexpName, response: true}
}

// NewDropHeaderValueRegexpSpecs returns dropRequestHeaderValueRegexp and
// dropResponseHeaderValueRegexp, the names Skipper's documentation gives
// dropRequestHeaderRegexp and dropResponseHeaderRegexp (its code registers only those), so that
// routes written from either load.
func NewDropHeaderValueRegexpSpecs() []Spec {
	return []Spec{
		&dropHeaderRegexpSpec{name: DropRequestHeaderValueRegexpName},
		&dropHeaderRegexpSpec{name: DropResponseHeaderValueRegexpName, response: true},
	}
}

func (s *dropHeaderRegexpSpec) Name() string { return s.name }

func (s *dropHeaderRegexpSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(s.Name(), args, 2, "header name", "regexp")
	if err != nil {
		return nil, err
	}
	if err := checkHeaderName(s.Name(), 1, a[0]); err != nil {
		return nil, err
	}
	rx, err := regexp.Compile(a[1])
	if err != nil {
		return nil, argsErrorf("%s: argument 2 (regexp): %v", s.Name(), err)
	}
	return &dropHeaderRegexpFilter{response: s.response, header: http.CanonicalHeaderKey(a[0]), rx: rx}, nil
}

func (f *dropHeaderRegexpFilter) Request(r *http.Request) error {
	if !f.response {
		f.drop(r.Header)
	}
	return nil
}

func (f *dropHeaderRegexpFilter) Response(res *http.Response) error {
	if f.response {
		f.drop(res.Header)
	}
	return nil
}

func (f *dropHeaderRegexpFilter) drop(h http.Header) {
	dropHeaderValuesFunc(h, f.header, f.rx.MatchString)
}
