package ratelimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/ratelimit"

	"github.com/skipper-egress/skipper/internal/redistest"
)

// BenchmarkLocalAllow measures the local limiter on the request path, for a key it already
// holds: admitted (1000 per microsecond, so every request passes while the full ring keeps
// turning) and refused (1 per hour).
func BenchmarkLocalAllow(b *testing.B) {
	ctx := context.Background()
	const ip = "198.51.100.7"
	for _, bc := range []struct {
		name   string
		n      int
		period time.Duration
	}{
		{"admitted", 1000, time.Microsecond},
		{"refused", 1, time.Hour},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := localLimiter(b, nil, bc.n, bc.period)
			for range bc.n {
				l.Allow(ctx, ip)
			}
			b.ReportAllocs()
			for b.Loop() {
				l.Allow(ctx, ip)
			}
		})
		b.Run(bc.name+" parallel", func(b *testing.B) {
			l := localLimiter(b, nil, bc.n, bc.period)
			for range bc.n {
				l.Allow(ctx, ip)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					l.Allow(ctx, ip)
				}
			})
		})
	}
	// With 1000 keys the shards spread the lock contention. The keys are refused: admitted
	// ones would have to expire within microseconds, and expired keys are swept.
	b.Run("1000 keys refused parallel", func(b *testing.B) {
		l := localLimiter(b, nil, 1, time.Hour)
		keys := make([]string, 1000)
		for i := range keys {
			keys[i] = "198.51.100." + strconv.Itoa(i)
			l.Allow(ctx, keys[i])
		}
		var worker atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(worker.Add(1)) * 97
			for pb.Next() {
				l.Allow(ctx, keys[i%len(keys)])
				i++
			}
		})
	})
}

// BenchmarkRedisAllow measures one cluster limiter decision against a local redis-server: a
// script round trip over loopback, serially and from parallel requests.
func BenchmarkRedisAllow(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	for _, parallel := range []bool{false, true} {
		name := "serial"
		if parallel {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			reg := ratelimit.NewRegistry(ratelimit.Options{Redis: srv.Client(b)})
			l, err := reg.Cluster("bench-"+name, 1_000_000_000, time.Second)
			if err != nil {
				b.Fatal(err)
			}
			allow := func() {
				if _, _, err := l.Allow(ctx, "198.51.100.7"); err != nil {
					b.Error(err)
				}
			}
			b.ReportAllocs()
			if !parallel {
				for b.Loop() {
					allow()
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					allow()
				}
			})
		})
	}
}
