package filters

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// Route names of the filters that choose the destination of a <dynamic> route.
const (
	SetDynamicBackendURLName              = "setDynamicBackendUrl"
	SetDynamicBackendHostName             = "setDynamicBackendHost"
	SetDynamicBackendSchemeName           = "setDynamicBackendScheme"
	SetDynamicBackendURLFromHeaderName    = "setDynamicBackendUrlFromHeader"
	SetDynamicBackendHostFromHeaderName   = "setDynamicBackendHostFromHeader"
	SetDynamicBackendSchemeFromHeaderName = "setDynamicBackendSchemeFromHeader"
)

// DynamicBackend is the destination that a route's setDynamicBackend filters chose, read by
// the proxy from the request's Exchange after the request filters ran. Its zero value chose
// nothing. As in Skipper, a non-empty URL wins over Host and Scheme, whatever the filter order;
// otherwise Host and Scheme each replace the part of the default destination (the request's
// own host and scheme) that they name. A later filter of the same kind overrides an earlier one.
type DynamicBackend struct {
	// URL is the URL given to setDynamicBackendUrl, or the header value of
	// setDynamicBackendUrlFromHeader, as given; only its scheme and host count.
	URL string
	// Host is the host[:port] given to setDynamicBackendHost or read from a header.
	Host string
	// Scheme is the scheme given to setDynamicBackendScheme or read from a header, lower case.
	Scheme string
	// URLTrusted and HostTrusted report whether URL and Host were written in the route text
	// rather than read from the client's request. The proxy dials a trusted destination as a
	// network backend and any other through the forward proxy's SSRF guard.
	URLTrusted, HostTrusted bool
}

// dynamicPart is the part of the destination a setDynamicBackend filter sets.
type dynamicPart uint8

const (
	dynamicURL dynamicPart = iota
	dynamicHost
	dynamicScheme
)

type dynamicBackendSpec struct {
	name       string
	part       dynamicPart
	fromHeader bool
}

// dynamicBackendFilter sets part of the destination to value, or, with header set, to the
// first value of that request header.
type dynamicBackendFilter struct {
	part   dynamicPart
	value  string
	header string // canonical; "" for the literal filters
}

var (
	_ Spec   = (*dynamicBackendSpec)(nil)
	_ Filter = (*dynamicBackendFilter)(nil)
)

// NewDynamicBackendSpecs returns the specs of the six filters that choose where a <dynamic>
// route sends a request, with Skipper's names and arguments:
//
//   - setDynamicBackendUrl(url): the scheme and host of url, "http" or "https" and a host
//     with an optional port (a path or query is ignored, as for a network backend);
//   - setDynamicBackendHost(host): a host with an optional port;
//   - setDynamicBackendScheme(scheme): "http" or "https";
//   - setDynamicBackendUrlFromHeader(header), setDynamicBackendHostFromHeader(header),
//     setDynamicBackendSchemeFromHeader(header): the same, from the first value of a request
//     header; a missing or empty header sets nothing.
//
// The destination only counts on <dynamic> routes; without any of these filters, or with only
// a scheme, such a route goes to the request's own host (the absolute URI's, else the Host
// header's), over http unless the absolute URI says https. As in Skipper, the Url and Host
// variants also make the backend see the chosen host as its Host header (later filters may
// still change it), and that on any route.
//
// A destination written in the route text is trusted like a network backend. One taken from
// the request (a header, the Host, an absolute URI) is the client's choice and is dialed
// through the forward proxy's SSRF guard, as <dynamic> routes always are; a value that is no
// valid destination fails the request with 400.
func NewDynamicBackendSpecs() []Spec {
	return []Spec{
		&dynamicBackendSpec{name: SetDynamicBackendURLName, part: dynamicURL},
		&dynamicBackendSpec{name: SetDynamicBackendHostName, part: dynamicHost},
		&dynamicBackendSpec{name: SetDynamicBackendSchemeName, part: dynamicScheme},
		&dynamicBackendSpec{name: SetDynamicBackendURLFromHeaderName, part: dynamicURL, fromHeader: true},
		&dynamicBackendSpec{name: SetDynamicBackendHostFromHeaderName, part: dynamicHost, fromHeader: true},
		&dynamicBackendSpec{name: SetDynamicBackendSchemeFromHeaderName, part: dynamicScheme, fromHeader: true},
	}
}

func (s *dynamicBackendSpec) Name() string { return s.name }

func (s *dynamicBackendSpec) Create(args []any) (Filter, error) {
	what := [...]string{dynamicURL: "url", dynamicHost: "host", dynamicScheme: "scheme"}[s.part]
	if s.fromHeader {
		what = "header name"
	}
	a, err := stringArgs(s.name, args, 1, what)
	if err != nil {
		return nil, err
	}
	v := a[0]
	if s.fromHeader {
		if err := checkHeaderName(s.name, 1, v); err != nil {
			return nil, err
		}
		return &dynamicBackendFilter{part: s.part, header: http.CanonicalHeaderKey(v)}, nil
	}
	switch s.part {
	case dynamicURL:
		if _, _, ok := DestinationOfURL(v); !ok {
			return nil, argsErrorf("%s: argument 1 (url) %q must be an http or https URL with a host", s.name, v)
		}
	case dynamicHost:
		if !ValidDestinationHost(v) {
			return nil, argsErrorf("%s: argument 1 (host) %q must be a host with an optional port", s.name, v)
		}
	case dynamicScheme:
		v = strings.ToLower(v)
		if v != "http" && v != "https" {
			return nil, argsErrorf("%s: argument 1 (scheme) must be \"http\" or \"https\", got %q", s.name, a[0])
		}
	}
	return &dynamicBackendFilter{part: s.part, value: v}, nil
}

// Request records the destination in the request's Exchange and, for a host or URL, sets the
// Host the backend sees, as Skipper's filters do.
func (f *dynamicBackendFilter) Request(r *http.Request) error {
	v, trusted := f.value, true
	if f.header != "" {
		v, trusted = firstValue(r.Header, f.header), false
		if v == "" {
			return nil
		}
	}
	e := ExchangeOf(r)
	if e == nil {
		e = &Exchange{} // a filter unit test: only the Host below is observable
	}
	switch f.part {
	case dynamicURL:
		e.backend.URL, e.backend.URLTrusted = v, trusted
		if u, err := url.ParseRequestURI(v); err == nil && ValidDestinationHost(u.Host) {
			r.Host = u.Host
		}
	case dynamicHost:
		e.backend.Host, e.backend.HostTrusted = v, trusted
		if ValidDestinationHost(v) {
			r.Host = v
		}
	case dynamicScheme:
		e.backend.Scheme = strings.ToLower(v)
	}
	return nil
}

// DestinationOfURL returns the scheme (lower case) and host of u, an absolute http or https
// URL with a valid host; ok is false for anything else. A path, query or fragment is ignored.
func DestinationOfURL(u string) (scheme, host string, ok bool) {
	p, err := url.ParseRequestURI(u)
	if err != nil || p.User != nil {
		return "", "", false
	}
	scheme = strings.ToLower(p.Scheme)
	if (scheme != "http" && scheme != "https") || !ValidDestinationHost(p.Host) {
		return "", "", false
	}
	return scheme, p.Host, true
}

// ValidDestinationHost reports whether h is a host with an optional port and nothing else: no
// user info, path, spaces or control characters.
func ValidDestinationHost(h string) bool {
	if h == "" || strings.ContainsAny(h, "/?#@\\ \t") || httpsyntax.InvalidValueByte(h) >= 0 {
		return false
	}
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h && u.Hostname() != "" && u.Path == ""
}
