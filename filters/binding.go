package filters

import "net/url"

// DestinationPolicy decides where each secret may be sent (skipper's -credentials-bind and
// SECRET.hosts files; *secrets.Bindings implements it). Route compilation asks it about the
// static destinations of each route that reads a secret, the proxy about each attempt's final
// destination, and filters that swap secrets in themselves (DestinationChecker) about theirs.
// Its errors name the secret and the destination, never a value.
type DestinationPolicy interface {
	// CheckSecret returns an error when the secret can be sent nowhere: its binding does not
	// parse, or bindings are required and it has none.
	CheckSecret(secret string) error
	// AllowDestination returns nil when the secret may be sent to host (a URL's Host, its port
	// implied by scheme when absent), else an error wrapping secrets.ErrUnboundDestination.
	AllowDestination(secret, scheme, host string) error
}

// SecretSender is a SecretUser whose secrets go to destinations of its own instead of the
// route's backend: the OAuth2 filters send theirs to the token URL, and only the access token
// they get goes to the backend. Route compilation checks those destinations, not the route's
// backends, against the DestinationPolicy, and the proxy leaves the filter's secrets out of its
// per-request check, whose destination they never reach.
type SecretSender interface {
	SecretUser
	// SecretDestinations returns the URLs the filter sends its secrets to. The caller must not
	// modify them.
	SecretDestinations() []*url.URL
}

// DestinationChecker is a SecretUser that consults the DestinationPolicy itself on each
// attempt, and does something else than refusing the request toward a destination its secret
// may not go to (swapSecretPlaceholder leaves the placeholder in). The proxy leaves its secrets
// out of the check that answers 403.
type DestinationChecker interface {
	SecretUser
	// ChecksDestination marks the filter; it is never called.
	ChecksDestination()
}
