package filters

import "context"

// proxyUserKey holds, in a request's context, the user that the forward proxy authenticated.
type proxyUserKey struct{}

// WithProxyUser returns ctx carrying user, the name a forward-proxy client authenticated as
// with Proxy-Authorization (-forward-proxy-auth). The proxy sets it before the route is matched,
// on the requests of the client's CONNECT tunnel too; the ProxyUser predicate reads it.
func WithProxyUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, proxyUserKey{}, user)
}

// ProxyUser returns the user the forward proxy authenticated for the request with context ctx,
// or "" when there is none. Never the password.
func ProxyUser(ctx context.Context) string {
	u, _ := ctx.Value(proxyUserKey{}).(string)
	return u
}
