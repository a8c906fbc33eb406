package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// leakyBucketScript is the cluster leaky bucket: one atomic step per request, the algorithm of
// Skipper's clusterLeakyBucketRatelimit (a generic cell rate algorithm).
//
// KEYS[1] holds the time, in microseconds of the Redis server's clock, at which the bucket will
// be empty. ARGV are the capacity, the emission interval (the time to leak one unit) in
// microseconds and the increment. A bucket that is missing or already empty is empty now. The
// request fits when the bucket, once the increment is poured in, holds at most capacity units;
// then the empty time moves on by increment emissions and the key expires when the bucket is
// empty. The reply is the room left, in microseconds: at least 0 when the request fits, else
// minus the time until it would.
const leakyBucketScript = `
if redis.replicate_commands then redis.replicate_commands() end
local capacity = tonumber(ARGV[1])
local emission = tonumber(ARGV[2])
local increment = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local empty_at = tonumber(redis.call('GET', KEYS[1]) or now)
if empty_at < now then empty_at = now end
local room = (capacity - increment) * emission - (empty_at - now)
if room >= 0 then
	empty_at = empty_at + increment * emission
	redis.call('SET', KEYS[1], empty_at, 'PX', math.ceil((empty_at - now) / 1000))
end
return room
`

// LeakyBucket is a class of leaky buckets of one capacity and leak rate, for the
// clusterLeakyBucketRatelimit filter: each label names one bucket of the class. A bucket leaks
// one unit per emission interval; a request pours its increment in, and is admitted only if the
// bucket does not overflow. Capacity is the largest burst, emission the time between requests
// in the long run. With Redis the buckets are shared by every instance and survive reloads;
// without it they count per instance. It is safe for concurrent use.
type LeakyBucket struct {
	h *handle // keeps the registry's bucket alive while a route holds it
}

// Add pours increment units into the bucket named label. When they fit it returns true; when
// they do not, retryAfter is how long until they would, or zero when they never can (increment
// above capacity). Like Limiter.Allow, a non-nil err wraps ErrUnavailable, and added already
// follows the fail-open or fail-closed policy. Labels are never logged, and Redis sees only a
// hash of them.
func (b LeakyBucket) Add(ctx context.Context, label string, increment int) (added bool, retryAfter time.Duration, err error) {
	return b.h.Limiter.(bucket).add(ctx, label, increment)
}

// bucket is what a LeakyBucket's handle holds. It implements Limiter too, so that the registry
// keeps it with the limiters; Allow pours in one unit.
type bucket interface {
	Limiter
	add(ctx context.Context, label string, increment int) (bool, time.Duration, error)
}

// LeakyBucket returns the class of leaky buckets of the given capacity (in units) that leak one
// unit every emission, shared by every route asking for the same class.
func (r *Registry) LeakyBucket(capacity int, emission time.Duration) (LeakyBucket, error) {
	if capacity <= 0 || capacity > maxLimit {
		return LeakyBucket{}, fmt.Errorf("capacity %d is not a whole number from 1 to %d", capacity, maxLimit)
	}
	if emission < time.Microsecond {
		return LeakyBucket{}, fmt.Errorf("emission interval %v is shorter than 1µs", emission)
	}
	h := r.get(limiterKey{kindLeakyBucket, "", capacity, emission}, func() Limiter {
		if r.cluster == nil {
			r.log.Warn("cluster leaky bucket ratelimit without redis: counting per instance")
			return &localBucket{capacity: int64(capacity), emission: emission.Microseconds(),
				now: r.opts.Now, maxKeys: r.opts.MaxKeys, empty: make(map[string]int64)}
		}
		return &redisBucket{store: r.cluster, capacity: capacity, emission: emission.Microseconds(),
			prefix: keyPrefix + "lkb:" + strconv.Itoa(capacity) + ":" + strconv.FormatInt(emission.Microseconds(), 10) + ":"}
	})
	return LeakyBucket{h: h.(*handle)}, nil
}

// redisBucket keeps its buckets in Redis, one key per label.
type redisBucket struct {
	store    *clusterStore
	capacity int
	emission int64 // microseconds
	prefix   string
}

func (b *redisBucket) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	return b.add(ctx, key, 1)
}

func (b *redisBucket) add(ctx context.Context, label string, increment int) (bool, time.Duration, error) {
	if increment > b.capacity {
		return false, 0, nil // never fits: no retry helps, and Redis need not be asked
	}
	c := b.store
	room, err := c.bucketScript.Run(ctx, c.client, []string{b.prefix + hashKey(label)},
		b.capacity, b.emission, increment).Int64()
	if err != nil {
		return c.failed(ctx, err)
	}
	if c.failing.Load() && c.failing.CompareAndSwap(true, false) {
		c.log.Info("cluster ratelimit: redis reachable again")
	}
	if room >= 0 {
		return true, 0, nil
	}
	return false, time.Duration(-room) * time.Microsecond, nil
}

// localBucket keeps its buckets in memory: for each label, the time (microseconds) at which it
// will be empty. Buckets that are empty are dropped when the map is full; if it is still full, an
// arbitrary bucket is, which can only admit a request that would have been refused.
type localBucket struct {
	capacity int64
	emission int64
	now      func() time.Time
	maxKeys  int

	mu    sync.Mutex
	empty map[string]int64
}

func (b *localBucket) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	return b.add(ctx, key, 1)
}

func (b *localBucket) add(_ context.Context, label string, increment int) (bool, time.Duration, error) {
	inc := int64(increment)
	if inc > b.capacity {
		return false, 0, nil
	}
	now := b.now().UnixMicro()
	b.mu.Lock()
	defer b.mu.Unlock()
	emptyAt, ok := b.empty[label]
	if !ok || emptyAt < now {
		emptyAt = now
	}
	room := (b.capacity-inc)*b.emission - (emptyAt - now)
	if room < 0 {
		return false, time.Duration(-room) * time.Microsecond, nil
	}
	if !ok && len(b.empty) >= b.maxKeys {
		b.evict(now)
	}
	b.empty[label] = emptyAt + inc*b.emission
	return true, 0, nil
}

// evict drops the empty buckets, or one arbitrary bucket if none is empty.
func (b *localBucket) evict(now int64) {
	for k, t := range b.empty {
		if t <= now {
			delete(b.empty, k)
		}
	}
	for k := range b.empty {
		if len(b.empty) < b.maxKeys {
			return
		}
		delete(b.empty, k)
	}
}
