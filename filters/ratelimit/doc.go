// Package ratelimit holds the rate limiters behind the ratelimit, clientRatelimit,
// clusterRatelimit and clusterClientRatelimit filters.
//
// A Limiter answers one question per request: may one more request for this key pass now, and
// if not, how long until it may? Keys are opaque: a constant for a route-wide limit, or a client
// identity (see ClientKey) for a per-client one. Limiters never log keys, and the Redis limiter
// stores only a hash of them, because a key can be an Authorization header.
//
// # Algorithm
//
// Both limiters keep a sliding-window log: the times of the requests they admitted. A request at
// time t is admitted when fewer than n admitted requests lie in the window (t-period, t]; a
// refused request is not recorded. An admitted request stops counting exactly one period after
// it was admitted, so a client that is refused is told to retry when the oldest request still
// holding its slot leaves the window (Retry-After, rounded up to whole seconds by
// RetryAfterSeconds). This is the algorithm Skipper uses for its local and Redis limiters; unlike a
// fixed-window counter it never admits 2n requests across a window boundary.
//
// The local limiter (Registry.Local) is exact: in every half-open interval [a, a+period) it
// admits at most n requests, measured on the process's monotonic clock. It keeps one ring of at most n
// timestamps per key, sharded over 64 mutexes. Keys whose log has expired are dropped lazily,
// and Options.MaxKeys bounds the number of keys a limiter holds.
//
// The cluster limiter (Registry.Cluster) keeps the log in a Redis sorted set per (group, period,
// key) and runs one Lua script per request (EVALSHA, falling back to EVAL after a Redis restart):
// ZREMRANGEBYSCORE drops entries older than one period, ZCARD counts the rest, and ZADD records
// the request under a unique member before PEXPIRE lets an idle log vanish. Redis runs the
// script atomically, and the script takes its timestamps from the Redis server's own clock
// (TIME), not from the replicas, so:
//
//   - Exactness bound: at most n requests are admitted in any half-open interval [a, a+period)
//     of the Redis server's clock, across all replicas, with no extra allowance. Clock skew between
//     replicas plays no part. What a backend observes is shifted by the proxy-to-backend latency,
//     so in any interval of length period at the backend it sees at most n admitted requests
//     plus those admitted during J, the spread (max minus min) of that latency; on a local
//     network J is a few milliseconds and the surplus is about n*J/period.
//   - The bound is loosened only by events outside the algorithm: the Redis clock stepping
//     forward (entries expire early, at most n extra once), a failover to a replica that lost
//     recent writes (at most n extra), and fail-open while Redis is unreachable (no limit).
//     A Redis clock stepping backward makes the limiter stricter, never looser. A reply lost
//     after the script ran counts a request that may then be retried, which is also stricter.
//   - Limiters for the same group and period share one log whatever their n, so a rolling
//     change of n needs no coordination; a different period gets its own log.
//
// Redis 5 or later is needed (scripts replicated by their effects, so TIME may precede writes).
//
// # Failure policy
//
// When Redis cannot be reached, Options.FailClosed chooses the answer: fail open (the default,
// as in Skipper) admits every request, fail closed refuses every request with a Retry-After of
// one second. Either way Allow returns an error wrapping ErrUnavailable next to the decision,
// Options.OnRedisError is called (a metric hook), and a warning is logged at most once a minute.
// Recovery needs nothing: the next request that reaches Redis is counted normally. Requests may
// keep following the policy for up to about a second after Redis answers again: once PoolSize
// dials in a row have failed, go-redis stops dialling (so an outage costs no dial timeout per
// request) and probes Redis once a second in the background. The fleet test in cmd/skipper
// measures 0.7 to 1.0 seconds.
package ratelimit
