package filters

import (
	"encoding/hex"
	"io"
	"math"
	"net/http"
	"strconv"
)

// Route names of the filters that answer with a repeated text.
const (
	RepeatContentName    = "repeatContent"
	RepeatContentHexName = "repeatContentHex"
)

type repeatContentSpec struct{ hex bool }

type repeatContentFilter struct {
	unit        []byte
	length      int64
	contentType string
}

var (
	_ Spec           = (*repeatContentSpec)(nil)
	_ Filter         = (*repeatContentFilter)(nil)
	_ ResponseFilter = (*repeatContentFilter)(nil)
)

// NewRepeatContent returns the spec of repeatContent(text, length), which answers the client
// with a body of length bytes, text repeated (the last copy cut short), as Skipper's: status
// 200 (or that of a status filter before it), the content type sniffed from the body. The
// body is streamed, never held whole. The backend is not called and the later request filters
// do not run.
func NewRepeatContent() Spec { return &repeatContentSpec{} }

// NewRepeatContentHex returns the spec of repeatContentHex(hex, length), repeatContent with
// the bytes that hex, an even number of hexadecimal digits, spells.
func NewRepeatContentHex() Spec { return &repeatContentSpec{hex: true} }

func (s *repeatContentSpec) Name() string {
	if s.hex {
		return RepeatContentHexName
	}
	return RepeatContentName
}

func (s *repeatContentSpec) Create(args []any) (Filter, error) {
	if len(args) != 2 {
		return nil, argsErrorf("%s: want 2 arguments (text, length), got %d", s.Name(), len(args))
	}
	text, ok := args[0].(string)
	if !ok || text == "" {
		return nil, argsErrorf("%s: argument 1 (text) must be a non-empty string, got %#v", s.Name(), args[0])
	}
	unit := []byte(text)
	if s.hex {
		var err error
		if unit, err = hex.DecodeString(text); err != nil {
			return nil, argsErrorf("%s: argument 1 (text) is not hexadecimal: %v", s.Name(), err)
		}
	}
	n, ok := args[1].(float64)
	if !ok || n < 0 || n != math.Trunc(n) || n > math.MaxInt64/2 {
		return nil, argsErrorf("%s: argument 2 (length) must be a whole number of bytes, got %#v", s.Name(), args[1])
	}
	f := &repeatContentFilter{unit: unit, length: int64(n)}
	head, _ := io.ReadAll(f.body(512))
	f.contentType = http.DetectContentType(head)
	return f, nil
}

// Request answers; Response, which runs on that answer, gives it its body.
func (f *repeatContentFilter) Request(*http.Request) error {
	return &Reply{Header: http.Header{"Content-Type": {f.contentType}}}
}

func (f *repeatContentFilter) Response(res *http.Response) error {
	if res.Header == nil {
		res.Header = make(http.Header)
	}
	res.Body = io.NopCloser(f.body(f.length))
	res.ContentLength = f.length
	res.Header.Set("Content-Length", strconv.FormatInt(f.length, 10))
	return nil
}

// body returns the first n bytes of the endless repetition of f.unit.
func (f *repeatContentFilter) body(n int64) io.Reader {
	return io.LimitReader(&repeatReader{unit: f.unit}, min(n, f.length))
}

// repeatReader reads its unit over and over.
type repeatReader struct {
	unit []byte
	off  int // where in unit the next Read starts
}

// Read fills p: the rest of the unit, then whole units, doubling what is already in p so that
// a one-byte unit does not cost a copy per byte.
func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.unit[r.off:])
	start := n // p[start:] begins with a whole unit
	for n < len(p) {
		if n-start < len(r.unit) {
			n += copy(p[n:], r.unit)
		} else {
			n += copy(p[n:], p[start:n]) // a whole number of units
		}
	}
	r.off = (r.off + len(p)) % len(r.unit)
	return len(p), nil
}
