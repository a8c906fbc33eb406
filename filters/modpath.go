package filters

import (
	"net/http"
	"regexp"
)

// ModPathName is the route name of the filter that rewrites the request path with a regexp.
const ModPathName = "modPath"

type modPathSpec struct{}

type modPathFilter struct {
	rx          *regexp.Regexp
	replacement string
}

var (
	_ Spec   = (*modPathSpec)(nil)
	_ Filter = (*modPathFilter)(nil)
)

// NewModPath returns the spec of modPath(regexp, replacement), which replaces every match of
// regexp in the request path with replacement, where $1 or ${name} stand for submatches
// (regexp.ReplaceAllString). The path is the decoded one; the query is kept.
func NewModPath() Spec { return &modPathSpec{} }

func (*modPathSpec) Name() string { return ModPathName }

func (*modPathSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(ModPathName, args, 2, "regexp", "replacement")
	if err != nil {
		return nil, err
	}
	rx, err := regexp.Compile(a[0])
	if err != nil {
		return nil, argsErrorf("%s: argument 1 (regexp): %v", ModPathName, err)
	}
	return &modPathFilter{rx: rx, replacement: a[1]}, nil
}

func (f *modPathFilter) Request(r *http.Request) error {
	r.URL.Path = f.rx.ReplaceAllString(r.URL.Path, f.replacement)
	return nil
}
