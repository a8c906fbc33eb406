package circuit

import (
	"strings"
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
}

// Registry keeps one breaker per backend host and Settings, so that every route sending to a
// host with the same settings, in this route table and the next, shares its breaker. It also
// holds the default breakers that routes without a breaker filter get: a route's filter wins
// over its host's default, which wins over the global default. A breaker
// unused for its IdleTTL is replaced by a fresh one when next asked for, and dropped when another
// is created, so hosts that vanish from the routes do not pile up. Lookups take no lock; main
// builds one Registry, and it is safe for concurrent use.
type Registry struct {
	now      func() time.Time
	onChange func(host string, from, to State)
	defaults Settings            // the global default
	hosts    map[string]Settings // host defaults, already over the global one; never written after NewRegistry

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
	r := &Registry{now: o.Now, onChange: o.OnStateChange, defaults: o.Defaults}
	if len(o.HostDefaults) > 0 {
		r.hosts = make(map[string]Settings, len(o.HostDefaults))
		for host, s := range o.HostDefaults {
			r.hosts[host] = s.Inherit(o.Defaults)
		}
	}
	r.breakers.Store(&map[key]*Breaker{})
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
	if b := (*r.breakers.Load())[k]; b != nil && !b.idle(now) {
		b.touch(now)
		return b
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
