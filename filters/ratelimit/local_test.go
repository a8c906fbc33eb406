package ratelimit_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/ratelimit"
	"github.com/skipper-egress/skipper/internal/fakeclock"
)

// newFakeClock returns a clock the test moves by hand.
func newFakeClock() *fakeclock.Clock { return fakeclock.New(time.Unix(1_700_000_000, 0)) }

func localLimiter(t testing.TB, clock *fakeclock.Clock, n int, period time.Duration) ratelimit.Limiter {
	t.Helper()
	opts := ratelimit.Options{}
	if clock != nil {
		opts.Now = clock.Now
	}
	l, err := ratelimit.NewRegistry(opts).Local("route", n, period)
	if err != nil {
		t.Fatalf("Local(%d, %v): %v", n, period, err)
	}
	return l
}

func TestLocalWindow(t *testing.T) {
	type step struct {
		at        time.Duration // since the start
		key       string
		wantOK    bool
		wantRetry time.Duration
	}
	tests := []struct {
		name   string
		n      int
		period time.Duration
		steps  []step
	}{{
		name: "n requests pass, the next waits for the oldest to leave", n: 3, period: time.Second,
		steps: []step{
			{0, "a", true, 0},
			{100 * time.Millisecond, "a", true, 0},
			{200 * time.Millisecond, "a", true, 0},
			{300 * time.Millisecond, "a", false, 700 * time.Millisecond},
			{999 * time.Millisecond, "a", false, time.Millisecond},
			// An entry of age exactly period has left the window.
			{time.Second, "a", true, 0},
			{time.Second, "a", false, 100 * time.Millisecond},
			{1100 * time.Millisecond, "a", true, 0},
			{1200 * time.Millisecond, "a", true, 0},
			{1200 * time.Millisecond, "a", false, 800 * time.Millisecond},
		},
	}, {
		name: "refused requests are not counted", n: 1, period: time.Second,
		steps: []step{
			{0, "a", true, 0},
			{500 * time.Millisecond, "a", false, 500 * time.Millisecond},
			{900 * time.Millisecond, "a", false, 100 * time.Millisecond},
			{time.Second, "a", true, 0},
		},
	}, {
		name: "no burst of 2n across a window boundary", n: 2, period: time.Second,
		steps: []step{
			{900 * time.Millisecond, "a", true, 0},
			{950 * time.Millisecond, "a", true, 0},
			{1050 * time.Millisecond, "a", false, 850 * time.Millisecond},
			{1900 * time.Millisecond, "a", true, 0},
		},
	}, {
		name: "keys count apart", n: 1, period: time.Minute,
		steps: []step{
			{0, "a", true, 0},
			{0, "b", true, 0},
			{time.Second, "a", false, 59 * time.Second},
			{time.Second, "", true, 0},
		},
	}, {
		name: "zero refuses everything", n: 0, period: time.Minute,
		steps: []step{
			{0, "a", false, time.Minute},
			{time.Hour, "a", false, time.Minute},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			start := clock.Now()
			l := localLimiter(t, clock, tc.n, tc.period)
			for i, s := range tc.steps {
				clock.Set(start.Add(s.at))
				ok, retry, err := l.Allow(context.Background(), s.key)
				if ok != s.wantOK || retry != s.wantRetry || err != nil {
					t.Errorf("step %d at %v key %q: got ok=%v retry=%v err=%v, want ok=%v retry=%v",
						i, s.at, s.key, ok, retry, err, s.wantOK, s.wantRetry)
				}
			}
		})
	}
}

// TestLocalMatchesReference replays random arrivals against the limiter and against the
// definition: a request at t passes if fewer than n passed requests lie in (t-period, t].
func TestLocalMatchesReference(t *testing.T) {
	for _, n := range []int{1, 2, 7, 50} {
		clock := newFakeClock()
		start := clock.Now()
		const period = time.Second
		l := localLimiter(t, clock, n, period)
		rng := rand.New(rand.NewPCG(uint64(n), 42))
		var passed []time.Duration
		at := time.Duration(0)
		for i := range 5000 {
			at += time.Duration(rng.Int64N(int64(4 * period / time.Duration(n))))
			inWindow := 0
			for _, p := range passed {
				if at-p < period {
					inWindow++
				}
			}
			want := inWindow < n
			clock.Set(start.Add(at))
			got, _, _ := l.Allow(context.Background(), "k")
			if got != want {
				t.Fatalf("n=%d request %d at %v: got ok=%v, want %v (%d in window)", n, i, at, got, want, inWindow)
			}
			if got {
				passed = append(passed, at)
			}
			for len(passed) > 0 && at-passed[0] >= period {
				passed = passed[1:]
			}
		}
	}
}

// TestLocalConcurrent admits exactly n of many concurrent requests for one key within a
// period that does not end during the test, on the real clock.
func TestLocalConcurrent(t *testing.T) {
	const n = 1000
	l := localLimiter(t, nil, n, time.Hour)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 200 {
				if ok, _, _ := l.Allow(context.Background(), "k"); ok {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := admitted.Load(); got != n {
		t.Errorf("admitted %d of 3200 requests, want %d", got, n)
	}
}

func TestLocalAllowDoesNotAllocate(t *testing.T) {
	l := localLimiter(t, nil, 1_000_000, time.Hour)
	ctx := context.Background()
	l.Allow(ctx, "10.0.0.1")
	if got := testing.AllocsPerRun(1000, func() { l.Allow(ctx, "10.0.0.1") }); got != 0 {
		t.Errorf("Allow for a known key: %v allocations, want 0", got)
	}
}

func TestRegistryArgs(t *testing.T) {
	reg := ratelimit.NewRegistry(ratelimit.Options{})
	tests := []struct {
		name    string
		n       int
		period  time.Duration
		wantErr bool
	}{
		{"valid", 10, time.Second, false},
		{"zero limit", 0, time.Second, false},
		{"negative limit", -1, time.Second, true},
		{"zero period", 10, 0, true},
		{"negative period", 10, -time.Second, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errL := reg.Local("r", tc.n, tc.period)
			_, errC := reg.Cluster("g", tc.n, tc.period)
			if (errL != nil) != tc.wantErr || (errC != nil) != tc.wantErr {
				t.Errorf("got Local error %v, Cluster error %v, want error: %v", errL, errC, tc.wantErr)
			}
		})
	}
}

func TestRegistryShares(t *testing.T) {
	reg := ratelimit.NewRegistry(ratelimit.Options{})
	get := func(local bool, name string, n int, period time.Duration) ratelimit.Limiter {
		t.Helper()
		var l ratelimit.Limiter
		var err error
		if local {
			l, err = reg.Local(name, n, period)
		} else {
			l, err = reg.Cluster(name, n, period)
		}
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	a := get(true, "r1", 1, time.Minute)
	if get(true, "r1", 1, time.Minute) != a {
		t.Errorf("second Local with the same arguments returned another limiter, want the same")
	}
	for _, other := range []ratelimit.Limiter{
		get(true, "r2", 1, time.Minute),
		get(true, "r1", 2, time.Minute),
		get(true, "r1", 1, time.Hour),
		get(false, "r1", 1, time.Minute),
	} {
		if other == a {
			t.Errorf("limiter with different arguments is the same as r1's, want another")
		}
	}
	// Without Redis a cluster limiter counts locally, and is shared by group.
	c := get(false, "g", 1, time.Minute)
	if ok, _, err := c.Allow(context.Background(), "k"); !ok || err != nil {
		t.Fatalf("first request: got ok=%v err=%v, want admitted", ok, err)
	}
	if ok, _, _ := get(false, "g", 1, time.Minute).Allow(context.Background(), "k"); ok {
		t.Errorf("second request through the same group: admitted, want refused")
	}
}
