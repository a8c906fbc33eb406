package proxy

import (
	"net/http"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

// pathParams returns the path parameters the filters of route see for src, the request it
// matched: nil, without allocating, unless one of its filters uses a path-parameter
// placeholder. As in Skipper, the parameters of the <loopback> routes a request passed through
// stay visible behind the current route's own, so loopback routes always keep theirs.
func pathParams(route *routing.Route, src *http.Request) filters.PathParams {
	if route.Backend.Type != routing.BackendLoopback && !route.Settings.PathParams {
		return nil
	}
	own := route.Params(src)
	var outer filters.PathParams
	if e := filters.ExchangeOf(src); e != nil {
		outer = e.Params()
	}
	switch {
	case outer == nil && own == nil:
		return nil
	case outer == nil:
		return own
	case own == nil:
		return outer
	}
	return loopParams{own: own, outer: outer}
}

// loopParams are a route's own path parameters in front of those of the <loopback> routes
// before it.
type loopParams struct {
	own   routing.Params
	outer filters.PathParams
}

// Get returns the route's own parameter called name, else the earlier routes'.
func (lp loopParams) Get(name string) string {
	if v := lp.own.Get(name); v != "" {
		return v
	}
	return lp.outer.Get(name)
}
