package filters

import "net/http"

// AnnotateName is the route name of the filter that annotates a route for other filters.
const AnnotateName = "annotate"

type annotateSpec struct{}

type annotateFilter struct{}

var (
	_ Spec   = (*annotateSpec)(nil)
	_ Filter = annotateFilter{}
)

// NewAnnotate returns the spec of annotate(key, value). In Skipper it hands a key and value to
// later filters of the request; the only filters that read them (OPA and the JWT metrics) are
// among the subsystems this egress proxy leaves out, so here, as comment, it changes nothing.
// The arguments are checked as in Skipper: two strings.
func NewAnnotate() Spec { return &annotateSpec{} }

func (*annotateSpec) Name() string { return AnnotateName }

func (*annotateSpec) Create(args []any) (Filter, error) {
	if _, err := stringArgs(AnnotateName, args, 2, "key", "value"); err != nil {
		return nil, err
	}
	return annotateFilter{}, nil
}

func (annotateFilter) Request(*http.Request) error { return nil }
