package filters

import (
	"net/http"

	"github.com/skipper-egress/skipper/filters/ratelimit"
)

// BackendRateLimitName is the route name of the filter that limits the requests sent to each
// backend endpoint.
const BackendRateLimitName = "backendRatelimit"

// BackendLimiter is implemented by backendRatelimit. The proxy asks it, once a request's
// backend endpoint is chosen (for a load-balanced route, each endpoint it tries) and before
// the request is sent there, whether the endpoint may take one more; a non-nil Reply is the
// answer to give instead of calling it.
type BackendLimiter interface {
	AllowBackend(r *http.Request, endpoint string) *Reply
}

type backendRateLimitSpec struct{ reg *ratelimit.Registry }

type backendRateLimitFilter struct {
	limiter ratelimit.Limiter
	status  int
	// failClosed refuses the requests Redis could not decide (ratelimitFailClosed).
	failClosed bool
}

func (f *backendRateLimitFilter) setFailClosed() { f.failClosed = true }

var (
	_ Spec           = (*backendRateLimitSpec)(nil)
	_ BackendLimiter = (*backendRateLimitFilter)(nil)
)

// NewBackendRateLimit returns the spec of backendRatelimit(group, n, period[, status]), which,
// as Skipper's, admits at most n requests per period to each backend endpoint (its host:port)
// for all routes of group together, across every instance sharing the registry's Redis (if
// reg is nil, or without Redis, per instance). A refused request gets status, by default 503,
// and the endpoint is not called: load shedding rather than a client's rate limit.
func NewBackendRateLimit(reg *ratelimit.Registry) Spec {
	if reg == nil {
		reg = ratelimit.NewRegistry(ratelimit.Options{})
	}
	return &backendRateLimitSpec{reg: reg}
}

func (*backendRateLimitSpec) Name() string { return BackendRateLimitName }

func (s *backendRateLimitSpec) Create(args []any) (Filter, error) {
	if len(args) != 3 && len(args) != 4 {
		return nil, argsErrorf("%s: want arguments (group, n, period[, status]), got %d", BackendRateLimitName, len(args))
	}
	group, ok := args[0].(string)
	if !ok || group == "" {
		return nil, argsErrorf("%s: argument 1 (group) must be a non-empty string", BackendRateLimitName)
	}
	n, err := ratelimit.ParseLimit(args[1])
	if err != nil {
		return nil, argsErrorf("%s: argument 2: %v", BackendRateLimitName, err)
	}
	period, err := ratelimit.ParsePeriod(args[2])
	if err != nil {
		return nil, argsErrorf("%s: argument 3: %v", BackendRateLimitName, err)
	}
	f := &backendRateLimitFilter{status: http.StatusServiceUnavailable}
	if len(args) == 4 {
		if f.status, err = statusArg(BackendRateLimitName, 4, args[3], 100, 599); err != nil {
			return nil, err
		}
	}
	// The group's limiter is apart from clusterRatelimit's of the same name: it counts per
	// endpoint, that one per route group.
	if f.limiter, err = s.reg.Cluster(BackendRateLimitName+"/"+group, n, period); err != nil {
		return nil, argsErrorf("%s: %v", BackendRateLimitName, err)
	}
	return f, nil
}

// Request does nothing: the endpoint is not known yet.
func (*backendRateLimitFilter) Request(*http.Request) error { return nil }

// AllowBackend admits r to endpoint, or refuses it with the filter's status.
func (f *backendRateLimitFilter) AllowBackend(r *http.Request, endpoint string) *Reply {
	ok, _, err := f.limiter.Allow(r.Context(), endpoint)
	if ok && !refusedUnavailable(f.failClosed, err) {
		return nil
	}
	return &Reply{Status: f.status}
}
