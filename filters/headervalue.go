package filters

import (
	"net/http"
	"strings"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// headerValue is the (header name, value template) pair of the set and append header filters.
type headerValue struct {
	header string // canonical
	value  template
}

// newHeaderValue checks the two arguments of filter: a header name and a value that may hold
// placeholders. With host set, the filter changes the outgoing Host for a header named Host,
// so a literal value must be a host without spaces.
func newHeaderValue(filter string, args []any, host bool) (headerValue, error) {
	a, err := stringArgs(filter, args, 2, "header name", "header value")
	if err != nil {
		return headerValue{}, err
	}
	if err := checkHeaderName(filter, 1, a[0]); err != nil {
		return headerValue{}, err
	}
	if err := checkHeaderText(filter, 2, "header value", a[1]); err != nil {
		return headerValue{}, err
	}
	hv := headerValue{header: http.CanonicalHeaderKey(a[0]), value: parseTemplate(a[1])}
	if host && hv.header == headerHost && !hv.value.hasPlaceholders() && !validHost(a[1]) {
		return headerValue{}, argsErrorf("%s: argument 2 (header value) must be a host without spaces for Host", filter)
	}
	return hv, nil
}

// resolve expands the value for r and res. ok is false, and the filter must leave the header
// alone, when a placeholder resolved to nothing, as in Skipper, or when the expanded value may
// not go into a header: a client's %0a in a query parameter must not split the header.
func (hv *headerValue) resolve(r *http.Request, res *http.Response) (string, bool) {
	v, ok := hv.value.expand(r, res)
	if !ok {
		return "", false
	}
	if hv.value.hasPlaceholders() && httpsyntax.InvalidValueByte(v) >= 0 {
		return "", false
	}
	return v, true
}

// validHost reports whether v can be an outgoing Host.
func validHost(v string) bool { return v != "" && !strings.ContainsAny(v, " \t") }

// UsesPathParams reports whether the value holds a path-parameter placeholder.
func (hv *headerValue) UsesPathParams() bool { return hv.value.usesParams() }
