package filters

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// placeholderKind says where a template placeholder takes its value from.
type placeholderKind uint8

const (
	segLiteral placeholderKind = iota
	segRequestHeader
	segRequestQuery
	segRequestCookie
	segRequestMethod
	segRequestHost
	segRequestPath
	segRequestRawQuery
	segRequestSource
	segRequestSourceFromLast
	segRequestClientIP
	segResponseHeader
	segPathParam
)

// segment is one piece of a template: literal text, or a placeholder with its argument (a
// canonical header name, a query parameter or cookie name).
type segment struct {
	kind placeholderKind
	arg  string
}

// template is a route argument with Skipper's ${...} placeholders, parsed once at route-compile
// time. It is immutable and safe for concurrent use.
//
// As in Skipper, a name that is none of the request and response placeholders names a path
// parameter of the matched route: ${id} for Path("/users/:id"), ${rest} for a *rest wildcard,
// ${*} for the rest of a PathSubtree. The proxy hands them over in the request's Exchange.
type template struct {
	raw    string
	segs   []segment // nil when raw holds no placeholder
	params bool      // some segment is a path parameter
}

// PathParamUser is implemented by the filters whose arguments may hold path-parameter
// placeholders. The proxy works a route's path parameters out only when one of its filters
// reports true, so that routes without such placeholders pay nothing for them.
type PathParamUser interface {
	// UsesPathParams reports whether the filter reads the route's path parameters.
	UsesPathParams() bool
}

// parseTemplate splits s into literal text and placeholders. As in Skipper, a placeholder is
// "${", one or more characters other than braces, and "}"; anything else is literal.
func parseTemplate(s string) template {
	t := template{raw: s}
	lit := 0 // start of the pending literal text
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '$' || s[i+1] != '{' {
			continue
		}
		end := strings.IndexAny(s[i+2:], "{}")
		if end <= 0 || s[i+2+end] != '}' {
			continue
		}
		seg := placeholder(s[i+2 : i+2+end])
		t.params = t.params || seg.kind == segPathParam
		if lit < i {
			t.segs = append(t.segs, segment{kind: segLiteral, arg: s[lit:i]})
		}
		t.segs = append(t.segs, seg)
		i += 2 + end
		lit = i + 1
	}
	if t.segs != nil && lit < len(s) {
		t.segs = append(t.segs, segment{kind: segLiteral, arg: s[lit:]})
	}
	return t
}

// placeholder parses the name inside ${...}; a name it does not know is a path parameter.
func placeholder(name string) segment {
	prefixed := []struct {
		prefix string
		kind   placeholderKind
	}{
		{"request.header.", segRequestHeader},
		{"request.query.", segRequestQuery},
		{"request.cookie.", segRequestCookie},
		{"response.header.", segResponseHeader},
	}
	for _, p := range prefixed {
		if arg, ok := strings.CutPrefix(name, p.prefix); ok {
			if p.kind == segRequestHeader || p.kind == segResponseHeader {
				arg = http.CanonicalHeaderKey(arg)
			}
			return segment{kind: p.kind, arg: arg}
		}
	}
	kind, ok := map[string]placeholderKind{
		"request.method":         segRequestMethod,
		"request.host":           segRequestHost,
		"request.path":           segRequestPath,
		"request.rawQuery":       segRequestRawQuery,
		"request.source":         segRequestSource,
		"request.sourceFromLast": segRequestSourceFromLast,
		"request.clientIP":       segRequestClientIP,
	}[name]
	if !ok {
		return segment{kind: segPathParam, arg: name}
	}
	return segment{kind: kind}
}

// hasPlaceholders reports whether t needs a request to be expanded.
func (t *template) hasPlaceholders() bool { return t.segs != nil }

// usesParams reports whether t holds a path-parameter placeholder.
func (t *template) usesParams() bool { return t.params }

// expand returns t with its placeholders replaced by values of r and res, either of which may
// be nil. ok is false if any placeholder resolved to nothing; the text then still holds the
// other values, with nothing in place of the missing ones.
func (t *template) expand(r *http.Request, res *http.Response) (s string, ok bool) {
	if t.segs == nil {
		return t.raw, true
	}
	if len(t.segs) == 1 { // a lone placeholder needs no copy
		v := t.segs[0].value(r, res)
		return v, v != ""
	}
	var b strings.Builder
	b.Grow(len(t.raw) + 16)
	ok = true
	for i := range t.segs {
		sg := &t.segs[i]
		if sg.kind == segLiteral {
			b.WriteString(sg.arg)
			continue
		}
		v := sg.value(r, res)
		if v == "" {
			ok = false
		}
		b.WriteString(v)
	}
	return b.String(), ok
}

// value returns the segment's value for r and res, "" when there is none.
func (sg *segment) value(r *http.Request, res *http.Response) string {
	if sg.kind == segLiteral {
		return sg.arg
	}
	if sg.kind == segResponseHeader {
		if res == nil {
			return "" // as in Skipper, response values are missing in request filters
		}
		return firstValue(res.Header, sg.arg)
	}
	if r == nil {
		return ""
	}
	switch sg.kind {
	case segPathParam:
		return pathParam(r, sg.arg)
	case segRequestHeader:
		return firstValue(r.Header, sg.arg)
	case segRequestQuery:
		if r.URL == nil {
			return ""
		}
		return queryValue(r.URL.RawQuery, sg.arg)
	case segRequestCookie:
		if c, err := r.Cookie(sg.arg); err == nil {
			return c.Value
		}
	case segRequestMethod:
		return r.Method
	case segRequestHost:
		return Incoming(r).Host // the client's, not the backend's the proxy has set
	case segRequestPath:
		if r.URL != nil {
			return r.URL.Path
		}
	case segRequestRawQuery:
		if r.URL != nil {
			return r.URL.RawQuery
		}
	case segRequestSource:
		return source(r, false)
	case segRequestSourceFromLast:
		return source(r, true)
	case segRequestClientIP:
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return host
		}
	}
	return ""
}

// firstValue is h.Get(key) for a key that is already canonical.
func firstValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// queryValue returns the first value of name in the raw query, decoded, as
// url.ParseQuery(raw).Get(name) would, without building the map: pairs that do not decode, or
// hold a semicolon, are skipped as ParseQuery skips them.
func queryValue(raw, name string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k != name {
			continue
		}
		if v, err = url.QueryUnescape(v); err == nil {
			return v
		}
	}
	return ""
}

// source returns the first (or, with last, the last) address of X-Forwarded-For, or else the
// client's address, as Skipper's Source and SourceFromLast predicates see it.
func source(r *http.Request, last bool) string {
	if ff := firstValue(r.Header, "X-Forwarded-For"); ff != "" {
		var s string
		if last {
			s = ff[strings.LastIndexByte(ff, ',')+1:]
		} else {
			s, _, _ = strings.Cut(ff, ",")
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
			return a.Unmap().String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return ""
}
