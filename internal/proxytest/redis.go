package proxytest

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/skipper-egress/skipper/internal/redistest"
)

// StartRedis starts a redis-server of the test's own on a free loopback port, without
// persistence, and kills it when the test ends. It returns the server's host:port. Without
// redis-server in PATH the test is skipped.
func StartRedis(t testing.TB) string { return redistest.Start(t).Addr() }

// RedisClient returns a client for addr configured as a proxy should configure it (short
// timeouts, no retries), closed when the test ends.
func RedisClient(t testing.TB, addr string) *redis.Client { return redistest.NewClient(t, addr) }
