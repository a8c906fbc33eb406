package filters

import (
	"errors"
	"net/http"

	"github.com/skipper-egress/skipper/filters/ratelimit"
)

// Route names of the filters that change how a route's rate limits behave.
const (
	DisableRateLimitName    = "disableRatelimit"
	RateLimitFailClosedName = "ratelimitFailClosed"
)

// failCloser is implemented by the rate limit filters whose limiter asks Redis: setFailClosed
// makes them refuse the requests Redis could not decide, whatever -cluster-ratelimit-fail-closed
// says. Only ApplyFailClosed calls it, while the route is compiled, before any request sees it.
type failCloser interface{ setFailClosed() }

type (
	disableRateLimitSpec    struct{}
	disableRateLimitFilter  struct{}
	rateLimitFailClosedSpec struct{}
	rateLimitFailClosed     struct{}
)

var (
	_ Spec   = disableRateLimitSpec{}
	_ Spec   = rateLimitFailClosedSpec{}
	_ Filter = disableRateLimitFilter{}
	_ Filter = rateLimitFailClosed{}
)

// NewDisableRateLimit returns the spec of disableRatelimit(), which Skipper registers to turn
// its default rate limits (its -ratelimits flag) off for a route. This proxy has no default
// rate limits, so the filter does nothing; like Skipper's, it ignores any arguments, and it
// leaves the route's own rate limit filters in force, as Skipper's does.
func NewDisableRateLimit() Spec { return disableRateLimitSpec{} }

func (disableRateLimitSpec) Name() string { return DisableRateLimitName }

func (disableRateLimitSpec) Create([]any) (Filter, error) { return disableRateLimitFilter{}, nil }

func (disableRateLimitFilter) Request(*http.Request) error { return nil }

// NewRateLimitFailClosed returns the spec of ratelimitFailClosed(): wherever it stands in a
// route, that route's clusterRatelimit, clusterClientRatelimit, backendRatelimit and
// clusterLeakyBucketRatelimit filters refuse the requests they cannot decide while Redis is
// unreachable (429 with Retry-After: 1, or backendRatelimit's status), as Skipper's do. The
// other routes keep the -cluster-ratelimit-fail-closed policy.
func NewRateLimitFailClosed() Spec { return rateLimitFailClosedSpec{} }

func (rateLimitFailClosedSpec) Name() string { return RateLimitFailClosedName }

func (rateLimitFailClosedSpec) Create(args []any) (Filter, error) {
	if len(args) != 0 {
		return nil, argsErrorf("%s: takes no arguments, got %d", RateLimitFailClosedName, len(args))
	}
	return rateLimitFailClosed{}, nil
}

func (rateLimitFailClosed) Request(*http.Request) error { return nil }

// ApplyFailClosed makes the rate limit filters of fs, one route's filters, fail closed if fs
// holds a ratelimitFailClosed filter. The router calls it once the route's filters are built.
func ApplyFailClosed(fs []Filter) {
	found := false
	for _, f := range fs {
		if _, ok := f.(rateLimitFailClosed); ok {
			found = true
			break
		}
	}
	if !found {
		return
	}
	for _, f := range fs {
		if c, ok := f.(failCloser); ok {
			c.setFailClosed()
		}
	}
}

// refusedUnavailable reports whether a limiter's decision must be turned into a refusal: the
// filter fails closed and the limiter could not ask Redis (it then admitted the request).
func refusedUnavailable(failClosed bool, err error) bool {
	return failClosed && errors.Is(err, ratelimit.ErrUnavailable)
}

// failClosedReply is the 429 of a request refused because Redis could not be asked.
func failClosedReply() *Reply {
	return &Reply{
		Status: http.StatusTooManyRequests,
		Header: http.Header{headerRetryAfter: {"1"}}, // as Skipper, and -cluster-ratelimit-fail-closed
	}
}
