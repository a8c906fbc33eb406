package circuit

import (
	"cmp"
	"slices"
	"strings"
	"sync"
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

	// Defaults is the breaker of every backend host that neither a route's breaker filter nor
	// HostDefaults configure: Skipper's -breaker flag without host=. Route filters and
	// HostDefaults inherit the fields they leave unset from it (see Settings.Inherit). The zero
	// value, type None, means no breaker unless a route or host asks for one.
	Defaults Settings

	// HostDefaults are the breakers of particular backend hosts, over Defaults: Skipper's
	// -breaker flags with host=. A key is a host as in the backend's URL, with or without a
	// port; a key without a port also serves that host on any port. A Disabled entry turns the
	// default breaker off for its host. If nil, every host gets Defaults.
	HostDefaults map[string]Settings

	// MaxBreakers bounds the breakers held: when creating one finds the registry full, the
	// least recently used quarter is dropped, and their hosts start afresh with closed
	// breakers when next asked for. Zero means DefaultMaxBreakers.
	MaxBreakers int
}

// DefaultMaxBreakers is how many breakers a Registry holds when Options.MaxBreakers is zero:
// far more backend hosts than a sidecar's routes name, and a bound on what a forward proxy that
// reaches a new host with every request can make it hold.
const DefaultMaxBreakers = 10000

// sweepEvery is how often, at most, creating a breaker also drops the idle ones when the
// registry has not grown enough to sweep anyway.
const sweepEvery = time.Minute

// minSweepGrowth is how many breakers, at least, are created between two sweeps that the
// registry's growth starts, so that a small registry is not swept at every creation.
const minSweepGrowth = 64

// Registry keeps one breaker per backend host and Settings, so that every route sending to a
// host with the same settings, in this route table and the next, shares its breaker. It also
// holds the default breakers that routes without a breaker filter get: a route's filter wins
// over its host's default, which wins over the global default.
//
// A breaker unused for its IdleTTL is replaced by a fresh one when next asked for. Creating a
// breaker now and then sweeps the registry: once a minute, and whenever it has doubled since
// the last sweep. A sweep drops the idle breakers and, when the registry is full
// (Options.MaxBreakers), the least recently used quarter, so hosts that vanish from the routes
// or that a forward proxy reached once do not pile up, and creating n breakers costs O(n log n)
// in all, not O(n²). Lookups take no lock and do not allocate; main builds one Registry, and it
// is safe for concurrent use.
type Registry struct {
	now      func() time.Time
	onChange func(host string, from, to State)
	defaults Settings            // the global default
	hosts    map[string]Settings // host defaults, already over the global one; never written after NewRegistry
	max      int

	breakers sync.Map // key -> *Breaker; written only under mu

	mu        sync.Mutex // serializes creations and sweeps, and guards the fields below
	count     int        // breakers held
	sweepAt   int        // a creation that finds count at least this sweeps first
	nextSweep int64      // unix nanoseconds after which a creation sweeps first
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
	if o.MaxBreakers <= 0 {
		o.MaxBreakers = DefaultMaxBreakers
	}
	r := &Registry{now: o.Now, onChange: o.OnStateChange, defaults: o.Defaults, max: o.MaxBreakers}
	if len(o.HostDefaults) > 0 {
		r.hosts = make(map[string]Settings, len(o.HostDefaults))
		for host, s := range o.HostDefaults {
			r.hosts[host] = s.Inherit(o.Defaults)
		}
	}
	return r
}

// Get returns the breaker for requests to host with the settings s of a route's breaker filter,
// creating it if needed. s of type None, a route without a breaker filter, means host's default:
// its HostDefaults entry, or else Defaults. Other settings inherit their unset fields from that
// default. Get returns nil, a breaker that lets everything through, for an empty host and when
// the result is of type None or Disabled. Settings that fail Validate are corrected to the
// nearest that work. Get does not allocate unless it creates a breaker.
func (r *Registry) Get(host string, s Settings) *Breaker {
	if host == "" || s.Type == Disabled {
		return nil
	}
	base := r.hostDefault(host)
	if s.Type == None {
		s = base
	} else {
		s = s.Inherit(base)
	}
	if s.Type != ConsecutiveFailures && s.Type != FailureRate {
		return nil
	}
	k := key{host, s.withDefaults()}
	now := r.now().UnixNano()
	if v, ok := r.breakers.Load(k); ok {
		if b := v.(*Breaker); !b.idle(now) {
			b.touch(now)
			return b
		}
	}
	return r.create(k, now)
}

// hostDefault returns the default settings of host: its own entry, the entry of its name
// without the port, or the global default.
func (r *Registry) hostDefault(host string) Settings {
	if len(r.hosts) == 0 {
		return r.defaults
	}
	if s, ok := r.hosts[host]; ok {
		return s
	}
	if name, ok := hostname(host); ok {
		if s, ok := r.hosts[name]; ok {
			return s
		}
	}
	return r.defaults
}

// hostname returns host without its port, and whether it had one: "a.test" for "a.test:443",
// "::1" for "[::1]:443". Unlike net.SplitHostPort it never allocates.
func hostname(host string) (string, bool) {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[i:], ']') >= 0 {
		return "", false // no port; a colon before ']' belongs to an IPv6 address
	}
	name := host[:i]
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		name = name[1 : len(name)-1]
	}
	return name, true
}

// create stores a fresh breaker for k, replacing an idle one. Before it adds a breaker it sweeps
// when one is due.
func (r *Registry) create(k key, now int64) *Breaker {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.breakers.Load(k); ok {
		if b := v.(*Breaker); !b.idle(now) {
			b.touch(now) // another request created it meanwhile
			return b
		}
		return r.store(k, now) // replaces the idle one: the count stays
	}
	if r.count >= r.sweepAt || now >= r.nextSweep {
		r.sweep(now)
	}
	r.count++
	return r.store(k, now)
}

// store puts a fresh breaker for k in the registry. r.mu must be held.
func (r *Registry) store(k key, now int64) *Breaker {
	b := newBreaker(k.host, k.s, r.now, r.onChange)
	b.lastUsed.Store(now)
	r.breakers.Store(k, b)
	return b
}

// sweep drops the idle breakers and, when no room is left for one more, the least recently
// used quarter of the others, then sets when the next sweep is due: once the registry has
// doubled (or grown by minSweepGrowth), is full, or a minute has passed. Its cost, linear in the
// breakers held (n log n when it drops by use), is thus spread over as many creations. r.mu
// must be held.
func (r *Registry) sweep(now int64) {
	type used struct {
		k    any
		last int64
	}
	var live []used
	r.breakers.Range(func(k, v any) bool {
		b := v.(*Breaker)
		if b.idle(now) {
			r.breakers.Delete(k)
		} else {
			live = append(live, used{k, b.lastUsed.Load()})
		}
		return true
	})
	if len(live) >= r.max {
		slices.SortFunc(live, func(a, b used) int { return cmp.Compare(a.last, b.last) })
		drop := len(live) - r.max*3/4
		for _, u := range live[:drop] {
			r.breakers.Delete(u.k)
		}
		live = live[drop:]
	}
	r.count = len(live)
	r.sweepAt = min(r.max, max(2*r.count, r.count+minSweepGrowth))
	r.nextSweep = now + int64(sweepEvery)
}

// size returns the number of breakers held, for tests.
func (r *Registry) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}
