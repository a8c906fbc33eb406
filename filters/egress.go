package filters

import "net/http"

// EgressFilter is implemented by filters that must see the request exactly as it leaves: after
// every route filter has run, once the proxy has chosen the destination (the static backend,
// the load-balancer endpoint of this attempt, the dynamic destination) and set the Host the
// backend sees. Request signing and checks of where a credential goes live here, because a
// later filter could still change what an earlier one signed or checked.
//
// The proxy calls Egress once per attempt, on a copy of the outgoing request made for that
// attempt, so a change one attempt makes (a swapped-in secret, a signature) never reaches
// another endpoint. Egress filters run in route order, except that RequestSigners run after
// all others. An error is handled as from Request: a *Reply is answered locally, an error
// wrapping ErrCredentialUnavailable fails the request with 503, and the request is not sent.
type EgressFilter interface {
	Egress(out *http.Request) error
}

// RequestSigner is an EgressFilter whose result covers the request's final bytes, such as an
// AWS Signature Version 4: it runs after every other egress filter of the route.
type RequestSigner interface {
	EgressFilter
	// SignsRequest marks the filter; it is never called.
	SignsRequest()
}
