package filters

import "net/http"

// DropQueryName is the route name of the filter that removes a query parameter.
const DropQueryName = "dropQuery"

type dropQuerySpec struct{}

type dropQueryFilter struct{ name template }

var (
	_ Spec   = (*dropQuerySpec)(nil)
	_ Filter = (*dropQueryFilter)(nil)
)

// NewDropQuery returns the spec of dropQuery(name), which removes every value of the query
// parameter name. As in Skipper, the query is then re-encoded, with its parameters sorted by
// name and malformed pairs dropped. The name takes the placeholders of setRequestHeader.
func NewDropQuery() Spec { return &dropQuerySpec{} }

func (*dropQuerySpec) Name() string { return DropQueryName }

func (*dropQuerySpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(DropQueryName, args, 1, "name")
	if err != nil {
		return nil, err
	}
	return &dropQueryFilter{name: parseTemplate(a[0])}, nil
}

func (f *dropQueryFilter) Request(r *http.Request) error {
	name, _ := f.name.expand(r, nil)
	q := r.URL.Query()
	q.Del(name)
	r.URL.RawQuery = q.Encode()
	return nil
}

// UsesPathParams reports whether the filter's arguments hold a path-parameter placeholder.
func (f *dropQueryFilter) UsesPathParams() bool { return f.name.usesParams() }
