package filters

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"regexp"
)

// Route names of the filters that rewrite a body with a regular expression.
const (
	SedName             = "sed"
	SedDelimName        = "sedDelim"
	SedRequestName      = "sedRequest"
	SedRequestDelimName = "sedRequestDelim"
)

// sedMaxBuffer is the default of how much of a body sed holds at once, Skipper's.
const sedMaxBuffer = 2 << 20

// errSedBufferFull fails a body that outgrew the buffer of a sed filter set to "abort".
var errSedBufferFull = errors.New("sed: body exceeds the filter's buffer")

type sedSpec struct {
	name           string
	delim, request bool
}

type sedFilter struct {
	rx          *regexp.Regexp
	replacement []byte
	delim       []byte // nil: the whole body, as far as the buffer holds it
	max         int
	abort       bool
	request     bool
}

var (
	_ Spec           = (*sedSpec)(nil)
	_ ResponseFilter = (*sedFilter)(nil)
)

// NewSedSpecs returns the specs of Skipper's sed filters, which replace every match of a
// regular expression in a body with a replacement ($1 for submatches), as Go's
// Regexp.ReplaceAll does:
//
//   - sed(pattern, replacement[, max buffer[, "best-effort"|"abort"]]): the answer's body;
//   - sedDelim(pattern, replacement, delimiter[, max buffer[, ...]]): the answer's body, each
//     piece between delimiters apart;
//   - sedRequest(...), sedRequestDelim(...): the same on the request body sent to the backend.
//
// A match may span at most max buffer bytes (default 2 MiB): without a delimiter the body is
// held until its end or until that many bytes, and then rewritten; with one, each piece is
// rewritten as soon as it is complete. A piece longer than the buffer is rewritten as if it
// were complete ("best-effort", the default) or ends the body with an error ("abort"). The
// rewritten body has no Content-Length.
func NewSedSpecs() []Spec {
	return []Spec{
		&sedSpec{name: SedName}, &sedSpec{name: SedDelimName, delim: true},
		&sedSpec{name: SedRequestName, request: true}, &sedSpec{name: SedRequestDelimName, delim: true, request: true},
	}
}

func (s *sedSpec) Name() string { return s.name }

func (s *sedSpec) Create(args []any) (Filter, error) {
	fixed := 2
	if s.delim {
		fixed = 3
	}
	if len(args) < fixed || len(args) > fixed+2 {
		return nil, argsErrorf("%s: want %d to %d arguments, got %d", s.name, fixed, fixed+2, len(args))
	}
	a, err := stringArgs(s.name, args[:fixed], fixed, "pattern", "replacement", "delimiter")
	if err != nil {
		return nil, err
	}
	f := &sedFilter{replacement: []byte(a[1]), max: sedMaxBuffer, request: s.request}
	if f.rx, err = regexp.Compile(a[0]); err != nil {
		return nil, argsErrorf("%s: argument 1 (pattern): %v", s.name, err)
	}
	if s.delim {
		if a[2] == "" {
			return nil, argsErrorf("%s: argument 3 (delimiter) must not be empty", s.name)
		}
		f.delim = []byte(a[2])
	}
	if len(args) > fixed {
		n, ok := args[fixed].(float64)
		if !ok || n < 1 || n != math.Trunc(n) || n > math.MaxInt32 {
			return nil, argsErrorf("%s: argument %d (max buffer) must be a positive whole number of bytes, got %#v", s.name, fixed+1, args[fixed])
		}
		f.max = int(n)
	}
	if len(args) > fixed+1 {
		switch args[fixed+1] {
		case "best-effort":
		case "abort":
			f.abort = true
		default:
			return nil, argsErrorf("%s: argument %d must be \"best-effort\" or \"abort\", got %#v", s.name, fixed+2, args[fixed+1])
		}
	}
	return f, nil
}

func (f *sedFilter) Request(r *http.Request) error {
	if f.request && r.Body != nil {
		r.Body = &sedBody{src: r.Body, f: f}
		r.ContentLength = -1
		r.Header.Del("Content-Length")
	}
	return nil
}

func (f *sedFilter) Response(res *http.Response) error {
	if f.request || res.Body == nil || res.StatusCode == http.StatusSwitchingProtocols {
		return nil
	}
	res.Body = &sedBody{src: res.Body, f: f}
	res.ContentLength = -1
	res.Header.Del("Content-Length")
	return nil
}

// sedBody rewrites src piece by piece: out holds rewritten bytes to hand out, in the bytes
// read and not yet rewritten.
type sedBody struct {
	src     io.ReadCloser
	f       *sedFilter
	in, out bytes.Buffer
	buf     []byte // for reading src
	eof     bool
	err     error
}

func (b *sedBody) Read(p []byte) (int, error) {
	for b.out.Len() == 0 && b.err == nil {
		b.fill()
	}
	if b.out.Len() > 0 {
		return b.out.Read(p)
	}
	return 0, b.err
}

// fill reads more of src and rewrites what is complete.
func (b *sedBody) fill() {
	if b.eof {
		b.flush(b.in.Len())
		b.err = io.EOF
		return
	}
	if b.buf == nil {
		b.buf = make([]byte, 32<<10)
	}
	n, err := b.src.Read(b.buf)
	b.in.Write(b.buf[:n])
	if err == io.EOF {
		b.eof = true
	} else if err != nil {
		b.err = err
		return
	}
	if b.f.delim != nil {
		for {
			i := bytes.Index(b.in.Bytes(), b.f.delim)
			if i < 0 {
				break
			}
			b.flush(i)
			b.out.Write(b.in.Next(len(b.f.delim)))
		}
	}
	if b.in.Len() > b.f.max {
		if b.f.abort {
			b.err = errSedBufferFull
			return
		}
		b.flush(b.in.Len()) // best effort: as if the piece were complete
	}
}

// flush rewrites the first n bytes of in into out.
func (b *sedBody) flush(n int) {
	b.out.Write(b.f.rx.ReplaceAll(b.in.Next(n), b.f.replacement))
}

func (b *sedBody) Close() error { return b.src.Close() }
