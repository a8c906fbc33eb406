package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const (
	shardBits = 6
	numShards = 1 << shardBits

	// evictSample is how many keys a full shard looks at to pick one to evict, as Redis does
	// for its approximate LRU: cheap, and an attacker must flood the limiter with new keys to
	// push out a client that is still active.
	evictSample = 8
)

// localLimiter is an exact sliding-window log kept in process memory. Keys are reduced to a
// 64-bit keyed hash, so the limiter never holds a client's Authorization header; the seed is
// random per process, which keeps anyone from crafting keys that collide with another client's.
type localLimiter struct {
	limit    int
	period   int64 // nanoseconds
	shardCap int
	seed     maphash.Seed
	now      func() time.Time
	base     time.Time
	shards   [numShards]shard
}

type shard struct {
	mu        sync.Mutex
	windows   map[uint64]*window
	lastSweep int64
	_         [40]byte // one shard per cache line: no false sharing between neighbours
}

// window is one key's log: the times (nanoseconds since the limiter's base) of the requests it
// admitted, oldest first from head once the ring is full. It grows up to limit entries, so a key
// that sends a few requests costs a few words.
type window struct {
	times  []int64
	head   int
	newest int64
}

func newLocalLimiter(limit int, period time.Duration, maxKeys int, seed maphash.Seed, now func() time.Time) *localLimiter {
	l := &localLimiter{
		limit:    limit,
		period:   int64(period),
		shardCap: max(1, (maxKeys+numShards-1)/numShards),
		seed:     seed,
		now:      now,
		base:     now(),
	}
	for i := range l.shards {
		l.shards[i].windows = make(map[uint64]*window)
	}
	return l
}

// Allow implements Limiter. It never returns an error, and does not allocate for a key it holds.
func (l *localLimiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	h := maphash.String(l.seed, key)
	s := &l.shards[h>>(64-shardBits)]
	// Since base carries a monotonic reading, so does the difference: wall clock steps do not
	// move the window.
	now := int64(l.now().Sub(l.base))
	s.mu.Lock()
	w := s.windows[h]
	if w == nil {
		w = s.add(h, now, l)
	}
	ok, wait := w.admit(now, l.limit, l.period)
	s.mu.Unlock()
	return ok, time.Duration(wait), nil
}

// admit records a request at now if fewer than limit requests lie in (now-period, now].
// Otherwise it returns how long until the oldest of them leaves the window.
func (w *window) admit(now int64, limit int, period int64) (bool, int64) {
	// Two requests may read the clock in one order and take the lock in the other. Recording
	// the later time for both keeps the log sorted, which the ring relies on; the limiter can
	// only become stricter by the few nanoseconds between them.
	now = max(now, w.newest)
	if len(w.times) < limit {
		w.times = append(w.times, now)
		w.newest = now
		return true, 0
	}
	oldest := w.times[w.head]
	if now-oldest < period {
		return false, oldest + period - now
	}
	w.times[w.head] = now
	w.head++
	if w.head == len(w.times) {
		w.head = 0
	}
	w.newest = now
	return true, 0
}

// expired reports whether every request in w has left the window, so that dropping w changes
// nothing.
func (w *window) expired(now, period int64) bool {
	return len(w.times) == 0 || now-w.newest >= period
}

// add stores an empty window for h. At most once a period it first drops the expired windows;
// if the shard is still full it evicts one.
func (s *shard) add(h uint64, now int64, l *localLimiter) *window {
	if now-s.lastSweep >= l.period {
		s.lastSweep = now
		for k, w := range s.windows {
			if w.expired(now, l.period) {
				delete(s.windows, k)
			}
		}
	}
	if len(s.windows) >= l.shardCap {
		s.evict()
	}
	w := &window{times: make([]int64, 0, min(l.limit, 4))}
	s.windows[h] = w
	return w
}

// evict drops the window idle longest among a few taken from the map's random iteration order.
func (s *shard) evict() {
	var (
		victim uint64
		oldest int64
		seen   int
	)
	for k, w := range s.windows {
		if seen == 0 || w.newest < oldest {
			victim, oldest = k, w.newest
		}
		seen++
		if seen == evictSample {
			break
		}
	}
	if seen > 0 {
		delete(s.windows, victim)
	}
}

// keys returns the number of keys the limiter holds, for tests.
func (l *localLimiter) keys() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.windows)
		s.mu.Unlock()
	}
	return n
}
