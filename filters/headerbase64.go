package filters

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// Route names of the filters that encode a header's value in base64, or decode it.
const (
	EncodeBase64RequestHeaderName  = "encodeBase64RequestHeader"
	EncodeBase64ResponseHeaderName = "encodeBase64ResponseHeader"
	DecodeBase64RequestHeaderName  = "decodeBase64RequestHeader"
	DecodeBase64ResponseHeaderName = "decodeBase64ResponseHeader"
)

type headerBase64Spec struct {
	name             string
	decode, response bool
}

type headerBase64Filter struct {
	decode, response bool
	header           string // canonical
	part             int    // the whitespace-separated part to change; -1: the whole value
}

var (
	_ Spec           = (*headerBase64Spec)(nil)
	_ ResponseFilter = (*headerBase64Filter)(nil)
)

// NewHeaderBase64Specs returns the specs of encodeBase64RequestHeader(name[, part]),
// encodeBase64ResponseHeader, decodeBase64RequestHeader and decodeBase64ResponseHeader, which,
// as Skipper's, replace the first value of the request's (or the answer's) header with its
// standard base64 encoding or decoding. With part, a number from 0, only that part of the
// value is changed: the value is split at white space and joined again with single spaces, so
// that decodeBase64RequestHeader("Authorization", 1) turns "Basic dTpw" into "Basic u:p".
// A header that is missing or empty, a part that is not there and a value that does not decode
// leave the header as it was, and so does a decoded value that a header cannot carry (a
// control character, say), which Skipper would try to send.
func NewHeaderBase64Specs() []Spec {
	return []Spec{
		&headerBase64Spec{name: EncodeBase64RequestHeaderName},
		&headerBase64Spec{name: EncodeBase64ResponseHeaderName, response: true},
		&headerBase64Spec{name: DecodeBase64RequestHeaderName, decode: true},
		&headerBase64Spec{name: DecodeBase64ResponseHeaderName, decode: true, response: true},
	}
}

func (s *headerBase64Spec) Name() string { return s.name }

func (s *headerBase64Spec) Create(args []any) (Filter, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, argsErrorf("%s: want 1 or 2 arguments (header name[, part]), got %d", s.name, len(args))
	}
	name, ok := args[0].(string)
	if !ok {
		return nil, argsErrorf("%s: argument 1 (header name) must be a string, got %T", s.name, args[0])
	}
	if err := checkHeaderName(s.name, 1, name); err != nil {
		return nil, err
	}
	f := &headerBase64Filter{decode: s.decode, response: s.response, header: http.CanonicalHeaderKey(name), part: -1}
	if len(args) == 2 {
		n, ok := args[1].(float64)
		if !ok {
			return nil, argsErrorf("%s: argument 2 (part) must be a number, got %T", s.name, args[1])
		}
		// As Skipper: the number is truncated toward 0, and a negative one names no part.
		f.part = -2
		if n > -1 && n < 1<<30 {
			f.part = int(n)
		}
	}
	return f, nil
}

func (f *headerBase64Filter) Request(r *http.Request) error {
	if !f.response {
		f.change(r.Header)
	}
	return nil
}

func (f *headerBase64Filter) Response(res *http.Response) error {
	if f.response {
		f.change(res.Header)
	}
	return nil
}

func (f *headerBase64Filter) change(h http.Header) {
	v := h.Get(f.header)
	if v == "" {
		return
	}
	if f.part == -1 {
		if v, ok := f.convert(v); ok {
			h.Set(f.header, v)
		}
		return
	}
	parts := strings.Fields(v)
	if f.part < 0 || f.part >= len(parts) {
		return
	}
	p, ok := f.convert(parts[f.part])
	if !ok {
		return
	}
	parts[f.part] = p
	h.Set(f.header, strings.Join(parts, " "))
}

// convert encodes or decodes s; ok is false when s does not decode, or decodes to something a
// header value cannot hold.
func (f *headerBase64Filter) convert(s string) (string, bool) {
	if !f.decode {
		return base64.StdEncoding.EncodeToString([]byte(s)), true
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || httpsyntax.InvalidValueByte(string(b)) >= 0 {
		return "", false
	}
	return string(b), true
}
