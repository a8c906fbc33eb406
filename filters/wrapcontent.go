package filters

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
)

// Route names of the filters that put text around the response body.
const (
	WrapContentName    = "wrapContent"
	WrapContentHexName = "wrapContentHex"
)

type wrapContentSpec struct{ hex bool }

type wrapContentFilter struct{ prefix, suffix []byte }

var (
	_ Spec           = (*wrapContentSpec)(nil)
	_ ResponseFilter = (*wrapContentFilter)(nil)
)

// NewWrapContent returns the spec of wrapContent(prefix, suffix), which, as Skipper's, puts
// prefix before and suffix after the answer's body, the backend's or inlineContent's, and
// adds their length to a Content-Length. The body streams through.
func NewWrapContent() Spec { return &wrapContentSpec{} }

// NewWrapContentHex returns the spec of wrapContentHex(prefix, suffix), wrapContent with the
// bytes that prefix and suffix, hexadecimal digits, spell.
func NewWrapContentHex() Spec { return &wrapContentSpec{hex: true} }

func (s *wrapContentSpec) Name() string {
	if s.hex {
		return WrapContentHexName
	}
	return WrapContentName
}

func (s *wrapContentSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(s.Name(), args, 2, "prefix", "suffix")
	if err != nil {
		return nil, err
	}
	f := &wrapContentFilter{prefix: []byte(a[0]), suffix: []byte(a[1])}
	if s.hex {
		if f.prefix, err = hex.DecodeString(a[0]); err != nil {
			return nil, argsErrorf("%s: argument 1 (prefix) is not hexadecimal: %v", s.Name(), err)
		}
		if f.suffix, err = hex.DecodeString(a[1]); err != nil {
			return nil, argsErrorf("%s: argument 2 (suffix) is not hexadecimal: %v", s.Name(), err)
		}
	}
	return f, nil
}

func (*wrapContentFilter) Request(*http.Request) error { return nil }

func (f *wrapContentFilter) Response(res *http.Response) error {
	if res.Body == nil || res.StatusCode == http.StatusSwitchingProtocols {
		return nil
	}
	extra := int64(len(f.prefix) + len(f.suffix))
	if n, err := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64); err == nil {
		res.Header.Set("Content-Length", strconv.FormatInt(n+extra, 10))
	}
	if res.ContentLength >= 0 {
		res.ContentLength += extra
	}
	res.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(f.prefix), res.Body, bytes.NewReader(f.suffix)), res.Body}
	return nil
}
