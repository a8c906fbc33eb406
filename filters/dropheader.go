package filters

import (
	"net/http"
	"slices"
)

// DropRequestHeaderName is the route name of the filter that removes a request header.
const DropRequestHeaderName = "dropRequestHeader"

type dropHeaderSpec struct{}

type dropHeaderFilter struct {
	header string // canonical
	value  *string
}

var (
	_ Spec   = (*dropHeaderSpec)(nil)
	_ Filter = (*dropHeaderFilter)(nil)
)

// NewDropRequestHeader returns the spec of dropRequestHeader(name[, value]), which removes every
// instance of the named request header, or with value only those equal to it, as Skipper's;
// the name is matched case-insensitively.
//
// dropRequestHeader("Host") is accepted and changes nothing, as in Skipper: the outgoing Host is
// not a header in Go and a request always has one.
func NewDropRequestHeader() Spec { return &dropHeaderSpec{} }

func (*dropHeaderSpec) Name() string { return DropRequestHeaderName }

func (*dropHeaderSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(DropRequestHeaderName, args, 1, "header name", "value")
	if err != nil {
		return nil, err
	}
	if err := checkHeaderName(DropRequestHeaderName, 1, a[0]); err != nil {
		return nil, err
	}
	f := &dropHeaderFilter{header: http.CanonicalHeaderKey(a[0])}
	if len(a) == 2 {
		f.value = &a[1]
	}
	return f, nil
}

func (f *dropHeaderFilter) Request(r *http.Request) error {
	dropHeaderValues(r.Header, f.header, f.value)
	return nil
}

// dropHeaderValues removes the values of key in h that equal *value, or all of them when value
// is nil; a header left without values is removed.
func dropHeaderValues(h http.Header, key string, value *string) {
	if value == nil {
		delete(h, key)
		return
	}
	dropHeaderValuesFunc(h, key, func(v string) bool { return v == *value })
}

// dropHeaderValuesFunc removes the values of key in h for which drop is true; a header left
// without values is removed. The values are copied only when one is dropped, so that a slice
// the header shares with another (a request's clone) is never changed.
func dropHeaderValuesFunc(h http.Header, key string, drop func(string) bool) {
	vs := h[key]
	if !slices.ContainsFunc(vs, drop) {
		return
	}
	if vs = slices.DeleteFunc(slices.Clone(vs), drop); len(vs) == 0 {
		delete(h, key)
		return
	}
	h[key] = vs
}
