package main

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/filters/ratelimit"
)

// Timeouts of the Redis client behind the cluster rate limits. Every request on a cluster-limited
// route waits for Redis, so a slow Redis must fail fast and fall back to the fail-open or
// fail-closed policy rather than slow every request down; Skipper's defaults are 25ms.
const (
	redisDialTimeout = 50 * time.Millisecond
	redisIOTimeout   = 25 * time.Millisecond
)

// addLimitFlags binds the flags of the rate limits and circuit breakers.
func addLimitFlags(fs *pflag.FlagSet, cfg *Config) {
	fs.StringSliceVar(&cfg.SwarmRedisURLs, "swarm-redis-urls", nil,
		"comma-separated Redis addresses (host:port) shared by the cluster rate limits of all instances; only the first is used")
	fs.BoolVar(&cfg.ClusterRatelimitFailClosed, "cluster-ratelimit-fail-closed", false,
		"refuse cluster rate-limited requests (429) while Redis is unreachable, instead of admitting them")
	fs.BoolVar(&cfg.EnableRatelimits, "enable-ratelimits", false,
		"accepted for compatibility: the rate limit filters always work")
	fs.BoolVar(&cfg.EnableBreakers, "enable-breakers", false,
		"accepted for compatibility: the circuit breaker filters always work")
}

// validateLimits checks the Redis addresses.
func (c Config) validateLimits() []error {
	var errs []error
	for _, addr := range c.SwarmRedisURLs {
		if _, _, err := net.SplitHostPort(addr); err != nil || addr == "" {
			errs = append(errs, fmt.Errorf("-swarm-redis-urls: %q is not a host:port address", addr))
		}
	}
	return errs
}

// limits are the registries of the rate limiters and circuit breakers, and the Redis client the
// cluster limiters share (nil without -swarm-redis-urls).
type limits struct {
	rates    *ratelimit.Registry
	breakers *circuit.Registry
	redis    *redis.Client
}

// newLimits builds the registries. Redis errors are counted in
// skipper_ratelimit_redis_errors_total on reg. The Redis client connects lazily, on the first
// cluster-limited request.
func newLimits(cfg Config, reg prometheus.Registerer, log logrus.FieldLogger) (*limits, error) {
	redisErrors := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "skipper_ratelimit_redis_errors_total",
		Help: "Cluster rate limit decisions that could not reach Redis and followed the fail-open or fail-closed policy.",
	})
	if err := reg.Register(redisErrors); err != nil {
		return nil, fmt.Errorf("registering the redis error metric: %w", err)
	}
	l := &limits{}
	if len(cfg.SwarmRedisURLs) > 0 {
		if len(cfg.SwarmRedisURLs) > 1 {
			log.WithField("redis", cfg.SwarmRedisURLs[0]).Warn("-swarm-redis-urls names several addresses; only the first is used")
		}
		l.redis = redis.NewClient(&redis.Options{
			Addr:            cfg.SwarmRedisURLs[0],
			DialTimeout:     redisDialTimeout,
			ReadTimeout:     redisIOTimeout,
			WriteTimeout:    redisIOTimeout,
			PoolTimeout:     redisIOTimeout,
			MaxRetries:      -1, // a retried script would count the request twice
			DialerRetries:   1,
			DisableIdentity: true, // no CLIENT SETINFO, which Redis before 7.2 refuses
		})
	}
	l.rates = ratelimit.NewRegistry(ratelimit.Options{
		Redis:        l.redis,
		FailClosed:   cfg.ClusterRatelimitFailClosed,
		Log:          log,
		OnRedisError: redisErrors.Inc,
	})
	l.breakers = circuit.NewRegistry(circuit.Options{
		OnStateChange: func(host string, from, to circuit.State) {
			e := log.WithFields(logrus.Fields{"backend": host, "from": from.String(), "to": to.String()})
			if to == circuit.Open {
				e.Warn("circuit breaker opened")
				return
			}
			e.Info("circuit breaker changed state")
		},
	})
	return l, nil
}

// close releases the Redis client's connections.
func (l *limits) close() error {
	if l == nil || l.redis == nil {
		return nil
	}
	if err := l.redis.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return err
	}
	return nil
}
