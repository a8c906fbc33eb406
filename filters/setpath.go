package filters

import "net/http"

// SetPathName is the route name of the filter that replaces the request path.
const SetPathName = "setPath"

type setPathSpec struct{}

type setPathFilter struct{ path template }

var (
	_ Spec   = (*setPathSpec)(nil)
	_ Filter = (*setPathFilter)(nil)
)

// NewSetPath returns the spec of setPath(path), which replaces the path of the request sent to
// the backend. The path takes the placeholders of setRequestHeader; as in Skipper, one that
// resolves to nothing is left out and the path is still set. The query is kept.
func NewSetPath() Spec { return &setPathSpec{} }

func (*setPathSpec) Name() string { return SetPathName }

func (*setPathSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(SetPathName, args, 1, "path")
	if err != nil {
		return nil, err
	}
	return &setPathFilter{path: parseTemplate(a[0])}, nil
}

func (f *setPathFilter) Request(r *http.Request) error {
	r.URL.Path, _ = f.path.expand(r, nil)
	// Go sends RawPath only while it still encodes Path, so a stale one is ignored.
	return nil
}

// UsesPathParams reports whether the filter's arguments hold a path-parameter placeholder.
func (f *setPathFilter) UsesPathParams() bool { return f.path.usesParams() }
