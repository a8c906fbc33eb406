package ratelimit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"
)

// keyPrefix starts every Redis key the cluster limiters write.
const keyPrefix = "skipper-egress:ratelimit:"

// logEvery is how often a Redis outage is logged while it lasts.
const logEvery = time.Minute

// slidingWindowScript is the whole cluster limiter: one atomic step per request.
//
// KEYS[1] is the log; ARGV are the limit, the period in microseconds, and a member unique to
// this request. The time comes from the server (TIME), so replicas' clocks do not matter. An
// entry of age exactly period has left the window, as in the local limiter. It returns
// {1, 0} when the request is admitted and recorded, or {0, wait} with the microseconds until
// enough old entries leave the window to admit one more: when the log holds more than limit
// entries (limiters of the same group with a larger n share it), that is the entry at position
// count-limit, not the oldest.
const slidingWindowScript = `
if redis.replicate_commands then redis.replicate_commands() end
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
local count = redis.call('ZCARD', key)
if count < limit then
	redis.call('ZADD', key, now, ARGV[3])
	redis.call('PEXPIRE', key, math.floor(period / 1000) + 1000)
	return {1, 0}
end
local nth = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
return {0, tonumber(nth[2]) + period - now}
`

// clusterStore is what the cluster limiters of one Registry share: the client, the script, the
// failure policy and its bookkeeping.
type clusterStore struct {
	client *redis.Client
	script *redis.Script
	// bucketScript is the leaky bucket's script.
	bucketScript *redis.Script
	failClosed   bool
	log          logrus.FieldLogger
	onError      func()

	instance string        // random, so members from different processes never collide
	seq      atomic.Uint64 // members from this process
	failing  atomic.Bool   // the last call failed; the next success logs a recovery
	lastLog  atomic.Int64  // unix nanoseconds of the last outage warning
	dropped  atomic.Int64  // errors since that warning
}

func newClusterStore(c *redis.Client, failClosed bool, log logrus.FieldLogger, onError func()) *clusterStore {
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	return &clusterStore{
		client:       c,
		script:       redis.NewScript(slidingWindowScript),
		bucketScript: redis.NewScript(leakyBucketScript),
		failClosed:   failClosed,
		log:          log,
		onError:      onError,
		instance:     hex.EncodeToString(id[:]),
	}
}

func (c *clusterStore) limiter(group string, limit int, period time.Duration) *redisLimiter {
	micros := max(1, period.Microseconds())
	return &redisLimiter{
		store:  c,
		prefix: keyPrefix + group + ":" + strconv.FormatInt(micros, 10) + ":",
		limit:  limit,
		period: micros,
	}
}

// redisLimiter is one cluster limit. Its state lives in Redis; the value only knows where.
type redisLimiter struct {
	store  *clusterStore
	prefix string
	limit  int
	period int64 // microseconds
}

// Allow implements Limiter.
func (l *redisLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	c := l.store
	member := c.instance + "-" + strconv.FormatUint(c.seq.Add(1), 36)
	res, err := c.script.Run(ctx, c.client, []string{l.prefix + hashKey(key)},
		l.limit, l.period, member).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected script reply of %d values", len(res))
	}
	if err != nil {
		return c.failed(ctx, err)
	}
	if c.failing.Load() && c.failing.CompareAndSwap(true, false) {
		c.log.Info("cluster ratelimit: redis reachable again")
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, max(time.Microsecond, time.Duration(res[1])*time.Microsecond), nil
}

// failed applies the failure policy to a request Redis could not decide.
func (c *clusterStore) failed(ctx context.Context, err error) (bool, time.Duration, error) {
	// A client that went away cancels its own request; Redis is not to blame.
	if !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
		c.outage(err)
	}
	err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	if c.failClosed {
		return false, failClosedRetryAfter, err
	}
	return true, 0, err
}

// outage counts a Redis error and logs it, at most once a minute. go-redis errors name the
// server and the failure, never the command's arguments, so no key reaches the log.
func (c *clusterStore) outage(err error) {
	if c.onError != nil {
		c.onError()
	}
	c.failing.Store(true)
	now := time.Now().UnixNano()
	last := c.lastLog.Load()
	if now-last < int64(logEvery) || !c.lastLog.CompareAndSwap(last, now) {
		c.dropped.Add(1)
		return
	}
	mode := "open"
	if c.failClosed {
		mode = "closed"
	}
	c.log.WithError(err).WithField("suppressed", c.dropped.Swap(0)).
		Warnf("cluster ratelimit: redis unavailable, failing %s", mode)
}

// hashKey turns a client key into the part of a Redis key that names the client. A key can be an
// Authorization header, so Redis only ever sees 128 bits of its SHA-256.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
