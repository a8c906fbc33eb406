package proxy

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

// defaultMaxLoopbacks is how often a request may pass through <loopback> routes, as Skipper's
// -max-loopbacks default.
const defaultMaxLoopbacks = 9

// errMaxLoopbacks is the reason a request that passed through too many <loopback> routes fails
// with 500.
var errMaxLoopbacks = errors.New("too many loopbacks")

// answerLocally answers without calling a backend: with rep, the answer of route's filter n-1,
// or, for a <shunt> route (rep nil, n all its filters), with an empty 404. As in Skipper, the
// response filters of the filters that ran, and of the <loopback> routes before route, see the
// answer first: status(418) -> <shunt> answers 418, and a setResponseHeader before
// inlineContent adds its header.
//
// The answer is the route's, not an error of the proxy, so it carries only the fields its
// filters set, as Skipper's: no X-Content-Type-Options. An answer without content (a <shunt>,
// a redirect) has no Content-Type and no body, and its head is flushed before the handler
// returns, so that the server does not add "Content-Length: 0": over HTTP/1.1 the client sees
// an empty chunked body, as from Skipper, which flushes every answer's head.
func (p *Proxy) answerLocally(w *responseRecorder, r, out *http.Request, route *routing.Route, n int, rep *filters.Reply) {
	res := &http.Response{StatusCode: http.StatusNotFound, Header: make(http.Header), Request: out}
	if rep != nil {
		res.StatusCode = cmp.Or(rep.Status, http.StatusOK)
		for k, vv := range rep.Header {
			res.Header[k] = slices.Clone(vv) // the filter's own value: filters below may change the copy
		}
		if rep.Body != "" {
			// inlineContent's body is there for response filters to see and change
			// (wrapContent, compress), as on Skipper's answers.
			res.Body = io.NopCloser(strings.NewReader(rep.Body))
			res.ContentLength = int64(len(rep.Body))
			res.Header.Set("Content-Length", strconv.Itoa(len(rep.Body)))
		}
	}
	if err := responseFilters(w, res, route.Filters[:n]); err != nil {
		p.fail(w, r, route, err)
		return
	}
	setWriteDeadline(w, route)
	h := w.Header()
	for k, vv := range res.Header {
		h[k] = append(h[k], vv...)
	}
	if res.Body != nil {
		// The answer's body: inlineContent's, or one a response filter gave it
		// (inlineContentIfStatus, repeatContent).
		defer res.Body.Close()
		w.WriteHeader(res.StatusCode)
		// A body of unknown length (tarpit's) is a stream: each piece is flushed as it comes.
		_ = p.copyBody(w, res.Body, res.ContentLength < 0) // the client went away; nothing left to tell it
		return
	}
	if rep == nil || isRedirect(rep) {
		w.WriteHeader(res.StatusCode)
		_ = http.NewResponseController(w).Flush() // the client went away; nothing left to tell it
		return
	}
	body := rep.Body
	if body == "" {
		body = http.StatusText(res.StatusCode) + "\n"
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(res.StatusCode)
	_, _ = io.WriteString(w, body) // the client went away; nothing left to tell it
}

// isRedirect reports whether rep is a redirect without a body of its own, such as
// redirectTo's, which Skipper sends with neither body nor Content-Type: the Location is the
// whole answer.
func isRedirect(rep *filters.Reply) bool {
	return rep.Body == "" && rep.Status >= 300 && rep.Status < 400
}

// responseFilters runs the response filters among fs on res, last first, then those of the
// <loopback> routes the request came through, innermost first.
func responseFilters(w *responseRecorder, res *http.Response, fs []filters.Filter) error {
	if err := runResponseFilters(res, fs); err != nil {
		return err
	}
	for j := len(w.outer) - 1; j >= 0; j-- {
		if err := runResponseFilters(res, w.outer[j].Filters); err != nil {
			return err
		}
	}
	return nil
}

func runResponseFilters(res *http.Response, fs []filters.Filter) error {
	for i := len(fs) - 1; i >= 0; i-- {
		if rf, ok := fs[i].(filters.ResponseFilter); ok {
			if err := rf.Response(res); err != nil {
				return err
			}
		}
	}
	return nil
}

// allowBackend asks the route's backendRatelimit filters whether out, aimed at its endpoint,
// may go there; the first refusal is the answer.
func allowBackend(route *routing.Route, out *http.Request) *filters.Reply {
	for _, l := range route.Settings.BackendLimiters {
		if rep := l.AllowBackend(out, out.URL.Host); rep != nil {
			return rep
		}
	}
	return nil
}

// checkBindings returns an error wrapping secrets.ErrUnboundDestination when a secret that
// route's filters read may not go to out's destination: the attempt's final one, after every
// Request filter, the load balancer's choice and the dynamic destination, as the transport
// will dial it. It runs before the egress filters, which may only change the request's bytes.
func (p *Proxy) checkBindings(route *routing.Route, out *http.Request) error {
	if p.bindings == nil {
		return nil
	}
	for _, name := range route.Settings.BoundSecrets {
		if err := p.bindings.AllowDestination(name, out.URL.Scheme, out.URL.Host); err != nil {
			return err
		}
	}
	return nil
}

// egress runs route's egress filters on a copy of out made for this attempt and returns the
// copy, or out itself when the route has none. The copy keeps what one attempt's filters add
// (a secret swapped in, a signature) away from the next endpoint a retry goes to. A filter
// that read the body and made it replayable (a signer that hashed it) sets the copy's GetBody;
// out then gets it too, so that a load-balancer retry can send the body again.
func egress(route *routing.Route, out *http.Request) (*http.Request, error) {
	if len(route.Settings.Egress) == 0 {
		return out, nil
	}
	attempt := out.Clone(out.Context())
	for _, f := range route.Settings.Egress {
		if err := f.Egress(attempt); err != nil {
			return nil, err
		}
	}
	if out.GetBody == nil && attempt.GetBody != nil {
		out.GetBody = attempt.GetBody
	}
	return attempt, nil
}

// withBackendTimeout returns out bounded by the deadline of route's last backendTimeout filter,
// and the function that releases it; without such a filter, out itself and a no-op. The
// deadline derives from out's context, so a client that goes away still cancels the call.
func withBackendTimeout(route *routing.Route, out *http.Request) (*http.Request, context.CancelFunc) {
	d := route.Settings.BackendTimeout
	if d <= 0 {
		return out, func() {}
	}
	ctx, cancel := context.WithTimeout(out.Context(), d)
	return out.WithContext(ctx), cancel
}

// loopback matches out, the request as route's filters left it, against the routes again and
// serves it by the route it matches. hops counts the <loopback> routes passed so far; past the
// proxy's limit the request fails with 500, and without a match with the no-route status.
func (p *Proxy) loopback(w *responseRecorder, r, out *http.Request, route *routing.Route, hops int) {
	if hops >= p.maxLoopbacks {
		p.fail(w, r, route, errMaxLoopbacks)
		return
	}
	next := w.table.Match(out)
	if next == nil {
		p.fail(w, r, nil, errNoRoute)
		return
	}
	w.outer = append(w.outer, route)
	p.serveRoute(w, r, out, next, hops+1)
}
