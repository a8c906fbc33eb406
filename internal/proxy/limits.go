package proxy

import (
	"errors"

	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/routing"
)

// headerCircuitOpen marks the answers of an open breaker, as Skipper marks them.
const headerCircuitOpen = "X-Circuit-Open"

// errCircuitOpen is the reason a request was refused without calling its backend: the backend's
// breaker is open.
var errCircuitOpen = errors.New("circuit breaker open")

// breaker returns the breaker guarding host for route, or nil when the proxy has no breaker
// registry or neither the route nor the registry's defaults ask for one. A route's breaker filter
// wins (disableBreaker turns the defaults off); a route without one, whose Settings.Breaker is
// of type None, gets the host's default breaker, or the global one.
func (p *Proxy) breaker(route *routing.Route, host string) *circuit.Breaker {
	if p.breakers == nil {
		return nil
	}
	return p.breakers.Get(host, route.Settings.Breaker)
}
