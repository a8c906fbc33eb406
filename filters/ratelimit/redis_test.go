package ratelimit_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/skipper-egress/skipper/filters/ratelimit"

	"github.com/skipper-egress/skipper/internal/redistest"
)

// admission is one admitted request, bracketed by the client's clock: Redis decided it at some
// moment between before and after.
type admission struct{ before, after time.Time }

// TestClusterLimitSharedByReplicas runs three registries, as three replicas would, against one
// redis-server and hammers one group from all of them at once. In every interval of one period,
// the requests certainly decided inside it must number at most n: the script's bound is exact.
func TestClusterLimitSharedByReplicas(t *testing.T) {
	srv := redistest.Start(t)
	const (
		n       = 100
		period  = time.Second
		run     = 2200 * time.Millisecond
		workers = 4
	)
	var (
		mu       sync.Mutex
		admitted []admission
		refused  atomic.Int64
		wg       sync.WaitGroup
	)
	stop := time.Now().Add(run)
	for replica := range 3 {
		reg := ratelimit.NewRegistry(ratelimit.Options{Redis: srv.Client(t)})
		l, err := reg.Cluster("api", n, period)
		if err != nil {
			t.Fatalf("Cluster: %v", err)
		}
		for range workers {
			wg.Go(func() {
				var mine []admission
				for time.Now().Before(stop) {
					before := time.Now()
					ok, retry, err := l.Allow(context.Background(), "")
					after := time.Now()
					if err != nil {
						t.Errorf("replica %d: Allow: %v", replica, err)
						return
					}
					if ok {
						mine = append(mine, admission{before, after})
						continue
					}
					refused.Add(1)
					if retry <= 0 || retry > period {
						t.Errorf("replica %d: retryAfter %v, want in (0, %v]", replica, retry, period)
					}
				}
				mu.Lock()
				admitted = append(admitted, mine...)
				mu.Unlock()
			})
		}
	}
	wg.Wait()

	slices.SortFunc(admitted, func(a, b admission) int { return a.before.Compare(b.before) })
	worst := 0
	for i, a := range admitted {
		end := a.before.Add(period)
		inside := 0
		for _, b := range admitted[i:] {
			if !b.before.Before(end) {
				break
			}
			if b.after.Before(end) {
				inside++
			}
		}
		worst = max(worst, inside)
	}
	t.Logf("admitted %d, refused %d, most admitted within one period: %d", len(admitted), refused.Load(), worst)
	if worst > n {
		t.Errorf("%d requests admitted within one period, want at most %d", worst, n)
	}
	// 2.2s hold windows starting near 0s, 1s and 2s: at least two full ones, at most three.
	if got := len(admitted); got < 2*n || got > 3*n {
		t.Errorf("admitted %d requests in %v, want %d to %d", got, run, 2*n, 3*n)
	}
	if refused.Load() == 0 {
		t.Errorf("no request was refused")
	}
}

func TestClusterLimitSemantics(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	reg := ratelimit.NewRegistry(ratelimit.Options{Redis: srv.Client(t)})
	mustCluster := func(group string, n int, period time.Duration) ratelimit.Limiter {
		t.Helper()
		l, err := reg.Cluster(group, n, period)
		if err != nil {
			t.Fatalf("Cluster(%q, %d, %v): %v", group, n, period, err)
		}
		return l
	}
	admit := func(l ratelimit.Limiter, key string, times int) {
		t.Helper()
		for i := range times {
			if ok, _, err := l.Allow(ctx, key); !ok || err != nil {
				t.Fatalf("request %d: got ok=%v err=%v, want admitted", i+1, ok, err)
			}
		}
	}
	refuse := func(l ratelimit.Limiter, key string, maxRetry time.Duration) {
		t.Helper()
		ok, retry, err := l.Allow(ctx, key)
		if ok || err != nil || retry <= 0 || retry > maxRetry {
			t.Fatalf("got ok=%v retry=%v err=%v, want refused with retry in (0, %v]", ok, retry, err, maxRetry)
		}
	}

	t.Run("keys count apart", func(t *testing.T) {
		l := mustCluster("keys", 2, time.Minute)
		admit(l, "a", 2)
		refuse(l, "a", time.Minute)
		admit(l, "b", 2)
	})
	t.Run("same group and period share one log whatever n", func(t *testing.T) {
		big, small := mustCluster("shared", 10, time.Minute), mustCluster("shared", 3, time.Minute)
		admit(big, "k", 5)
		refuse(small, "k", time.Minute)
		admit(big, "k", 5)
		refuse(big, "k", time.Minute)
	})
	t.Run("another period has its own log", func(t *testing.T) {
		admit(mustCluster("periods", 1, time.Minute), "k", 1)
		admit(mustCluster("periods", 1, time.Hour), "k", 1)
	})
	t.Run("zero refuses everything", func(t *testing.T) {
		refuse(mustCluster("zero", 0, time.Minute), "k", time.Minute)
	})
	t.Run("admits again once the oldest request leaves the window", func(t *testing.T) {
		const period = 300 * time.Millisecond
		l := mustCluster("expiry", 2, period)
		start := time.Now()
		admit(l, "k", 2)
		refuse(l, "k", period)
		deadline := time.Now().Add(5 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			ok, _, err := l.Allow(ctx, "k")
			if err != nil {
				t.Fatalf("Allow: %v", err)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still refused 5s after filling a %v window", period)
			}
			<-tick.C
		}
		// Redis decided on its clock, we measure on ours: allow a little for the round trip.
		if waited := time.Since(start); waited < period-20*time.Millisecond {
			t.Errorf("admitted again after %v, want at least %v", waited, period)
		}
	})
	t.Run("redis never sees the key", func(t *testing.T) {
		const secret = "Bearer s3cr3t-t0ken"
		admit(mustCluster("hashed", 5, time.Minute), secret, 1)
		c := srv.Client(t)
		keys, err := c.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatalf("KEYS: %v", err)
		}
		for _, k := range keys {
			members, err := c.ZRange(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatalf("ZRANGE %s: %v", k, err)
			}
			for _, s := range append(members, k) {
				if strings.Contains(s, "s3cr3t") {
					t.Errorf("redis holds %q, which contains the key", s)
				}
			}
		}
	})
}

// TestClusterRedisOutage kills redis-server under two registries, one failing open and one
// failing closed, checks that each follows its policy, counts and logs once, and that both
// count normally again once redis-server is back on the same port.
func TestClusterRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	type replica struct {
		name       string
		failClosed bool
		errs       atomic.Int64
		log        *logtest.Hook
		limiter    ratelimit.Limiter
	}
	replicas := []*replica{{name: "open"}, {name: "closed", failClosed: true}}
	for _, r := range replicas {
		logger, hook := logtest.NewNullLogger()
		r.log = hook
		reg := ratelimit.NewRegistry(ratelimit.Options{
			Redis: srv.Client(t), FailClosed: r.failClosed, Log: logger,
			OnRedisError: func() { r.errs.Add(1) },
		})
		var err error
		if r.limiter, err = reg.Cluster(r.name, 3, time.Minute); err != nil {
			t.Fatalf("Cluster: %v", err)
		}
	}
	expect := func(r *replica, phase string, wantOK bool, wantErr error) {
		t.Helper()
		ok, retry, err := r.limiter.Allow(ctx, "k")
		if ok != wantOK || !errors.Is(err, wantErr) {
			t.Fatalf("%s, fail %s: got ok=%v err=%v, want ok=%v err=%v", phase, r.name, ok, err, wantOK, wantErr)
		}
		if !ok && retry <= 0 {
			t.Fatalf("%s, fail %s: refused with retryAfter %v, want positive", phase, r.name, retry)
		}
	}

	for _, r := range replicas {
		for range 3 {
			expect(r, "before the outage", true, nil)
		}
		expect(r, "before the outage", false, nil)
	}

	srv.Stop()
	const tries = 20
	for _, r := range replicas {
		for range tries {
			expect(r, "redis down", !r.failClosed, ratelimit.ErrUnavailable)
		}
		if got := r.errs.Load(); got != tries {
			t.Errorf("fail %s: OnRedisError called %d times, want %d", r.name, got, tries)
		}
		if got := countLogs(r.log, logrus.WarnLevel); got != 1 {
			t.Errorf("fail %s: %d warnings logged, want 1 (once a minute)", r.name, got)
		}
	}

	srv.Restart() // empty again: no persistence
	for _, r := range replicas {
		waitForRedis(t, r.limiter)
		// waitForRedis used one slot of three.
		expect(r, "after the outage", true, nil)
		expect(r, "after the outage", true, nil)
		expect(r, "after the outage", false, nil)
		if got := countLogs(r.log, logrus.InfoLevel); got != 1 {
			t.Errorf("fail %s: %d recovery messages logged, want 1", r.name, got)
		}
	}
}

// waitForRedis polls l until a request is decided by Redis again, which go-redis allows within
// about a second of the server's return.
func waitForRedis(t *testing.T, l ratelimit.Limiter) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, _, err := l.Allow(context.Background(), "k")
		if err == nil {
			if !ok {
				t.Fatalf("first request after redis came back was refused")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis still unavailable 10s after restart: %v", err)
		}
		<-tick.C
	}
}

func countLogs(h *logtest.Hook, level logrus.Level) int {
	n := 0
	for _, e := range h.AllEntries() {
		if e.Level == level {
			n++
		}
	}
	return n
}
