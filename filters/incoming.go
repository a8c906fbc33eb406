package filters

import (
	"context"
	"net/http"
)

// incomingKey is the context key of the request as the client sent it.
type incomingKey struct{}

// WithIncoming returns ctx carrying in, the request as the client sent it. The proxy hands
// filters an outgoing copy that it has already aimed at the backend (its Host is the
// backend's); placeholders such as ${request.host} mean the client's request, as in Skipper,
// and find it through Incoming.
func WithIncoming(ctx context.Context, in *http.Request) context.Context {
	return context.WithValue(ctx, incomingKey{}, in)
}

// Incoming returns the client's request stored in r's context by WithIncoming, or r itself
// when there is none (as in filter unit tests, where r is all there is).
func Incoming(r *http.Request) *http.Request {
	if in, ok := r.Context().Value(incomingKey{}).(*http.Request); ok {
		return in
	}
	return r
}
