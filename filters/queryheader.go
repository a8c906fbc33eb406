package filters

import (
	"fmt"
	"net/http"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// Route names of the filters that move values between the query and the header.
const (
	HeaderToQueryName = "headerToQuery"
	QueryToHeaderName = "queryToHeader"
)

type headerToQuerySpec struct{}

type headerToQueryFilter struct{ header, param string }

type queryToHeaderSpec struct{}

type queryToHeaderFilter struct{ param, header, format string }

var (
	_ Spec   = (*headerToQuerySpec)(nil)
	_ Filter = (*headerToQueryFilter)(nil)
	_ Spec   = (*queryToHeaderSpec)(nil)
	_ Filter = (*queryToHeaderFilter)(nil)
)

// NewHeaderToQuery returns the spec of headerToQuery(header, param), which sets the query
// parameter param to the first value of the request header (empty when there is none),
// replacing the parameter's values. As in Skipper, the query is then written anew, its
// parameters sorted by name.
func NewHeaderToQuery() Spec { return &headerToQuerySpec{} }

func (*headerToQuerySpec) Name() string { return HeaderToQueryName }

func (*headerToQuerySpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(HeaderToQueryName, args, 2, "header name", "query parameter")
	if err != nil {
		return nil, err
	}
	return &headerToQueryFilter{header: http.CanonicalHeaderKey(a[0]), param: a[1]}, nil
}

func (f *headerToQueryFilter) Request(r *http.Request) error {
	q := r.URL.Query()
	q.Set(f.param, firstValue(r.Header, f.header))
	r.URL.RawQuery = q.Encode()
	return nil
}

// NewQueryToHeader returns the spec of queryToHeader(param, header[, format]), which sets the
// request header to the first value of the query parameter param, written into format with
// fmt's %s (default "%s"; "Bearer %s" makes a token parameter an Authorization), unless the
// request has that header already or the parameter is empty or absent. A header named Host
// is never set, as in Skipper, where Go ignores it: the client does not choose the backend's Host. A value that could not
// be sent in a header (a client's %0a) is not set.
func NewQueryToHeader() Spec { return &queryToHeaderSpec{} }

func (*queryToHeaderSpec) Name() string { return QueryToHeaderName }

func (*queryToHeaderSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(QueryToHeaderName, args, 2, "query parameter", "header name", "format")
	if err != nil {
		return nil, err
	}
	if err := checkHeaderName(QueryToHeaderName, 2, a[1]); err != nil {
		return nil, err
	}
	f := &queryToHeaderFilter{param: a[0], header: http.CanonicalHeaderKey(a[1]), format: "%s"}
	if len(a) == 3 {
		if err := checkHeaderText(QueryToHeaderName, 3, "format", a[2]); err != nil {
			return nil, err
		}
		f.format = a[2]
	}
	return f, nil
}

func (f *queryToHeaderFilter) Request(r *http.Request) error {
	if firstValue(r.Header, f.header) != "" {
		return nil
	}
	v := r.URL.Query().Get(f.param)
	if v == "" {
		return nil
	}
	v = fmt.Sprintf(f.format, v)
	if httpsyntax.InvalidValueByte(v) >= 0 || f.header == headerHost {
		return nil // Host stays: Skipper's Header.Set of it changes nothing either
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header[f.header] = []string{v}
	return nil
}
