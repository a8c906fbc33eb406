package filters

import (
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
)

// RandomContentName is the route name of the filter that answers with random text.
const RandomContentName = "randomContent"

// randomChars are the bytes of randomContent's text, Skipper's letters and digits.
const randomChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

type randomContentSpec struct{}

type randomContentFilter struct{ length int64 }

var (
	_ Spec           = (*randomContentSpec)(nil)
	_ Filter         = (*randomContentFilter)(nil)
	_ ResponseFilter = (*randomContentFilter)(nil)
)

// NewRandomContent returns the spec of randomContent(length), which answers the client with
// length random letters and digits, as Skipper's: status 200 (or that of a status filter before
// it), text/plain. The text is made as it is sent, never held whole, from a fast generator
// that is not for secrets. The backend is not called and the later request filters do not run.
func NewRandomContent() Spec { return &randomContentSpec{} }

func (*randomContentSpec) Name() string { return RandomContentName }

func (*randomContentSpec) Create(args []any) (Filter, error) {
	if len(args) != 1 {
		return nil, argsErrorf("%s: want 1 argument (length), got %d", RandomContentName, len(args))
	}
	n, ok := args[0].(float64)
	if !ok || n < 0 || n > math.MaxInt64/2 {
		return nil, argsErrorf("%s: argument 1 (length) must be a number of bytes, got %#v", RandomContentName, args[0])
	}
	return &randomContentFilter{length: int64(n)}, nil // a fraction is cut, as in Skipper
}

// Request answers; Response, which runs on that answer, gives it its body.
func (f *randomContentFilter) Request(*http.Request) error {
	return &Reply{Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}}
}

func (f *randomContentFilter) Response(res *http.Response) error {
	if res.Header == nil {
		res.Header = make(http.Header)
	}
	res.Body = io.NopCloser(io.LimitReader(randomText{}, f.length))
	res.ContentLength = f.length
	res.Header.Set("Content-Length", strconv.FormatInt(f.length, 10))
	return nil
}

// randomText reads random letters and digits.
type randomText struct{}

func (randomText) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = randomChars[rand.IntN(len(randomChars))]
	}
	return len(p), nil
}
