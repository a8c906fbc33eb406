package filters

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

// InlineContentIfStatusName is the route name of the filter that replaces the body of answers
// of one status.
const InlineContentIfStatusName = "inlineContentIfStatus"

type inlineContentIfStatusSpec struct{}

type inlineContentIfStatusFilter struct {
	code        int
	body        string
	contentType string
}

var (
	_ Spec           = (*inlineContentIfStatusSpec)(nil)
	_ Filter         = (*inlineContentIfStatusFilter)(nil)
	_ ResponseFilter = (*inlineContentIfStatusFilter)(nil)
)

// NewInlineContentIfStatus returns the spec of inlineContentIfStatus(code, body[, content
// type]), which replaces the body of an answer whose status is code, a whole number from 100
// to 599, with body, keeping the status. As in Skipper, the status is the one the filter sees
// as a response filter: the backend's, or one that a later filter on the route set; answers
// skipper makes itself (a <shunt>, inlineContent) are replaced too. Without a content type, it
// is sniffed from body with http.DetectContentType. The answer's Content-Encoding is dropped
// and its Content-Length is that of body.
func NewInlineContentIfStatus() Spec { return &inlineContentIfStatusSpec{} }

func (*inlineContentIfStatusSpec) Name() string { return InlineContentIfStatusName }

func (*inlineContentIfStatusSpec) Create(args []any) (Filter, error) {
	if len(args) != 2 && len(args) != 3 {
		return nil, argsErrorf("%s: want 2 or 3 arguments (status code, body[, content type]), got %d",
			InlineContentIfStatusName, len(args))
	}
	code, err := statusArg(InlineContentIfStatusName, 1, args[0], 100, 599)
	if err != nil {
		return nil, err
	}
	body, ok := args[1].(string)
	if !ok {
		return nil, argsErrorf("%s: argument 2 (body) must be a string, got %T", InlineContentIfStatusName, args[1])
	}
	f := &inlineContentIfStatusFilter{code: code, body: body}
	if len(args) == 3 {
		ct, ok := args[2].(string)
		if !ok {
			return nil, argsErrorf("%s: argument 3 (content type) must be a string, got %T", InlineContentIfStatusName, args[2])
		}
		if err := checkHeaderText(InlineContentIfStatusName, 3, "content type", ct); err != nil {
			return nil, err
		}
		f.contentType = ct
	}
	if f.contentType == "" {
		f.contentType = http.DetectContentType([]byte(f.body))
	}
	return f, nil
}

func (*inlineContentIfStatusFilter) Request(*http.Request) error { return nil }

func (f *inlineContentIfStatusFilter) Response(res *http.Response) error {
	if res.StatusCode != f.code {
		return nil
	}
	replaceBody(res, f.body)
	res.Header.Set("Content-Type", f.contentType)
	return nil
}

// replaceBody makes body the whole body of res, with its length. The old body, if any, is left
// for the proxy to close: it closes the backend's body itself. What described the old content
// (its encoding, its trailers) goes with it.
func replaceBody(res *http.Response, body string) {
	if res.Header == nil {
		res.Header = make(http.Header)
	}
	res.Body = io.NopCloser(strings.NewReader(body))
	res.ContentLength = int64(len(body))
	res.Header.Set("Content-Length", strconv.Itoa(len(body)))
	res.Header.Del("Content-Encoding")
	res.Trailer = nil
}
