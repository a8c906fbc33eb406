package filters

import (
	"net/http"
)

// InlineContentName is the route name of the filter that answers with a fixed body.
const InlineContentName = "inlineContent"

type inlineContentSpec struct{}

type inlineContentFilter struct {
	body        string
	contentType string
}

var (
	_ Spec   = (*inlineContentSpec)(nil)
	_ Filter = (*inlineContentFilter)(nil)
)

// NewInlineContent returns the spec of inlineContent(body[, content type]), which answers the
// client with body itself: the backend is not called and the later request filters do not run.
// Without a content type, it is sniffed from the body with http.DetectContentType.
//
// The filter's Reply has Status 0, which the proxy replaces with the status of the last status
// filter before this one on the route, or 200 without one, as Skipper answers.
func NewInlineContent() Spec { return &inlineContentSpec{} }

func (*inlineContentSpec) Name() string { return InlineContentName }

func (*inlineContentSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(InlineContentName, args, 1, "body", "content type")
	if err != nil {
		return nil, err
	}
	f := &inlineContentFilter{body: a[0]}
	if len(a) == 2 {
		if err := checkHeaderText(InlineContentName, 2, "content type", a[1]); err != nil {
			return nil, err
		}
		f.contentType = a[1]
	}
	if f.contentType == "" {
		f.contentType = http.DetectContentType([]byte(f.body))
	}
	return f, nil
}

// Request answers with the body. A new Reply per request, since the proxy may fill its status.
func (f *inlineContentFilter) Request(*http.Request) error {
	return &Reply{Header: http.Header{"Content-Type": {f.contentType}}, Body: f.body}
}
