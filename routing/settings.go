package routing

import (
	"cmp"
	"slices"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/circuit"
)

// Settings are the settings of a route that the proxy reads on every request, resolved from
// the route's filters once, when the route is compiled, instead of by a scan of its filters per
// request. They are part of the immutable Route, so that a request sees those of the route it
// matched, whatever table replaced it since. When a route holds several filters of one kind,
// the last one counts.
type Settings struct {
	// ReadTimeout, WriteTimeout and BackendTimeout are the durations of the route's readTimeout
	// (filters.ReadTimeouter), writeTimeout (filters.WriteTimeouter) and backendTimeout
	// (filters.BackendTimeouter) filters; zero when it has none. The filters accept only
	// positive durations.
	ReadTimeout, WriteTimeout, BackendTimeout time.Duration
	// Breaker holds the settings of the route's breaker filter (filters.BreakerUser). Its
	// Type is circuit.None when the route has none, and the breaker registry's defaults apply.
	Breaker circuit.Settings
	// HashKey is the route's consistentHashKey filter (filters.HashKeyer), or nil.
	HashKey filters.HashKeyer
	// BalanceFactor is the factor of the route's consistentHashBalanceFactor filter
	// (filters.BalanceFactorer), at least 1; zero when it has none, and loads are not bounded.
	BalanceFactor float64
	// PathParams says whether one of the route's filters reads the route's path parameters
	// (filters.PathParamUser).
	PathParams bool
	// BackendLimiters are the route's filters that may refuse a request for the endpoint it
	// goes to (filters.BackendLimiter, as backendRatelimit), in route order.
	BackendLimiters []filters.BackendLimiter
	// Egress are the route's filters that run on each attempt's copy of the request as it
	// leaves (filters.EgressFilter): in route order, with the filters.RequestSigners last.
	Egress []filters.EgressFilter
	// BackendIsProxy says the route has a backendIsProxy filter (filters.BackendProxy): its
	// backend is a proxy to the destination the client asked for.
	BackendIsProxy bool
	// ClientCert is the route's client certificate filter (filters.ClientCertifier, as
	// tlsClientCertFromSecrets), or nil: what its connections to https backends present.
	ClientCert filters.ClientCertifier
	// BoundSecrets are the names of the secrets the route's filters read (filters.SecretUser),
	// except those of filters that check their destination themselves
	// (filters.DestinationChecker) or send their secrets elsewhere (filters.SecretSender,
	// checked at compile time): the proxy checks each attempt's destination against the
	// DestinationPolicy for each of them.
	BoundSecrets []string
}

// resolveSettings returns the Settings that fs, a route's filters in route order, give it.
func resolveSettings(fs []filters.Filter) Settings {
	var s Settings
	for _, f := range fs {
		if t, ok := f.(filters.ReadTimeouter); ok {
			s.ReadTimeout = t.ReadTimeout()
		}
		if t, ok := f.(filters.WriteTimeouter); ok {
			s.WriteTimeout = t.WriteTimeout()
		}
		if t, ok := f.(filters.BackendTimeouter); ok {
			s.BackendTimeout = t.BackendTimeout()
		}
		if b, ok := f.(filters.BreakerUser); ok {
			s.Breaker = b.BreakerSettings()
		}
		if h, ok := f.(filters.HashKeyer); ok {
			s.HashKey = h
		}
		if b, ok := f.(filters.BalanceFactorer); ok {
			s.BalanceFactor = b.BalanceFactor()
		}
		if u, ok := f.(filters.PathParamUser); ok && u.UsesPathParams() {
			s.PathParams = true
		}
		if _, ok := f.(filters.BackendProxy); ok {
			s.BackendIsProxy = true
		}
		if l, ok := f.(filters.BackendLimiter); ok {
			s.BackendLimiters = append(s.BackendLimiters, l)
		}
		if e, ok := f.(filters.EgressFilter); ok {
			s.Egress = append(s.Egress, e)
		}
		if c, ok := f.(filters.ClientCertifier); ok {
			s.ClientCert = c
		}
		if su, ok := f.(filters.SecretUser); ok {
			_, self := f.(filters.DestinationChecker)
			_, elsewhere := f.(filters.SecretSender)
			if !self && !elsewhere {
				s.BoundSecrets = append(s.BoundSecrets, su.SecretNames()...)
			}
		}
	}
	slices.SortStableFunc(s.Egress, func(a, b filters.EgressFilter) int {
		return cmp.Compare(signs(a), signs(b))
	})
	return s
}

// signs orders the egress filters: 1 for a filters.RequestSigner, which runs last, else 0.
func signs(f filters.EgressFilter) int {
	if _, ok := f.(filters.RequestSigner); ok {
		return 1
	}
	return 0
}
