package filters

import (
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/skipper-egress/skipper/filters/ratelimit"
)

// Route names of the rate limit filters.
const (
	RateLimitName              = "ratelimit"
	ClientRateLimitName        = "clientRatelimit"
	ClusterRateLimitName       = "clusterRatelimit"
	ClusterClientRateLimitName = "clusterClientRatelimit"
	// LocalRateLimitName is Skipper's deprecated name of clientRatelimit.
	LocalRateLimitName = "localRatelimit"
)

// headerRetryAfter is the header that tells a refused client when to come back (RFC 9110 §10.2.3).
const headerRetryAfter = "Retry-After"

// rateLimitSpec builds one of the four rate limit filters: cluster says whether the first
// argument is a group shared through Redis, client whether requests are counted per client.
type rateLimitSpec struct {
	name    string
	reg     *ratelimit.Registry
	cluster bool
	client  bool
	ids     *atomic.Uint64 // numbers the local limiters, one per filter instance
}

type rateLimitFilter struct {
	limiter ratelimit.Limiter // also keeps the registry's limiter alive while the route lives
	client  bool
	headers []string
	// failClosed refuses the requests Redis could not decide (ratelimitFailClosed).
	failClosed bool
}

var (
	_ Spec   = (*rateLimitSpec)(nil)
	_ Filter = (*rateLimitFilter)(nil)
)

// NewRateLimitSpecs returns the specs of the rate limit filters, whose limiters come from reg
// (if nil, a registry without Redis is used, so the cluster limits count per instance):
//
//   - ratelimit(n, period): at most n requests per period on the route, all clients together;
//   - clientRatelimit(n, period[, headers]): at most n per period for each client, identified
//     by the client address or by the values of the comma-separated headers (see
//     ratelimit.ClientKey); a request carrying none of the headers is not limited;
//   - clusterRatelimit(group, n, period): at most n per period for all routes of the group
//     together, across every instance sharing the registry's Redis;
//   - clusterClientRatelimit(group, n, period[, headers]): the same, per client;
//   - localRatelimit(n, period[, headers]): Skipper's deprecated name of clientRatelimit, with
//     the same arguments and limit.
//
// period is a duration string such as "1m" or a number of seconds. A refused request is
// answered with a *Reply of status 429 and a Retry-After header in whole seconds.
//
// The local limiters of ratelimit and clientRatelimit belong to one filter instance: a route
// reload starts them with a fresh window. Cluster limiters are shared by group and survive reloads.
func NewRateLimitSpecs(reg *ratelimit.Registry) []Spec {
	if reg == nil {
		reg = ratelimit.NewRegistry(ratelimit.Options{})
	}
	ids := new(atomic.Uint64)
	return []Spec{
		&rateLimitSpec{name: RateLimitName, reg: reg, ids: ids},
		&rateLimitSpec{name: ClientRateLimitName, reg: reg, client: true, ids: ids},
		&rateLimitSpec{name: LocalRateLimitName, reg: reg, client: true, ids: ids},
		&rateLimitSpec{name: ClusterRateLimitName, reg: reg, cluster: true, ids: ids},
		&rateLimitSpec{name: ClusterClientRateLimitName, reg: reg, cluster: true, client: true, ids: ids},
	}
}

func (s *rateLimitSpec) Name() string { return s.name }

func (s *rateLimitSpec) usage() string {
	u := "n, period"
	if s.cluster {
		u = "group, " + u
	}
	if s.client {
		u += "[, headers]"
	}
	return u
}

func (s *rateLimitSpec) Create(args []any) (Filter, error) {
	first := 0
	if s.cluster {
		first = 1
	}
	most := first + 2
	if s.client {
		most++
	}
	if len(args) < first+2 || len(args) > most {
		return nil, argsErrorf("%s: want arguments (%s), got %d", s.name, s.usage(), len(args))
	}
	var group string
	if s.cluster {
		g, ok := args[0].(string)
		if !ok || g == "" {
			return nil, argsErrorf("%s: argument 1 (group) must be a non-empty string", s.name)
		}
		group = g
	}
	n, err := ratelimit.ParseLimit(args[first])
	if err != nil {
		return nil, argsErrorf("%s: argument %d: %v", s.name, first+1, err)
	}
	period, err := ratelimit.ParsePeriod(args[first+1])
	if err != nil {
		return nil, argsErrorf("%s: argument %d: %v", s.name, first+2, err)
	}
	f := &rateLimitFilter{client: s.client}
	if s.client && len(args) == most {
		h, ok := args[most-1].(string)
		if !ok {
			return nil, argsErrorf("%s: argument %d (headers) must be a string, got %T", s.name, most, args[most-1])
		}
		if f.headers, err = ratelimit.ParseHeaders(h); err != nil {
			return nil, argsErrorf("%s: argument %d: %v", s.name, most, err)
		}
	}
	if s.cluster {
		f.limiter, err = s.reg.Cluster(group, n, period)
	} else {
		f.limiter, err = s.reg.Local(s.name+"#"+strconv.FormatUint(s.ids.Add(1), 10), n, period)
	}
	if err != nil {
		return nil, argsErrorf("%s: %v", s.name, err)
	}
	return f, nil
}

func (f *rateLimitFilter) setFailClosed() { f.failClosed = true }

// Request admits the request or refuses it with a 429 Reply. When the shared store is
// unreachable the limiter has already applied the fail-open or fail-closed policy, and logged
// and counted the failure; a route with ratelimitFailClosed refuses the request then anyway.
func (f *rateLimitFilter) Request(r *http.Request) error {
	var key string
	if f.client {
		if key = ratelimit.ClientKey(r, f.headers); key == "" {
			return nil // no client identity: Skipper does not limit such requests
		}
	}
	ok, retryAfter, err := f.limiter.Allow(r.Context(), key)
	if refusedUnavailable(f.failClosed, err) {
		return failClosedReply()
	}
	if ok {
		return nil
	}
	return &Reply{
		Status: http.StatusTooManyRequests,
		Header: http.Header{headerRetryAfter: {strconv.Itoa(ratelimit.RetryAfterSeconds(retryAfter))}},
	}
}
