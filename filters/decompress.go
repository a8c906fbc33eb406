package filters

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DecompressName is the route name of the filter that decompresses the response.
const DecompressName = "decompress"

type decompressSpec struct{}

type decompressFilter struct{}

var (
	_ Spec           = (*decompressSpec)(nil)
	_ ResponseFilter = decompressFilter{}
)

// NewDecompress returns the spec of decompress(), which undoes the backend's Content-Encoding
// when every coding in it is gzip or deflate (in either form: zlib, as RFC 9110 names it, or
// raw, as Skipper's compress writes it); the answer then has neither Content-Encoding, nor
// Content-Length, nor Vary, as from Skipper. Other codings (br, zstd) are left as they are.
// A body that does not start as its coding says fails the request with 500 rather than
// reaching the client empty, as it would from Skipper.
func NewDecompress() Spec { return &decompressSpec{} }

func (*decompressSpec) Name() string { return DecompressName }

func (*decompressSpec) Create(args []any) (Filter, error) {
	return decompressFilter{}, nil // Skipper ignores any arguments
}

func (decompressFilter) Request(*http.Request) error { return nil }

func (decompressFilter) Response(res *http.Response) error {
	if res.Body == nil {
		return nil
	}
	var codings []string
	for _, v := range res.Header.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" {
				if c != "gzip" && c != "deflate" {
					return nil
				}
				codings = append(codings, c)
			}
		}
	}
	if len(codings) == 0 {
		return nil
	}
	res.Header.Del("Content-Encoding")
	res.Header.Del("Content-Length")
	res.Header.Del("Vary")
	if res.ContentLength == 0 || !bodyAllowed(res) {
		return nil // nothing to decode: a HEAD, a 204 or 304, an empty body
	}
	var body io.Reader = res.Body
	for i := len(codings) - 1; i >= 0; i-- { // the last coding applied comes off first
		var err error
		if body, err = decoder(codings[i], body); err != nil {
			return fmt.Errorf("%s: backend body is not %s: %w", DecompressName, codings[i], err)
		}
	}
	res.ContentLength = -1
	res.Body = struct {
		io.Reader
		io.Closer
	}{body, res.Body}
	return nil
}

// decoder returns a reader of r decoded from coding. gzip reads its header here; deflate
// looks at its first two bytes to tell zlib's wrapping from raw deflate.
func decoder(coding string, r io.Reader) (io.Reader, error) {
	if coding == "gzip" {
		return gzip.NewReader(r)
	}
	br := bufio.NewReader(r)
	head, err := br.Peek(2)
	if err != nil && len(head) < 2 {
		return nil, err
	}
	if head[0]&0x0f == 8 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// bodyAllowed reports whether res, by its status and its request's method, may carry a body.
func bodyAllowed(res *http.Response) bool {
	if res.Request != nil && res.Request.Method == http.MethodHead {
		return false
	}
	s := res.StatusCode
	return s >= 200 && s != http.StatusNoContent && s != http.StatusNotModified
}
