package filters

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/skipper-egress/skipper/filters/ratelimit"
)

// ClusterLeakyBucketRateLimitName is the route name of the leaky bucket rate limit filter.
const ClusterLeakyBucketRateLimitName = "clusterLeakyBucketRatelimit"

type leakyBucketSpec struct{ reg *ratelimit.Registry }

type leakyBucketFilter struct {
	label     template
	bucket    ratelimit.LeakyBucket
	increment int
	// failClosed refuses the requests Redis could not decide (ratelimitFailClosed).
	failClosed bool
}

func (f *leakyBucketFilter) setFailClosed() { f.failClosed = true }

var (
	_ Spec   = (*leakyBucketSpec)(nil)
	_ Filter = (*leakyBucketFilter)(nil)
)

// NewClusterLeakyBucketRateLimit returns the spec of Skipper's
// clusterLeakyBucketRatelimit(label, volume, period, capacity, increment), whose buckets come
// from reg (if nil, a registry without Redis, so buckets count per instance).
//
// label names the bucket and may hold placeholders (one bucket per client:
// "auth-${request.header.Authorization}"); when one resolves to nothing the request passes and
// counts in no bucket. The bucket leaks volume units per period, holds capacity units, and each
// request pours increment units in: the long-run rate is volume/increment requests per period
// and capacity allows bursts. A request that would overflow the bucket is answered 429 with a
// Retry-After of the whole seconds until it would fit; an increment above the capacity never
// fits and gets no Retry-After. Label, rate and capacity together name a bucket, so routes may
// pour different increments into the same one.
func NewClusterLeakyBucketRateLimit(reg *ratelimit.Registry) Spec {
	if reg == nil {
		reg = ratelimit.NewRegistry(ratelimit.Options{})
	}
	return &leakyBucketSpec{reg: reg}
}

func (*leakyBucketSpec) Name() string { return ClusterLeakyBucketRateLimitName }

func (s *leakyBucketSpec) Create(args []any) (Filter, error) {
	const name = ClusterLeakyBucketRateLimitName
	if len(args) != 5 {
		return nil, argsErrorf("%s: want arguments (label, volume, period, capacity, increment), got %d", name, len(args))
	}
	label, ok := args[0].(string)
	if !ok {
		return nil, argsErrorf("%s: argument 1 (label) must be a string, got %T", name, args[0])
	}
	volume, err := positive(args[1])
	if err != nil {
		return nil, argsErrorf("%s: argument 2 (volume): %v", name, err)
	}
	period, err := ratelimit.ParsePeriod(args[2])
	if err != nil {
		return nil, argsErrorf("%s: argument 3: %v", name, err)
	}
	capacity, err := positive(args[3])
	if err != nil {
		return nil, argsErrorf("%s: argument 4 (capacity): %v", name, err)
	}
	increment, err := positive(args[4])
	if err != nil {
		return nil, argsErrorf("%s: argument 5 (increment): %v", name, err)
	}
	// The emission interval, the time one unit takes to leak, is the reciprocal of the rate.
	b, err := s.reg.LeakyBucket(capacity, period/time.Duration(volume))
	if err != nil {
		return nil, argsErrorf("%s: %v", name, err)
	}
	return &leakyBucketFilter{label: parseTemplate(label), bucket: b, increment: increment}, nil
}

// positive reads a whole number of at least 1.
func positive(arg any) (int, error) {
	f, ok := arg.(float64)
	if !ok {
		return 0, fmt.Errorf("must be a number, got %T", arg)
	}
	if f < 1 || f > 1<<30 || f != math.Trunc(f) {
		return 0, fmt.Errorf("%v is not a whole number from 1 to %d", f, 1<<30)
	}
	return int(f), nil
}

// Request admits the request or refuses it with a 429 Reply. As with the other cluster limits,
// an unreachable Redis has already been handled by the failure policy.
func (f *leakyBucketFilter) Request(r *http.Request) error {
	label, ok := f.label.expand(r, nil)
	if !ok {
		return nil // an unresolved placeholder: no bucket, as in Skipper
	}
	added, retryAfter, err := f.bucket.Add(r.Context(), label, f.increment)
	if refusedUnavailable(f.failClosed, err) {
		return failClosedReply()
	}
	if added {
		return nil
	}
	rep := &Reply{Status: http.StatusTooManyRequests}
	if retryAfter > 0 {
		rep.Header = http.Header{headerRetryAfter: {strconv.Itoa(ratelimit.RetryAfterSeconds(retryAfter))}}
	}
	return rep
}

// UsesPathParams reports whether the label holds a path-parameter placeholder.
func (f *leakyBucketFilter) UsesPathParams() bool { return f.label.usesParams() }
