package filters

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

// DestinationChecker is a SecretUser that consults the DestinationPolicy itself on each
// attempt, and does something else than refusing the request toward a destination its secret
// may not go to (swapSecretPlaceholder leaves the placeholder in). The proxy leaves its secrets
// out of the check that answers 403.
type DestinationChecker interface {
	SecretUser
	// ChecksDestination marks the filter; it is never called.
	ChecksDestination()
}
