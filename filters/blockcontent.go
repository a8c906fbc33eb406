package filters

import (
	"encoding/hex"
	"errors"
	"io"
	"net/http"

	"github.com/skipper-egress/skipper/internal/echomask"
)

// Route names of the filters that refuse a request body containing given bytes.
const (
	BlockContentName    = "blockContent"
	BlockContentHexName = "blockContentHex"
)

// ErrContentBlocked ends the body of a request that blockContent or blockContentHex refused.
// The proxy answers such a request with 400, as Skipper does, when the backend did not answer
// first.
var ErrContentBlocked = errors.New("blocked string match found in body")

type blockContentSpec struct{ hex bool }

type blockContentFilter struct{ values [][]byte }

var _ Spec = (*blockContentSpec)(nil)

// NewBlockContentSpecs returns the specs of Skipper's blockContent("s", ...), which refuses a
// request whose body contains any of the strings, and blockContentHex("hex", ...), the same
// with each string written in hexadecimal. The body is scanned as it streams to the backend,
// holding back only as many bytes as the longest string less one, so that a string split
// across reads is still found; no byte of a string ever reaches the backend. The request then
// fails with 400.
func NewBlockContentSpecs() []Spec {
	return []Spec{&blockContentSpec{}, &blockContentSpec{hex: true}}
}

func (s *blockContentSpec) Name() string {
	if s.hex {
		return BlockContentHexName
	}
	return BlockContentName
}

func (s *blockContentSpec) Create(args []any) (Filter, error) {
	if len(args) == 0 {
		return nil, argsErrorf("%s: want at least one string", s.Name())
	}
	var values [][]byte
	for i, a := range args {
		v, ok := a.(string)
		if !ok {
			return nil, argsErrorf("%s: argument %d must be a string, got %T", s.Name(), i+1, a)
		}
		b := []byte(v)
		if s.hex {
			var err error
			if b, err = hex.DecodeString(v); err != nil {
				return nil, argsErrorf("%s: argument %d: %v", s.Name(), i+1, err)
			}
		}
		if len(b) == 0 {
			return nil, argsErrorf("%s: argument %d must not be empty", s.Name(), i+1)
		}
		values = append(values, b)
	}
	return &blockContentFilter{values: echomask.Values(values)}, nil
}

func (f *blockContentFilter) Request(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	r.Body = echomask.NewBlockingReader(r.Body, f.values, ErrContentBlocked)
	if getBody := r.GetBody; getBody != nil {
		// A replay (a retry, a signer's copy) must be scanned as well.
		r.GetBody = func() (io.ReadCloser, error) {
			b, err := getBody()
			if err != nil || b == http.NoBody {
				return b, err
			}
			return echomask.NewBlockingReader(b, f.values, ErrContentBlocked), nil
		}
	}
	return nil
}
