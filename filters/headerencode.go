package filters

import (
	"net/http"
	"slices"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// Route names of the filters that re-encode a header's value in a legacy character set.
const (
	EncodeRequestHeaderName  = "encodeRequestHeader"
	EncodeResponseHeaderName = "encodeResponseHeader"
)

// headerCharsets are the character sets encodeRequestHeader and encodeResponseHeader know, by
// the names Skipper gives them.
var headerCharsets = map[string]*charmap.Charmap{
	"ISO8859_1": charmap.ISO8859_1, "ISO8859_2": charmap.ISO8859_2, "ISO8859_3": charmap.ISO8859_3,
	"ISO8859_4": charmap.ISO8859_4, "ISO8859_5": charmap.ISO8859_5, "ISO8859_6": charmap.ISO8859_6,
	"ISO8859_7": charmap.ISO8859_7, "ISO8859_8": charmap.ISO8859_8, "ISO8859_9": charmap.ISO8859_9,
	"ISO8859_10": charmap.ISO8859_10, "ISO8859_13": charmap.ISO8859_13, "ISO8859_14": charmap.ISO8859_14,
	"ISO8859_15": charmap.ISO8859_15, "ISO8859_16": charmap.ISO8859_16,
	"KOI8R": charmap.KOI8R, "KOI8U": charmap.KOI8U,
	"Macintosh": charmap.Macintosh, "MacintoshCyrillic": charmap.MacintoshCyrillic,
	"Windows874": charmap.Windows874, "Windows1250": charmap.Windows1250, "Windows1251": charmap.Windows1251,
	"Windows1252": charmap.Windows1252, "Windows1253": charmap.Windows1253, "Windows1254": charmap.Windows1254,
	"Windows1255": charmap.Windows1255, "Windows1256": charmap.Windows1256, "Windows1257": charmap.Windows1257,
	"Windows1258": charmap.Windows1258,
}

type headerEncodeSpec struct {
	name     string
	response bool
}

type headerEncodeFilter struct {
	response bool
	header   string // canonical
	charset  *charmap.Charmap
}

var (
	_ Spec           = (*headerEncodeSpec)(nil)
	_ ResponseFilter = (*headerEncodeFilter)(nil)
)

// NewHeaderEncodeSpecs returns the specs of encodeRequestHeader(name, charset) and
// encodeResponseHeader(name, charset), which, as Skipper's, replace the first value of the
// request's (or the answer's) header, read as UTF-8, with its bytes in charset: one of Go's
// golang.org/x/text/encoding/charmap sets, by Skipper's names ("ISO8859_1", "Windows1252",
// "KOI8R", ...). A value with a character the set cannot hold becomes empty, as in Skipper.
func NewHeaderEncodeSpecs() []Spec {
	return []Spec{
		&headerEncodeSpec{name: EncodeRequestHeaderName},
		&headerEncodeSpec{name: EncodeResponseHeaderName, response: true},
	}
}

func (s *headerEncodeSpec) Name() string { return s.name }

func (s *headerEncodeSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(s.name, args, 2, "header name", "charset")
	if err != nil {
		return nil, err
	}
	if err := checkHeaderName(s.name, 1, a[0]); err != nil {
		return nil, err
	}
	cs, ok := headerCharsets[a[1]]
	if !ok {
		names := make([]string, 0, len(headerCharsets))
		for n := range headerCharsets {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, argsErrorf("%s: argument 2 (charset) %q is not one of %s", s.name, a[1], strings.Join(names, ", "))
	}
	return &headerEncodeFilter{response: s.response, header: http.CanonicalHeaderKey(a[0]), charset: cs}, nil
}

func (f *headerEncodeFilter) Request(r *http.Request) error {
	if !f.response {
		f.encode(r.Header)
	}
	return nil
}

func (f *headerEncodeFilter) Response(res *http.Response) error {
	if f.response {
		f.encode(res.Header)
	}
	return nil
}

func (f *headerEncodeFilter) encode(h http.Header) {
	v := h.Get(f.header)
	if v == "" {
		return
	}
	enc, err := f.charset.NewEncoder().String(v)
	if err != nil {
		enc = ""
	}
	h.Set(f.header, enc)
}
