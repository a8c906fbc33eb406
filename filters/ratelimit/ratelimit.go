package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"sync"
	"time"
	"weak"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"
)

// Limiter decides whether one more request may pass. Implementations are safe for concurrent
// use.
type Limiter interface {
	// Allow records a request for key if it is within the limit and reports whether it is.
	// When ok is false, retryAfter is how long until a request for key would be admitted
	// (always positive); when ok is true it is zero. key may be any string, including "";
	// deciding what an empty client identity means is the caller's business (Skipper skips the
	// limit then).
	//
	// A non-nil err wraps ErrUnavailable: the shared store could not be asked, and ok and
	// retryAfter already follow the fail-open or fail-closed policy. Callers act on ok and may
	// report err; they must not treat it as a reason to fail the request on their own.
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// ErrUnavailable is wrapped by the errors Allow returns when the limiter's shared store (Redis)
// could not be asked.
var ErrUnavailable = errors.New("ratelimit store unavailable")

// DefaultMaxKeys is the number of keys a local limiter holds when Options.MaxKeys is zero.
const DefaultMaxKeys = 100_000

// failClosedRetryAfter is the Retry-After of a request refused because Redis is unreachable and
// the policy is to fail closed: short, so clients come back soon after Redis does. Skipper
// answers one second in the same case.
const failClosedRetryAfter = time.Second

// Options configures a Registry. The zero value is usable: no Redis (cluster limiters count per
// instance), fail open, no logging.
type Options struct {
	// Redis is the client cluster limiters share their logs through. If nil, Cluster returns a
	// local limiter, so a cluster limit counts per instance, and logs a warning once per
	// limiter. The client's own timeouts bound how long a request waits for Redis: keep them
	// short (Skipper's defaults are 25ms), and set MaxRetries to -1, since a retried script
	// counts the request twice.
	Redis *redis.Client

	// FailClosed makes cluster limiters refuse requests while Redis is unreachable. If false
	// (the default, as in Skipper), they admit them.
	FailClosed bool

	// Log receives the warnings about Redis failures (at most one a minute) and recoveries.
	// If nil, nothing is logged. Keys are never logged.
	Log logrus.FieldLogger

	// OnRedisError is called once for every Allow that could not reach Redis, for a metric.
	// A request cancelled by its own client is not counted. If nil, nothing is called. It must
	// be safe for concurrent use and fast.
	OnRedisError func()

	// MaxKeys bounds the keys one local limiter holds. Keys whose log has expired are dropped
	// first; when a limiter is still full, a new key evicts one of a small random sample of
	// keys, the one idle longest. If zero, DefaultMaxKeys is used.
	MaxKeys int

	// Now is the clock of the local limiters, for tests. If nil, time.Now is used. The
	// cluster limiters use the Redis server's clock.
	Now func() time.Time
}

// Registry hands out limiters shared by every route that asks for the same one, so that routes
// in one table, and the routes of the next table after a reload, count together. A limiter lives
// as long as some route holds it; once the last table using it is gone, the registry forgets it.
// main builds one Registry; it is safe for concurrent use.
type Registry struct {
	opts    Options
	log     logrus.FieldLogger
	seed    maphash.Seed
	cluster *clusterStore // nil without Redis

	mu       sync.Mutex
	limiters map[limiterKey]weak.Pointer[handle]
}

// kind separates the local and cluster namespaces, so that a route id never shares a limiter
// with a cluster group of the same name.
type kind uint8

const (
	kindLocal kind = iota
	kindCluster
	kindLeakyBucket
)

type limiterKey struct {
	kind   kind
	name   string
	limit  int
	period time.Duration
}

// handle is what the registry hands out. Its address is what routes hold on to, and what the
// registry's weak pointer watches.
type handle struct{ Limiter }

// NewRegistry returns a Registry with the given options.
func NewRegistry(o Options) *Registry {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	log := o.Log
	if log == nil {
		l := logrus.New()
		l.Out = io.Discard
		log = l
	}
	r := &Registry{
		opts:     o,
		log:      log,
		seed:     maphash.MakeSeed(),
		limiters: make(map[limiterKey]weak.Pointer[handle]),
	}
	if o.Redis != nil {
		r.cluster = newClusterStore(o.Redis, o.FailClosed, log, o.OnRedisError)
	}
	return r
}

// Local returns the instance-local limiter named id that admits limit requests per period,
// creating it if no route holds it. Use an id per filter instance, such as the route id and the
// filter name, for ratelimit and clientRatelimit. A limit of zero refuses every request.
func (r *Registry) Local(id string, limit int, period time.Duration) (Limiter, error) {
	if err := check(limit, period); err != nil {
		return nil, err
	}
	return r.get(limiterKey{kindLocal, id, limit, period}, func() Limiter {
		return r.newLocal(limit, period)
	}), nil
}

// Cluster returns the limiter of the given group that admits limit requests per period across
// every replica sharing the Registry's Redis, for clusterRatelimit and clusterClientRatelimit.
// Without Redis it returns a limiter that counts per instance. A limit of zero refuses every
// request.
func (r *Registry) Cluster(group string, limit int, period time.Duration) (Limiter, error) {
	if err := check(limit, period); err != nil {
		return nil, err
	}
	return r.get(limiterKey{kindCluster, group, limit, period}, func() Limiter {
		if limit == 0 {
			return denyAll{period}
		}
		if r.cluster == nil {
			r.log.WithField("group", group).
				Warn("cluster ratelimit without redis: counting per instance")
			return r.newLocal(limit, period)
		}
		return r.cluster.limiter(group, limit, period)
	}), nil
}

func check(limit int, period time.Duration) error {
	if limit < 0 {
		return fmt.Errorf("limit %d is negative", limit)
	}
	if period <= 0 {
		return fmt.Errorf("period %v is not positive", period)
	}
	return nil
}

func (r *Registry) newLocal(limit int, period time.Duration) Limiter {
	if limit == 0 {
		return denyAll{period}
	}
	return newLocalLimiter(limit, period, r.opts.MaxKeys, r.seed, r.opts.Now)
}

// get returns the live limiter for k or stores a new one from build. The registry holds only a
// weak pointer, so a limiter no route refers to any more is collected, and a cleanup then drops
// its entry.
func (r *Registry) get(k limiterKey, build func() Limiter) Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	if wp, ok := r.limiters[k]; ok {
		if h := wp.Value(); h != nil {
			return h
		}
	}
	h := &handle{build()}
	r.limiters[k] = weak.Make(h)
	runtime.AddCleanup(h, r.forget, k)
	return h
}

// forget drops k's entry if its limiter is gone. A newer limiter may already be stored under k,
// and must stay.
func (r *Registry) forget(k limiterKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if wp, ok := r.limiters[k]; ok && wp.Value() == nil {
		delete(r.limiters, k)
	}
}

// size returns the number of limiters the registry knows, for tests.
func (r *Registry) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.limiters)
}

// denyAll is the limiter of a zero limit.
type denyAll struct{ period time.Duration }

func (d denyAll) Allow(context.Context, string) (bool, time.Duration, error) {
	return false, d.period, nil
}
