package filters

import (
	"context"
	"net/http"
	"time"
)

// PathParams gives the path parameters of the route a request matched: the values of its :name
// and *name wildcards, by name. routing.Params implements it.
type PathParams interface {
	// Get returns the value of the parameter called name, or "" if there is none.
	Get(name string) string
}

// Exchange is what the proxy and a route's filters share about one request: the request as
// the client sent it, the path parameters of the matched route, and the destination that the
// setDynamicBackend filters chose. It is a context.Context (its parent's, plus itself as a
// value), so that the proxy sets it up with a single allocation as the outgoing request's
// context, and filters find it from the only thing they get, the request.
//
// An Exchange belongs to one request on one route; its filters run one after the other, so it
// needs no lock, but it must not be shared between requests.
type Exchange struct {
	context.Context
	in      *http.Request
	params  PathParams
	backend DynamicBackend
	// accessLog is the switch of the last disableAccessLog or enableAccessLog filter run.
	accessLog *AccessLogSwitch
	// maskQuery are the query parameters maskAccessLogQuery filters hide in the access log.
	maskQuery []string
	// queueRelease give back the places the request's fifo and lifo filters took.
	queueRelease []func()
	// teeLoopback serves the copies of teeLoopback filters; nil: they are dropped.
	teeLoopback func(*http.Request)
	// uses are the credential uses recorded and not yet taken (RecordCredentialUse).
	uses []CredentialUse
	// spanName is the client span's name that a tracingSpanName filter chose.
	spanName string
	// shedStart is when physicsShedder let the request pass, to measure its latency.
	shedStart time.Time
}

// exchangeKey is the context key under which an Exchange finds itself.
type exchangeKey struct{}

// NewExchange returns the Exchange of a request that the client sent as in, on a route whose
// path parameters are params (nil when the route has none or its filters use none), derived
// from parent.
func NewExchange(parent context.Context, in *http.Request, params PathParams) *Exchange {
	return &Exchange{Context: parent, in: in, params: params}
}

// Value returns the Exchange itself for its own key and asks the parent for any other.
func (e *Exchange) Value(key any) any {
	if _, ok := key.(exchangeKey); ok {
		return e
	}
	return e.Context.Value(key)
}

// Params returns the path parameters the Exchange was made with; nil if none.
func (e *Exchange) Params() PathParams { return e.params }

// DynamicBackend returns the destination that the route's setDynamicBackend filters chose;
// the zero value if none ran. The proxy reads it after the request filters ran.
func (e *Exchange) DynamicBackend() DynamicBackend { return e.backend }

// ExchangeOf returns the Exchange in r's context, or nil when there is none (as in filter unit
// tests, where r is all there is).
func ExchangeOf(r *http.Request) *Exchange {
	e, _ := r.Context().Value(exchangeKey{}).(*Exchange)
	return e
}

// WithIncoming returns ctx carrying in, the request as the client sent it: an Exchange without
// path parameters. The proxy hands filters an outgoing copy that it has already aimed at the
// backend (its Host is the backend's); placeholders such as ${request.host} mean the client's
// request, as in Skipper, and find it through Incoming.
func WithIncoming(ctx context.Context, in *http.Request) context.Context {
	return NewExchange(ctx, in, nil)
}

// Incoming returns the client's request stored in r's context by WithIncoming or NewExchange,
// or r itself when there is none.
func Incoming(r *http.Request) *http.Request {
	if e := ExchangeOf(r); e != nil && e.in != nil {
		return e.in
	}
	return r
}

// pathParam returns the path parameter called name of the route r matched, "" if none.
func pathParam(r *http.Request, name string) string {
	if e := ExchangeOf(r); e != nil && e.params != nil {
		return e.params.Get(name)
	}
	return ""
}
