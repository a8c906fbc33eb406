package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
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
	fs.Var(breakerFlags{&cfg.Breakers}, "breaker", breakerUsage)
}

// validateLimits checks the Redis addresses and the default circuit breakers.
func (c Config) validateLimits() []error {
	var errs []error
	for i, addr := range c.SwarmRedisURLs {
		switch _, _, err := net.SplitHostPort(addr); {
		case strings.Contains(addr, "@"):
			// A URL with user info carries a password: the entry is named, not shown.
			errs = append(errs, fmt.Errorf("-swarm-redis-urls: entry %d is a URL with user info, not a host:port address", i+1))
		case err != nil || addr == "":
			errs = append(errs, fmt.Errorf("-swarm-redis-urls: %q is not a host:port address", addr))
		}
	}
	_, _, berrs := c.breakerDefaults()
	return append(errs, berrs...)
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
	defaults, hostDefaults, _ := cfg.breakerDefaults() // checked by Validate
	l.breakers = circuit.NewRegistry(circuit.Options{
		Defaults:     defaults,
		HostDefaults: hostDefaults,
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

// breakerUsage is the help text of -breaker.
const breakerUsage = `a default circuit breaker for routes without a breaker filter, repeatable: ` +
	`"type=consecutive,failures=N" or "type=rate,failures=N,window=M", each with optional ` +
	`timeout=DURATION, half-open-requests=N and idle-ttl=DURATION (durations as "30s" or milliseconds), ` +
	`or "type=disabled"; type defaults to consecutive. With host=NAME[:PORT] it applies to that backend ` +
	`host only and takes what it leaves out from the -breaker without host=. A route's filter wins over both`

// maxBreakerCount bounds failures, window and half-open requests, as the breaker filters do: a
// rate breaker keeps one bit per request of its window.
const maxBreakerCount = 1 << 24

// breakerFlag is one -breaker flag as given: the settings it names, for one backend host or, with
// Host empty, for every host. Fields it did not name are zero.
type breakerFlag struct {
	Host     string
	Settings circuit.Settings
	text     string // the flag's value, for error messages
}

// breakerFlags is the pflag.Value of the repeatable -breaker flag. Set checks each flag on its
// own; breakerDefaults checks them together.
type breakerFlags struct{ list *[]breakerFlag }

func (b breakerFlags) Type() string { return "breaker" }

func (b breakerFlags) String() string {
	if b.list == nil {
		return ""
	}
	texts := make([]string, len(*b.list))
	for i, f := range *b.list {
		texts[i] = f.text
	}
	return strings.Join(texts, " ")
}

func (b breakerFlags) Set(v string) error {
	f, err := parseBreaker(v)
	if err != nil {
		return err
	}
	*b.list = append(*b.list, f)
	return nil
}

// parseBreaker reads one -breaker value: comma-separated key=value pairs with Skipper's keys.
func parseBreaker(v string) (breakerFlag, error) {
	f := breakerFlag{text: v}
	seen := make(map[string]bool, 4)
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(kv, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" || val == "" {
			return f, fmt.Errorf("%q is not key=value", kv)
		}
		if seen[k] {
			return f, fmt.Errorf("%s is given twice", k)
		}
		seen[k] = true
		var err error
		s := &f.Settings
		switch k {
		case "type":
			s.Type, err = parseBreakerType(val)
		case "host":
			if strings.ContainsAny(val, "/ ") {
				err = fmt.Errorf("host %q is not a host name with an optional port", val)
			}
			f.Host = val
		case "failures", "window", "half-open-requests":
			var n int
			if n, err = strconv.Atoi(val); err != nil || n < 1 || n > maxBreakerCount {
				err = fmt.Errorf("%s %q is not a whole number from 1 to %d", k, val, maxBreakerCount)
			}
			switch k {
			case "failures":
				s.Failures = n
			case "window":
				s.Window = n
			default:
				s.HalfOpenRequests = n
			}
		case "timeout":
			s.Timeout, err = parseBreakerDuration(k, val)
		case "idle-ttl":
			s.IdleTTL, err = parseBreakerDuration(k, val)
		default:
			err = fmt.Errorf("unknown key %q (want type, host, failures, window, timeout, half-open-requests or idle-ttl)", k)
		}
		if err != nil {
			return f, err
		}
	}
	if s := f.Settings; s.Type == circuit.Disabled && s != (circuit.Settings{Type: circuit.Disabled}) {
		return f, errors.New("type=disabled takes no setting but host")
	}
	return f, nil
}

func parseBreakerType(v string) (circuit.Type, error) {
	for _, t := range []circuit.Type{circuit.ConsecutiveFailures, circuit.FailureRate, circuit.Disabled} {
		if v == t.String() {
			return t, nil
		}
	}
	return circuit.None, fmt.Errorf("unknown type %q (want consecutive, rate or disabled)", v)
}

// parseBreakerDuration reads a duration such as "30s" or, as Skipper also takes it, a whole
// number of milliseconds.
func parseBreakerDuration(k, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		ms, merr := strconv.ParseInt(v, 10, 64)
		if merr != nil || ms > int64(time.Duration(1<<63-1)/time.Millisecond) {
			return 0, fmt.Errorf("%s %q is not a duration such as \"30s\" or a number of milliseconds", k, v)
		}
		d = time.Duration(ms) * time.Millisecond
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s %q is not positive", k, v)
	}
	return d, nil
}

// breakerDefaults turns the -breaker flags into the breaker registry's defaults: the flag without
// host= for every backend host, and one entry for each host=, which takes the settings it leaves
// out from the former. It reports every problem, naming the flag.
func (c Config) breakerDefaults() (global circuit.Settings, hosts map[string]circuit.Settings, errs []error) {
	globalText := ""
	for _, f := range c.Breakers {
		if f.Host != "" {
			continue
		}
		if globalText != "" {
			errs = append(errs, fmt.Errorf("-breaker %q and -breaker %q both lack host=; give at most one global breaker", globalText, f.text))
			continue
		}
		globalText = f.text
		global = f.Settings
		if global.Type == circuit.None {
			global.Type = circuit.ConsecutiveFailures // Skipper's default
		}
		if err := checkBreaker(global); err != nil {
			errs = append(errs, fmt.Errorf("-breaker %q: %w", f.text, err))
		}
	}
	for _, f := range c.Breakers {
		if f.Host == "" {
			continue
		}
		if _, dup := hosts[f.Host]; dup {
			errs = append(errs, fmt.Errorf("-breaker: host %q is given twice", f.Host))
			continue
		}
		s := f.Settings
		if s.Type == circuit.None && global.Type != circuit.ConsecutiveFailures && global.Type != circuit.FailureRate {
			s.Type = circuit.ConsecutiveFailures // nothing to take the type from
		}
		s = s.Inherit(global)
		if err := checkBreaker(s); err != nil {
			errs = append(errs, fmt.Errorf("-breaker %q: %w", f.text, err))
		}
		if hosts == nil {
			hosts = make(map[string]circuit.Settings)
		}
		hosts[f.Host] = s
	}
	return global, hosts, errs
}

// checkBreaker reports what a default breaker lacks, in the flag's terms.
func checkBreaker(s circuit.Settings) error {
	switch {
	case s.Type == circuit.Disabled:
		return nil
	case s.Failures == 0:
		return fmt.Errorf("type=%s needs failures=N", s.Type)
	case s.Type == circuit.FailureRate && s.Window == 0:
		return errors.New("type=rate needs window=N")
	case s.Type == circuit.ConsecutiveFailures && s.Window != 0:
		return errors.New("window applies to type=rate only")
	}
	return s.Validate()
}
