package proxy

import (
	"errors"
	"net/http"
	"strings"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/echomask"
	"github.com/skipper-egress/skipper/routing"
)

// errCompressedEcho fails a response that cannot be checked for echoed credentials: the
// backend compressed it although asked not to.
var errCompressedEcho = errors.New("compressed response on a route that injected a credential: " +
	"it cannot be checked for an echoed credential (-mask-echoed-credentials)")

// askIdentity asks the backend for an uncompressed response when the request carries a
// credential that the response is to be checked for: a compressed body cannot be scanned.
func (p *Proxy) askIdentity(w *responseRecorder, route *routing.Route, out *http.Request) {
	if p.mask && (len(w.uses) > 0 || injects(route)) {
		out.Header["Accept-Encoding"] = []string{"identity"}
	}
}

// injects reports whether route has a credential filter, which may still inject as the request
// leaves (an egress filter).
func injects(route *routing.Route) bool {
	for _, f := range route.Filters {
		if _, ok := f.(filters.SecretUser); ok {
			return true
		}
	}
	return false
}

// maskValues returns the credentials injected into the request, to be masked in the response;
// nil when masking is off or none was injected.
func (p *Proxy) maskValues(w *responseRecorder) [][]byte {
	if !p.mask || len(w.uses) == 0 {
		return nil
	}
	vs := make([][]byte, 0, 2*len(w.uses))
	for _, u := range w.uses {
		vs = append(vs, u.use.Value)
		if u.use.Also != "" {
			vs = append(vs, []byte(u.use.Also))
		}
	}
	return echomask.Values(vs)
}

// maskResponse masks values in res's header fields and, as it streams, its body. A response
// whose body is compressed cannot be scanned and is refused with errCompressedEcho, since its
// body might carry the credential; one that has no body passes.
func maskResponse(r *http.Request, res *http.Response, values [][]byte) error {
	if len(values) == 0 {
		return nil
	}
	ce := strings.TrimSpace(res.Header.Get("Content-Encoding"))
	if ce != "" && !strings.EqualFold(ce, "identity") && hasBody(r, res) {
		return errCompressedEcho
	}
	echomask.Header(res.Header, values)
	if res.Body != nil && res.Body != http.NoBody {
		res.Body = echomask.NewReader(res.Body, values)
	}
	return nil
}

// hasBody reports whether res, the answer to r, may carry a body.
func hasBody(r *http.Request, res *http.Response) bool {
	switch {
	case r.Method == http.MethodHead, res.StatusCode == http.StatusNoContent, res.StatusCode == http.StatusNotModified,
		res.StatusCode < 200:
		return false
	}
	return res.ContentLength != 0
}
