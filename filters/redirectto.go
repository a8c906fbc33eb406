package filters

import (
	"net/http"
	"net/url"
	"strings"
)

// RedirectToName is the route name of the filter that answers with a redirect.
const RedirectToName = "redirectTo"

// RedirectToLowerName is the route name of redirectTo with the path lower-cased.
const RedirectToLowerName = "redirectToLower"

type redirectToSpec struct{ lower bool }

type redirectToFilter struct {
	code  int
	base  *url.URL
	lower bool
}

var (
	_ Spec   = (*redirectToSpec)(nil)
	_ Filter = (*redirectToFilter)(nil)
)

// NewRedirectTo returns the spec of redirectTo(code[, location]), which answers the client with
// a redirect: status code, a whole number from 300 to 399, and a Location built from location.
// As in Skipper, the parts location leaves out come from the client's request: without a path
// the request's path is kept, and without a query the request's query; a location with a
// scheme but no host ("https:", Skipper's HTTPS redirect) takes the request's host. Without a
// location, the redirect is to the request's URL over https, as Skipper's. A location without
// scheme and host stays a relative reference. The backend is not called and the later request
// filters do not run.
func NewRedirectTo() Spec { return &redirectToSpec{} }

// NewRedirectToLower returns the spec of redirectToLower(code[, location]), redirectTo with
// the location's path lower-cased, as Skipper's.
func NewRedirectToLower() Spec { return &redirectToSpec{lower: true} }

func (s *redirectToSpec) Name() string {
	if s.lower {
		return RedirectToLowerName
	}
	return RedirectToName
}

func (s *redirectToSpec) Create(args []any) (Filter, error) {
	f, err := newRedirectTo(args)
	if err != nil {
		return nil, argsErrorf("%s: %s", s.Name(), strings.TrimPrefix(err.Error(), RedirectToName+": "))
	}
	f.lower = s.lower
	return f, nil
}

func newRedirectTo(args []any) (*redirectToFilter, error) {
	if len(args) != 1 && len(args) != 2 {
		return nil, argsErrorf("%s: want 1 or 2 arguments (status code[, location]), got %d", RedirectToName, len(args))
	}
	code, err := statusArg(RedirectToName, 1, args[0], 300, 399)
	if err != nil {
		return nil, err
	}
	if len(args) == 1 {
		return &redirectToFilter{code: code, base: &url.URL{Scheme: "https"}}, nil
	}
	loc, ok := args[1].(string)
	if !ok {
		return nil, argsErrorf("%s: argument 2 (location) must be a string, got %T", RedirectToName, args[1])
	}
	if err := checkHeaderText(RedirectToName, 2, "location", loc); err != nil {
		return nil, err
	}
	base, err := url.Parse(loc)
	if err != nil {
		return nil, argsErrorf("%s: argument 2 (location) is not a URL: %v", RedirectToName, err)
	}
	if base.Opaque != "" {
		return nil, argsErrorf("%s: argument 2 (location) %q: a path after the scheme must start with \"/\"", RedirectToName, loc)
	}
	return &redirectToFilter{code: code, base: base}, nil
}

func (f *redirectToFilter) Request(r *http.Request) error {
	in := Incoming(r)
	u := url.URL{Scheme: f.base.Scheme, Host: f.base.Host, Path: in.URL.Path, RawPath: in.URL.RawPath, RawQuery: in.URL.RawQuery}
	if u.Scheme != "" && u.Host == "" {
		u.Host = in.Host
	}
	if f.base.Path != "" {
		u.Path, u.RawPath = f.base.Path, f.base.RawPath
	}
	if f.base.RawQuery != "" {
		u.RawQuery = f.base.RawQuery
	}
	u.Fragment, u.RawFragment = f.base.Fragment, f.base.RawFragment
	if f.lower {
		u.Path, u.RawPath = strings.ToLower(u.Path), strings.ToLower(u.RawPath)
	}
	return &Reply{Status: f.code, Header: http.Header{"Location": {u.String()}}}
}
