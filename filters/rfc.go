package filters

import (
	"net/http"
	"strings"
)

// Route names of the filters that keep the outgoing request as RFC 3986 and RFC 9110 have it.
const (
	RFCPathName = "rfcPath"
	RFCHostName = "rfcHost"
)

type rfcSpec struct{ host bool }

type rfcFilter struct{ host bool }

var (
	_ Spec   = (*rfcSpec)(nil)
	_ Filter = (*rfcFilter)(nil)
)

// NewRFCPath returns the spec of rfcPath(). In Skipper it re-encodes the reserved characters
// (such as %2F) that its path handling decoded, so that the backend gets them as the client
// sent them. This proxy sends the client's path byte for byte anyway, so the filter changes
// nothing: the backend already gets what Skipper's rfcPath gives it.
func NewRFCPath() Spec { return &rfcSpec{} }

// NewRFCHost returns the spec of rfcHost(), which, as Skipper's, removes a trailing dot from
// the Host the backend gets (example.org. becomes example.org), port kept.
func NewRFCHost() Spec { return &rfcSpec{host: true} }

func (s *rfcSpec) Name() string {
	if s.host {
		return RFCHostName
	}
	return RFCPathName
}

// Create ignores arguments, as Skipper does.
func (s *rfcSpec) Create([]any) (Filter, error) { return &rfcFilter{host: s.host}, nil }

func (f *rfcFilter) Request(r *http.Request) error {
	if !f.host {
		return nil
	}
	name, port := r.Host, ""
	if i := strings.LastIndexByte(r.Host, ':'); i >= 0 && !strings.Contains(r.Host[i:], "]") {
		name, port = r.Host[:i], r.Host[i:]
	}
	if trimmed := strings.TrimSuffix(name, "."); trimmed != "" {
		r.Host = trimmed + port
	}
	return nil
}
