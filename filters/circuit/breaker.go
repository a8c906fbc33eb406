// Package circuit holds the circuit breakers behind the consecutiveBreaker, rateBreaker and
// disableBreaker filters.
//
// A Breaker guards one backend host. While closed it lets every request through and watches
// their outcomes; enough failures open it, and an open breaker refuses requests, so the proxy can
// answer 503 with X-Circuit-Open: true without calling the backend. After Timeout it turns
// half-open and lets HalfOpenRequests probes through: if all of them succeed it closes, if one
// fails it opens again. What counts as a failure is the caller's business; Skipper counts
// connection errors and responses of status 500 and above.
//
// The consecutive breaker opens after Failures failures in a row. The rate breaker opens when
// Failures of the last Window outcomes (a count of requests, not a time span) were failures,
// which behaves the same for low and high traffic. Both follow Skipper's settings and defaults.
//
// Besides route filters, the Registry holds default breakers, as Skipper's -breaker flags set
// them: one for every backend host and others for particular hosts. A route's breaker filter wins
// over its host's default, which wins over the global one, and each level inherits the settings
// it leaves unset from the next (Settings.Inherit); disableBreaker turns both defaults off.
package circuit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Type selects a breaker's algorithm.
type Type uint8

const (
	// None means no breaker is configured: a route without a breaker filter. Registry.Get
	// gives it the host's default breaker, or nil when there is none.
	None Type = iota
	// ConsecutiveFailures opens after Failures failures in a row (consecutiveBreaker).
	ConsecutiveFailures
	// FailureRate opens when Failures of the last Window outcomes failed (rateBreaker).
	FailureRate
	// Disabled turns breakers off for a route, over any default (disableBreaker). Registry.Get
	// returns nil for it.
	Disabled
)

// String returns the type's name in Skipper's -breaker flag.
func (t Type) String() string {
	switch t {
	case ConsecutiveFailures:
		return "consecutive"
	case FailureRate:
		return "rate"
	case Disabled:
		return "disabled"
	default:
		return "none"
	}
}

// Defaults for the zero values of Settings, as in Skipper.
const (
	// DefaultTimeout is how long a breaker stays open when Settings.Timeout is zero.
	DefaultTimeout = time.Minute
	// DefaultHalfOpenRequests is the number of probes when Settings.HalfOpenRequests is zero.
	DefaultHalfOpenRequests = 1
	// DefaultIdleTTL is how long an unused breaker is kept when Settings.IdleTTL is zero.
	DefaultIdleTTL = time.Hour
)

// Settings configure a breaker. The zero Timeout, HalfOpenRequests and IdleTTL mean their
// defaults. Settings are comparable, and the registry keeps one breaker per host and Settings.
type Settings struct {
	Type Type
	// Failures is how many failures open the breaker: in a row, or within Window.
	Failures int
	// Window is the number of most recent outcomes the rate breaker looks at.
	Window int
	// Timeout is how long the breaker stays open before letting probes through.
	Timeout time.Duration
	// HalfOpenRequests is how many probes a half-open breaker lets through, all of which must
	// succeed to close it.
	HalfOpenRequests int
	// IdleTTL is how long a breaker may go unused before the registry drops it, and with it
	// the failures it remembers.
	IdleTTL time.Duration
}

// withDefaults fills in the zero fields, so that equal behaviour means equal Settings.
func (s Settings) withDefaults() Settings {
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.HalfOpenRequests <= 0 {
		s.HalfOpenRequests = DefaultHalfOpenRequests
	}
	if s.IdleTTL <= 0 {
		s.IdleTTL = DefaultIdleTTL
	}
	s.Failures = max(1, s.Failures)
	if s.Type == FailureRate {
		s.Window = max(s.Failures, s.Window)
	} else {
		s.Window = 0
	}
	return s
}

// Inherit returns s with the fields it leaves unset taken from base, the way a route's breaker
// filter builds on its host's default and a host's default on the global one, as in Skipper.
// No type takes base's type; zero failures and window take base's when the types then agree;
// zero timeout, half-open requests and idle TTL take base's. A Disabled s stays disabled.
func (s Settings) Inherit(base Settings) Settings {
	if s.Type == None {
		s.Type = base.Type
	}
	if s.Type == base.Type {
		if s.Failures == 0 {
			s.Failures = base.Failures
		}
		if s.Window == 0 {
			s.Window = base.Window
		}
	}
	if s.Timeout == 0 {
		s.Timeout = base.Timeout
	}
	if s.HalfOpenRequests == 0 {
		s.HalfOpenRequests = base.HalfOpenRequests
	}
	if s.IdleTTL == 0 {
		s.IdleTTL = base.IdleTTL
	}
	return s
}

// Validate reports settings that cannot work: at least one failure must open a breaker, and a
// rate breaker's window must hold its failures.
func (s Settings) Validate() error {
	switch s.Type {
	case None, Disabled:
		return nil
	case ConsecutiveFailures, FailureRate:
	default:
		return fmt.Errorf("unknown breaker type %d", s.Type)
	}
	if s.Failures < 1 {
		return fmt.Errorf("failures %d is less than 1", s.Failures)
	}
	if s.Type == FailureRate && s.Window < s.Failures {
		return fmt.Errorf("window %d is smaller than failures %d, so the breaker could never open", s.Window, s.Failures)
	}
	if s.Timeout < 0 || s.HalfOpenRequests < 0 || s.IdleTTL < 0 {
		return fmt.Errorf("timeout, half-open requests and idle TTL must not be negative")
	}
	return nil
}

// State is where a breaker is in its cycle.
type State uint8

const (
	// Closed lets every request through.
	Closed State = iota
	// Open refuses every request until its timeout has passed.
	Open
	// HalfOpen lets a few probes through to test the backend.
	HalfOpen
)

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	default:
		return "closed"
	}
}

// Breaker is the circuit breaker of one backend host. It is safe for concurrent use. A nil
// *Breaker is a disabled one: it lets every request through.
type Breaker struct {
	host     string
	s        Settings
	now      func() time.Time
	onChange func(host string, from, to State)

	lastUsed   atomic.Int64 // unix nanoseconds, kept by the registry
	touchEvery int64

	mu       sync.Mutex
	state    State
	gen      uint64 // changes on every transition; outcomes of older tickets are ignored
	failures int    // consecutive failures while closed
	window   outcomes
	until    time.Time // when open: end of the timeout; when half-open: when probes may restart
	probes   int       // probes let through in this half-open period
	passed   int       // probes that succeeded
}

// Ticket is a request's permission to pass a breaker. Report its outcome with Done exactly once.
// The zero Ticket, which a disabled breaker hands out, ignores Done.
type Ticket struct {
	b   *Breaker
	gen uint64
}

// newBreaker returns a closed breaker. s must have its defaults applied.
func newBreaker(host string, s Settings, now func() time.Time, onChange func(string, State, State)) *Breaker {
	b := &Breaker{
		host:       host,
		s:          s,
		now:        now,
		onChange:   onChange,
		touchEvery: int64(min(time.Second, s.IdleTTL/8)),
	}
	if s.Type == FailureRate {
		b.window = newOutcomes(s.Window)
	}
	return b
}

// Host returns the backend host the breaker guards, or "" for a nil Breaker.
func (b *Breaker) Host() string {
	if b == nil {
		return ""
	}
	return b.host
}

// Settings returns the breaker's settings, with defaults applied. A nil Breaker reports the
// Disabled type.
func (b *Breaker) Settings() Settings {
	if b == nil {
		return Settings{Type: Disabled}
	}
	return b.s
}

// State returns the breaker's state. An open breaker whose timeout has passed reports Open
// until the next Allow moves it on. A nil Breaker is always Closed.
func (b *Breaker) State() State {
	if b == nil {
		return Closed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Allow reports whether a request may go to the backend. If ok, the caller must report the
// request's outcome with the ticket's Done; a refused request's ticket ignores Done. It does
// not allocate.
func (b *Breaker) Allow() (t Ticket, ok bool) {
	if b == nil {
		return Ticket{}, true
	}
	b.mu.Lock()
	from := b.state
	switch b.state {
	case Closed:
		ok = true
	case Open:
		if now := b.now(); !now.Before(b.until) {
			b.halfOpen(now)
			ok = b.probe()
		}
	case HalfOpen:
		ok = b.probe()
		// A probe whose outcome never arrives would keep the breaker half-open for good, so
		// after another timeout a new round of probes may start.
		if !ok {
			if now := b.now(); !now.Before(b.until) {
				b.halfOpen(now)
				ok = b.probe()
			}
		}
	}
	if ok {
		t = Ticket{b, b.gen} // a refused request gets the zero Ticket, whose Done counts nothing
	}
	to := b.state
	b.mu.Unlock()
	b.changed(from, to)
	return t, ok
}

// Done reports the outcome of the request the ticket let through. Outcomes of tickets handed out
// before the breaker last changed state are ignored: they describe the backend as it was.
func (t Ticket) Done(success bool) {
	b := t.b
	if b == nil {
		return
	}
	b.mu.Lock()
	if t.gen != b.gen {
		b.mu.Unlock()
		return
	}
	from := b.state
	switch b.state {
	case Closed:
		if b.tripped(success) {
			b.open()
		}
	case HalfOpen:
		if !success {
			b.open()
			break
		}
		b.passed++
		if b.passed >= b.s.HalfOpenRequests {
			b.close()
		}
	}
	to := b.state
	b.mu.Unlock()
	b.changed(from, to)
}

// tripped counts an outcome in the closed state and reports whether it opens the breaker.
func (b *Breaker) tripped(success bool) bool {
	if b.s.Type == FailureRate {
		b.window.add(!success)
		return !success && b.window.failures >= b.s.Failures
	}
	if success {
		b.failures = 0
		return false
	}
	b.failures++
	return b.failures >= b.s.Failures
}

func (b *Breaker) open() {
	b.state = Open
	b.gen++
	b.until = b.now().Add(b.s.Timeout)
}

func (b *Breaker) halfOpen(now time.Time) {
	b.state = HalfOpen
	b.gen++
	b.until = now.Add(b.s.Timeout)
	b.probes, b.passed = 0, 0
}

// close starts afresh: failures seen before the breaker opened say nothing about the backend now.
func (b *Breaker) close() {
	b.state = Closed
	b.gen++
	b.failures = 0
	b.window.reset()
}

func (b *Breaker) probe() bool {
	if b.probes >= b.s.HalfOpenRequests {
		return false
	}
	b.probes++
	return true
}

func (b *Breaker) changed(from, to State) {
	if from != to && b.onChange != nil {
		b.onChange(b.host, from, to)
	}
}

// touch records a use for the registry's idle check. The store is skipped while the last one
// is recent, so that parallel requests do not all write the same cache line.
func (b *Breaker) touch(now int64) {
	if now-b.lastUsed.Load() >= b.touchEvery {
		b.lastUsed.Store(now)
	}
}

// idle reports whether the breaker has gone unused for its IdleTTL.
func (b *Breaker) idle(now int64) bool {
	return now-b.lastUsed.Load() > int64(b.s.IdleTTL)
}
