package filters

import "net/http"

// CommentName is the route name of the filter that does nothing but document a route.
const CommentName = "comment"

type commentSpec struct{}

type commentFilter struct{}

var (
	_ Spec   = (*commentSpec)(nil)
	_ Filter = commentFilter{}
)

// NewComment returns the spec of comment(text), which changes nothing: it only documents the
// route or a group of its filters.
func NewComment() Spec { return &commentSpec{} }

func (*commentSpec) Name() string { return CommentName }

func (*commentSpec) Create(args []any) (Filter, error) {
	if _, err := stringArgs(CommentName, args, 1, "text"); err != nil {
		return nil, err
	}
	return commentFilter{}, nil
}

func (commentFilter) Request(*http.Request) error { return nil }
