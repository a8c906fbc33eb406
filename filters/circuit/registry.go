package circuit

import (
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Registry. The zero value is usable.
type Options struct {
	// Now is the breakers' clock, for tests. If nil, time.Now is used.
	Now func() time.Time

	// OnStateChange is called after a breaker changes state, for logs and metrics, outside the
	// breaker's lock but on the request's goroutine: it must be fast and safe for concurrent
	// use. If nil, nothing is called.
	OnStateChange func(host string, from, to State)
}

// Registry keeps one breaker per backend host and Settings, so that every route sending to a
// host with the same settings, in this route table and the next, shares its breaker. A breaker
// unused for its IdleTTL is replaced by a fresh one when next asked for, and dropped when another
// is created, so hosts that vanish from the routes do not pile up. Lookups take no lock; main
// builds one Registry, and it is safe for concurrent use.
type Registry struct {
	now      func() time.Time
	onChange func(host string, from, to State)

	breakers atomic.Pointer[map[key]*Breaker] // copied on write; creations are rare
	mu       sync.Mutex                       // serializes writers
}

type key struct {
	host string
	s    Settings
}

// NewRegistry returns an empty Registry.
func NewRegistry(o Options) *Registry {
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Registry{now: o.Now, onChange: o.OnStateChange}
	r.breakers.Store(&map[key]*Breaker{})
	return r
}

// Get returns the breaker for requests to host with settings s, creating it if needed. It
// returns nil, a breaker that lets everything through, for an empty host and for the None and
// Disabled types. Settings that fail Validate are corrected to the nearest that work.
func (r *Registry) Get(host string, s Settings) *Breaker {
	if host == "" || (s.Type != ConsecutiveFailures && s.Type != FailureRate) {
		return nil
	}
	k := key{host, s.withDefaults()}
	now := r.now().UnixNano()
	if b := (*r.breakers.Load())[k]; b != nil && !b.idle(now) {
		b.touch(now)
		return b
	}
	return r.create(k, now)
}

// create stores a fresh breaker for k, replacing an idle one, and drops every other idle breaker.
func (r *Registry) create(k key, now int64) *Breaker {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.breakers.Load()
	if b := old[k]; b != nil && !b.idle(now) {
		b.touch(now) // another request created it meanwhile
		return b
	}
	next := make(map[key]*Breaker, len(old)+1)
	for k, b := range old {
		if !b.idle(now) {
			next[k] = b
		}
	}
	b := newBreaker(k.host, k.s, r.now, r.onChange)
	b.lastUsed.Store(now)
	next[k] = b
	r.breakers.Store(&next)
	return b
}

// size returns the number of breakers held, for tests.
func (r *Registry) size() int { return len(*r.breakers.Load()) }
