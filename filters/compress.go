package filters

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// CompressName is the route name of the filter that compresses the response.
const CompressName = "compress"

// compressLevels are the levels Skipper takes: flate's HuffmanOnly (-2) to brotli's best (11).
// gzip and deflate cap them at their best, 9.
const (
	compressLevelMin = flate.HuffmanOnly
	compressLevelMax = 11
)

// defaultCompressTypes are the media types compress() compresses, Skipper's list.
var defaultCompressTypes = []string{
	"text/plain", "text/html", "application/json", "application/javascript",
	"application/x-javascript", "text/javascript", "text/css", "image/svg+xml",
	"application/octet-stream",
}

// compressEncodings are the encodings compress writes, in the order it prefers them when the
// client rates them the same. Skipper also writes br, with a brotli module this proxy does not
// carry; a client that accepts only br gets the response as it is.
var compressEncodings = []string{"gzip", "deflate"}

type compressSpec struct{}

type compressFilter struct {
	types []string
	level int
	// gzips and zlibs keep the route's encoders, which cost hundreds of kilobytes each to
	// make, for the next response.
	gzips, zlibs sync.Pool
}

// encoder is a gzip or zlib writer.
type encoder interface {
	io.WriteCloser
	Flush() error
	Reset(io.Writer)
}

var (
	_ Spec           = (*compressSpec)(nil)
	_ ResponseFilter = (*compressFilter)(nil)
)

// NewCompress returns the spec of compress([level][, "..."][, type...]), which compresses
// the backend's response with gzip or deflate, whichever the client's Accept-Encoding rates
// higher (gzip on a tie; no Accept-Encoding, or only "*", means no compression), as Skipper's:
// only a response whose media type is listed (by default Skipper's list of text, JSON,
// JavaScript, CSS, SVG and octet-stream types; listed types replace it, and after "..." extend
// it), that has no Content-Encoding other than identity, and no Cache-Control no-transform.
// level is -2 (Huffman only) to 11 (best), capped at 9; the default is 1 (best speed). The
// compressed answer has no Content-Length, Content-Encoding the encoding and Vary:
// Accept-Encoding. The body is compressed as it streams, each backend read flushed.
//
// Unlike Skipper's, it leaves alone answers that carry no content (204, 304, 1xx) and partial
// ones (206), whose Content-Range a compressed body would contradict, and it writes deflate
// in the zlib format that RFC 9110 §8.4.1.2 names.
func NewCompress() Spec { return &compressSpec{} }

func (*compressSpec) Name() string { return CompressName }

func (*compressSpec) Create(args []any) (Filter, error) {
	f := &compressFilter{types: defaultCompressTypes, level: flate.BestSpeed}
	if len(args) > 0 {
		if n, ok := args[0].(float64); ok {
			if n != math.Trunc(n) || n < compressLevelMin || n > compressLevelMax {
				return nil, argsErrorf("%s: argument 1 (level) must be a whole number from %d to %d, got %v",
					CompressName, compressLevelMin, compressLevelMax, n)
			}
			f.level = int(n)
			args = args[1:]
		}
	}
	if len(args) == 0 {
		return f, nil
	}
	if args[0] == "..." {
		f.types = slices.Clone(defaultCompressTypes)
		args = args[1:]
	} else {
		f.types = nil
	}
	for _, a := range args {
		s, ok := a.(string)
		if !ok {
			return nil, argsErrorf("%s: a media type must be a string, got %T", CompressName, a)
		}
		f.types = append(f.types, s)
	}
	return f, nil
}

func (*compressFilter) Request(*http.Request) error { return nil }

func (f *compressFilter) Response(res *http.Response) error {
	if res.Body == nil || !f.compressible(res) {
		return nil
	}
	var accept string
	if res.Request != nil {
		accept = strings.Join(res.Request.Header.Values("Accept-Encoding"), ",")
	}
	enc := chooseEncoding(accept)
	if enc == "" {
		return nil
	}
	res.Header.Del("Content-Length")
	res.ContentLength = -1
	res.Header.Set("Content-Encoding", enc)
	if !slices.ContainsFunc(res.Header.Values("Vary"), func(v string) bool {
		return slices.ContainsFunc(strings.Split(v, ","), func(t string) bool {
			return strings.EqualFold(strings.TrimSpace(t), "Accept-Encoding")
		})
	}) {
		res.Header.Add("Vary", "Accept-Encoding")
	}
	b := &compressedBody{src: res.Body, enc: f.encoder(enc), pool: f.pool(enc), in: make([]byte, 8192)}
	b.enc.Reset(&b.buf)
	res.Body = b
	return nil
}

func (f *compressFilter) pool(enc string) *sync.Pool {
	if enc == "gzip" {
		return &f.gzips
	}
	return &f.zlibs
}

// encoder returns an encoder for enc from the route's pool, or a new one.
func (f *compressFilter) encoder(enc string) encoder {
	if e, ok := f.pool(enc).Get().(encoder); ok {
		return e
	}
	level := min(f.level, flate.BestCompression)
	if enc == "gzip" {
		e, _ := gzip.NewWriterLevel(nil, level) // the level was checked when the route loaded
		return e
	}
	e, _ := zlib.NewWriterLevel(nil, level)
	return e
}

// compressible reports whether res is an answer compress may encode.
func (f *compressFilter) compressible(res *http.Response) bool {
	switch s := res.StatusCode; {
	case s < 200, s == http.StatusNoContent, s == http.StatusNotModified, s == http.StatusPartialContent:
		return false
	}
	if ce := res.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return false
	}
	if strings.Contains(strings.ToLower(res.Header.Get("Cache-Control")), "no-transform") {
		return false
	}
	ct, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";")
	return slices.Contains(f.types, ct)
}

// chooseEncoding returns the encoding of compressEncodings the Accept-Encoding value rates
// highest, "" if none is acceptable. As Skipper, it reads q as a number from 0 to 1 and
// ignores a malformed one, and it ignores "*".
func chooseEncoding(accept string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		rank := slices.Index(compressEncodings, name)
		if rank < 0 {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if p, err := strconv.ParseFloat(v, 32); err == nil && p >= 0 && p <= 1 {
				q = p
			}
		}
		if q > 0 && (q > bestQ || q == bestQ && rank < slices.Index(compressEncodings, best)) {
			best, bestQ = name, q
		}
	}
	return best
}

// compressedBody compresses src as it is read, without a goroutine: each read of src is
// written to the encoder and flushed, and the compressed bytes are handed out from buf.
type compressedBody struct {
	src  io.ReadCloser
	enc  encoder    // nil once handed back
	pool *sync.Pool // where enc goes back once the body ended cleanly
	buf  bytes.Buffer
	in   []byte
}

func (b *compressedBody) Read(p []byte) (int, error) {
	for b.buf.Len() == 0 && b.enc != nil {
		n, err := b.src.Read(b.in)
		if n > 0 {
			if _, werr := b.enc.Write(b.in[:n]); werr != nil {
				return 0, werr
			}
			if werr := b.enc.Flush(); werr != nil {
				return 0, werr
			}
		}
		if err == io.EOF {
			if werr := b.enc.Close(); werr != nil {
				return 0, werr
			}
			// The proxy closes the backend's body, not this one: the encoder goes back now.
			b.enc.Reset(io.Discard)
			b.pool.Put(b.enc)
			b.enc = nil
		} else if err != nil {
			return 0, err
		}
	}
	if b.buf.Len() == 0 {
		return 0, io.EOF
	}
	return b.buf.Read(p)
}

func (b *compressedBody) Close() error { return b.src.Close() }
