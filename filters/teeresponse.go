package filters

import (
	"net/http"
	"net/url"
)

// TeeResponseName is the route name of the filter that sends a copy of the answer's body
// elsewhere.
const TeeResponseName = "teeResponse"

type teeResponseSpec struct{ shared *teeShared }

type teeResponseFilter struct {
	shared       *teeShared
	scheme, host string
}

var (
	_ Spec           = (*teeResponseSpec)(nil)
	_ ResponseFilter = (*teeResponseFilter)(nil)
)

func (s *teeResponseSpec) Name() string { return TeeResponseName }

// Create builds teeResponse(url), which, as Skipper's, POSTs a copy of the body of each answer
// to "/" on url's scheme and host (url's path is not used, as in Skipper) and drops the
// shadow's answer. An answer declared empty is not copied. The copy carries the body alone:
// no field of the request or of the answer, so nothing a route injects goes with it. It is
// bound as tee's copies are: sent once the body has been passed on to its end, not at all if
// the body is longer than 1 MiB, if the client goes away first, or if 64 copies are under way,
// and never slowing the answer (Skipper's streams the copy alongside, at the shadow's pace).
func (s *teeResponseSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(TeeResponseName, args, 1, "url")
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(a[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, argsErrorf("%s: argument 1 (url) must be an http or https URL with a host", TeeResponseName)
	}
	return &teeResponseFilter{shared: s.shared, scheme: u.Scheme, host: u.Host}, nil
}

func (*teeResponseFilter) Request(*http.Request) error { return nil }

func (f *teeResponseFilter) Response(res *http.Response) error {
	if res.ContentLength == 0 || res.Body == nil || res.Body == http.NoBody {
		return nil
	}
	res.Body = &teeBody{ReadCloser: res.Body, done: func(body []byte) {
		cp := &http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Scheme: f.scheme, Host: f.host, Path: "/"},
			Header: make(http.Header),
			Host:   f.host,
		}
		f.shared.send(TeeResponseName, f.shared.client, cp, body)
	}}
	return nil
}
