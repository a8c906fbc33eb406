package filters

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// StripQueryName is the route name of the filter that removes the request's query.
const StripQueryName = "stripQuery"

// stripQueryPrefix starts the names of the headers that keep the stripped query parameters.
const stripQueryPrefix = "X-Query-Param-"

type stripQuerySpec struct{}

type stripQueryFilter struct{ keep bool }

var (
	_ Spec   = (*stripQuerySpec)(nil)
	_ Filter = (*stripQueryFilter)(nil)
)

// NewStripQuery returns the spec of stripQuery(["true"]), which removes the whole query from
// the request. With "true" (any case) each parameter is kept as a request header instead:
// ?foo=bar becomes X-Query-Param-Foo: bar, one header value per parameter value.
//
// As in Skipper, the header name keeps only the ASCII letters, digits and '-' of the
// parameter name written as a Go ASCII-quoted string (so "a b" gives X-Query-Param-Ab and
// "馬鹿" X-Query-Param-U99acu9e7f), a single argument other than "true" keeps nothing, a
// single argument that is not a string is an error, and two or more arguments are ignored.
// A value that could not be sent in a header (a client's %0a) is dropped rather than sent.
func NewStripQuery() Spec { return &stripQuerySpec{} }

func (*stripQuerySpec) Name() string { return StripQueryName }

func (*stripQuerySpec) Create(args []any) (Filter, error) {
	if len(args) != 1 {
		return &stripQueryFilter{}, nil
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, argsErrorf("%s: argument 1 (preserve as headers) must be a string, got %T", StripQueryName, args[0])
	}
	return &stripQueryFilter{keep: strings.EqualFold(s, "true")}, nil
}

func (f *stripQueryFilter) Request(r *http.Request) error {
	if f.keep && r.URL.RawQuery != "" {
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		for k, vs := range r.URL.Query() {
			name := http.CanonicalHeaderKey(stripQueryPrefix + queryHeaderName(k))
			for _, v := range vs {
				if httpsyntax.InvalidValueByte(v) < 0 {
					r.Header[name] = append(r.Header[name], v)
				}
			}
		}
	}
	r.URL.RawQuery = ""
	r.URL.ForceQuery = false
	return nil
}

// queryHeaderName is Skipper's reading of a query parameter name as part of a header name.
func queryHeaderName(k string) string {
	q := strconv.QuoteToASCII(k)
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
