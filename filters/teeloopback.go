package filters

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
)

// TeeLoopbackName is the route name of the filter that sends a shadow copy of the request
// through the routes again.
const TeeLoopbackName = "teeLoopback"

// teeMaxLoopbacks is how many teeLoopback copies may descend from one client request, one
// made from the other, as Skipper's -max-loopbacks default bounds them.
const teeMaxLoopbacks = 9

type teeLoopbackSpec struct{ shared *teeShared }

type teeLoopbackFilter struct {
	shared *teeShared
	key    string
}

var (
	_ Spec   = (*teeLoopbackSpec)(nil)
	_ Filter = (*teeLoopbackFilter)(nil)
)

// teeMark is what a teeLoopback copy carries in its context: the key of the filter that made
// it and how many copies it descends from.
type teeMark struct {
	key   string
	depth int
}

type teeMarkKey struct{}

// TeeLoopbackKey returns the key of the teeLoopback filter that made r, a shadow copy of a
// request, or "" for any other request: what the Tee predicate matches
// (routing.CompileOptions.TeeKey).
func TeeLoopbackKey(r *http.Request) string {
	m, _ := r.Context().Value(teeMarkKey{}).(teeMark)
	return m.key
}

// SetTeeLoopback sets what the teeLoopback filters of the Exchange's request hand their copies
// to: the proxy's own handler, which routes and serves a copy as a new request and drops the
// answer. It is called once, in the background, with a request made as a server makes one and
// whose context is the copy's own. Without it, the copies are dropped.
func (e *Exchange) SetTeeLoopback(serve func(*http.Request)) { e.teeLoopback = serve }

func (s *teeLoopbackSpec) Name() string { return TeeLoopbackName }

// Create builds teeLoopback(key), which, as Skipper's, sends a copy of the request through the
// routes again, where a route with the Tee(key) predicate can take it, and drops its answer. A
// copy that reaches a teeLoopback(key) filter of the same key is not copied again, and a copy
// of a copy of ... is made at most 9 deep.
//
// The copy has the method, path and query the filters before left, and the client's Host,
// address and header: not the header that the route's filters made, so that a credential this
// proxy injects for the route's backend never goes to a shadow route's, which injects its own
// (Skipper's copy carries the changes of the filters before). It is bound as tee's copies are:
// its body is copied aside (up to 1 MiB) as the backend reads it and the copy is sent once the
// body is complete, not at all if it is longer or 64 copies are under way; a copy gets 10
// seconds; it never slows the request.
func (s *teeLoopbackSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(TeeLoopbackName, args, 1, "tee key")
	if err != nil {
		return nil, err
	}
	if a[0] == "" {
		return nil, argsErrorf("%s: argument 1 (tee key) must not be empty", TeeLoopbackName)
	}
	return &teeLoopbackFilter{shared: s.shared, key: a[0]}, nil
}

func (f *teeLoopbackFilter) Request(r *http.Request) error {
	mark, _ := r.Context().Value(teeMarkKey{}).(teeMark)
	if mark.key == f.key || mark.depth >= teeMaxLoopbacks {
		return nil
	}
	ex := ExchangeOf(r)
	if ex == nil || ex.teeLoopback == nil {
		return nil
	}
	serve, in := ex.teeLoopback, Incoming(r)
	u := &url.URL{Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	cp := &http.Request{
		Method: r.Method, URL: u, RequestURI: u.RequestURI(),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: shadowHeader(in.Header), Host: in.Host, RemoteAddr: in.RemoteAddr, TLS: in.TLS,
		Body: http.NoBody,
	}
	next := teeMark{key: f.key, depth: mark.depth + 1}
	if r.Body == nil || r.Body == http.NoBody {
		f.send(serve, cp, next, nil)
		return nil
	}
	r.Body = &teeBody{ReadCloser: r.Body, done: func(body []byte) { f.send(serve, cp, next, body) }}
	return nil
}

// send hands cp, with body, to serve in the background, if a slot is free.
func (f *teeLoopbackFilter) send(serve func(*http.Request), cp *http.Request, mark teeMark, body []byte) {
	select {
	case f.shared.slots <- struct{}{}:
	default:
		f.shared.log.WithField("filter", TeeLoopbackName).Debug("shadow request dropped: too many under way")
		return
	}
	if len(body) > 0 {
		cp.Body = io.NopCloser(bytes.NewReader(body))
		cp.ContentLength = int64(len(body))
	}
	go func() {
		defer func() { <-f.shared.slots }()
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), teeMarkKey{}, mark), teeTimeout)
		defer cancel()
		serve(cp.WithContext(ctx))
	}()
}
