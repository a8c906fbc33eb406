package filters

import "net/http"

// SetQueryName is the route name of the filter that sets a query parameter.
const SetQueryName = "setQuery"

type setQuerySpec struct{}

type setQueryFilter struct {
	name, value template
	whole       bool // one argument: it is the whole query
}

var (
	_ Spec   = (*setQuerySpec)(nil)
	_ Filter = (*setQueryFilter)(nil)
)

// NewSetQuery returns the spec of setQuery(name[, value]). With two arguments it sets the query
// parameter name to value, replacing its values; as in Skipper, the query is then re-encoded,
// with its parameters sorted by name and malformed pairs dropped. With one argument it replaces
// the whole raw query with name. Both take the placeholders of setRequestHeader; one that
// resolves to nothing is left out.
func NewSetQuery() Spec { return &setQuerySpec{} }

func (*setQuerySpec) Name() string { return SetQueryName }

func (*setQuerySpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(SetQueryName, args, 1, "name", "value")
	if err != nil {
		return nil, err
	}
	f := &setQueryFilter{name: parseTemplate(a[0]), whole: len(a) == 1}
	if !f.whole {
		f.value = parseTemplate(a[1])
	}
	return f, nil
}

func (f *setQueryFilter) Request(r *http.Request) error {
	name, _ := f.name.expand(r, nil)
	if f.whole {
		r.URL.RawQuery = name
		return nil
	}
	value, _ := f.value.expand(r, nil)
	q := r.URL.Query()
	q.Set(name, value)
	r.URL.RawQuery = q.Encode()
	return nil
}

// UsesPathParams reports whether the filter's arguments hold a path-parameter placeholder.
func (f *setQueryFilter) UsesPathParams() bool { return f.name.usesParams() || f.value.usesParams() }
