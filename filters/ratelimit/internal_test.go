package ratelimit

import (
	"context"
	"hash/maphash"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/fakeclock"
)

func TestLocalDropsExpiredKeys(t *testing.T) {
	c := fakeclock.New(time.Unix(1_700_000_000, 0))
	l := newLocalLimiter(5, time.Second, 1_000_000, maphash.MakeSeed(), c.Now)
	ctx := context.Background()
	for i := range 1000 {
		l.Allow(ctx, strconv.Itoa(i))
	}
	if got := l.keys(); got != 1000 {
		t.Fatalf("after 1000 clients: %d keys, want 1000", got)
	}
	// One period later every log has expired; new keys sweep each shard once.
	c.Advance(time.Second)
	for i := range 1000 {
		l.Allow(ctx, "new"+strconv.Itoa(i))
	}
	if got := l.keys(); got != 1000 {
		t.Errorf("after 1000 new clients a period later: %d keys, want 1000 (the old ones dropped)", got)
	}
}

func TestLocalKeepsUnexpiredKeys(t *testing.T) {
	c := fakeclock.New(time.Unix(1_700_000_000, 0))
	l := newLocalLimiter(1, time.Second, 1_000_000, maphash.MakeSeed(), c.Now)
	ctx := context.Background()
	l.Allow(ctx, "old")
	c.Advance(999 * time.Millisecond)
	l.Allow(ctx, "recent")
	c.Advance(2 * time.Millisecond) // "old" expired, "recent" has not
	for i := range 200 {
		l.Allow(ctx, strconv.Itoa(i))
	}
	if ok, _, _ := l.Allow(ctx, "recent"); ok {
		t.Errorf("client with a request 2ms ago in a 1s window of 1: admitted, want refused")
	}
}

func TestLocalBoundsKeys(t *testing.T) {
	c := fakeclock.New(time.Unix(1_700_000_000, 0))
	const maxKeys = 256
	l := newLocalLimiter(3, time.Hour, maxKeys, maphash.MakeSeed(), c.Now)
	ctx := context.Background()
	for i := range 10_000 {
		c.Advance(time.Millisecond)
		if ok, _, _ := l.Allow(ctx, strconv.Itoa(i)); !ok {
			t.Fatalf("first request of client %d refused", i)
		}
	}
	if got := l.keys(); got > maxKeys {
		t.Errorf("holding %d keys, want at most %d", got, maxKeys)
	}
}

// TestRegistryForgetsUnusedLimiters drops every reference to a limiter, as replacing the last
// route table that used it does, and waits for the registry to forget it.
func TestRegistryForgetsUnusedLimiters(t *testing.T) {
	r := NewRegistry(Options{})
	kept, err := r.Local("kept", 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Local("dropped", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := r.size(); got != 2 {
		t.Fatalf("registry holds %d limiters, want 2", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.size() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("registry still holds %d limiters 5s after one was dropped, want 1", r.size())
		}
		runtime.GC() // cleanups run after a collection finds the limiter unreachable
		runtime.Gosched()
	}
	again, err := r.Local("kept", 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if again != kept {
		t.Errorf("limiter still held by a route was replaced, want the same one")
	}
}

func TestHashKey(t *testing.T) {
	a, b := hashKey("Bearer token-1"), hashKey("Bearer token-2")
	if a == b || len(a) != 22 || a != hashKey("Bearer token-1") {
		t.Errorf("hashKey: got %q and %q, want distinct, stable 22-character strings", a, b)
	}
}
