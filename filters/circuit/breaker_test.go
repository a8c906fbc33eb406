package circuit_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/internal/fakeclock"
)

// newFakeClock returns a clock the test moves by hand.
func newFakeClock() *fakeclock.Clock { return fakeclock.New(time.Unix(1_700_000_000, 0)) }

// Steps of a transition test. Each runs at its time, then the breaker's state must be want.
const (
	pass = "pass" // Allow must let the request through; it succeeds at once
	fail = "fail" // Allow must let the request through; it fails at once
	hold = "hold" // Allow must let the request through; its outcome comes later
	deny = "deny" // Allow must refuse the request
	ok   = "ok"   // the oldest held request succeeds
	err  = "err"  // the oldest held request fails
	lose = "lose" // the oldest held request never reports back
)

type step struct {
	at   time.Duration
	do   string
	want circuit.State
}

func TestBreakerTransitions(t *testing.T) {
	const timeout = 10 * time.Second
	consecutive := func(failures, halfOpen int) circuit.Settings {
		return circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: failures,
			Timeout: timeout, HalfOpenRequests: halfOpen}
	}
	rate := func(failures, window int) circuit.Settings {
		return circuit.Settings{Type: circuit.FailureRate, Failures: failures, Window: window, Timeout: timeout}
	}
	const (
		closed   = circuit.Closed
		open     = circuit.Open
		halfOpen = circuit.HalfOpen
	)
	tests := []struct {
		name  string
		s     circuit.Settings
		steps []step
	}{
		{"opens after N failures in a row", consecutive(3, 1), []step{
			{0, fail, closed}, {0, fail, closed}, {0, fail, open}, {0, deny, open},
		}},
		{"a success resets the count", consecutive(3, 1), []step{
			{0, fail, closed}, {0, fail, closed}, {0, pass, closed},
			{0, fail, closed}, {0, fail, closed}, {0, fail, open},
		}},
		{"one failure suffices for N=1", consecutive(1, 1), []step{
			{0, pass, closed}, {0, fail, open},
		}},
		{"stays open for the timeout, then one probe closes it", consecutive(1, 1), []step{
			{0, fail, open},
			{timeout - time.Millisecond, deny, open},
			{timeout, hold, halfOpen},
			{timeout, deny, halfOpen}, // the one probe is out
			{timeout, ok, closed},
			{timeout, pass, closed},
		}},
		{"a failed probe opens it for another timeout", consecutive(1, 1), []step{
			{0, fail, open},
			{timeout, fail, open},
			{timeout + time.Millisecond, deny, open},
			{2*timeout - time.Millisecond, deny, open},
			{2 * timeout, pass, closed},
		}},
		{"all half-open requests must succeed", consecutive(1, 3), []step{
			{0, fail, open},
			{timeout, hold, halfOpen}, {timeout, hold, halfOpen}, {timeout, hold, halfOpen},
			{timeout, deny, halfOpen},
			{timeout, ok, halfOpen}, {timeout, ok, halfOpen}, {timeout, ok, closed},
		}},
		{"one failed probe of several reopens, later outcomes are ignored", consecutive(1, 3), []step{
			{0, fail, open},
			{timeout, hold, halfOpen}, {timeout, hold, halfOpen}, {timeout, hold, halfOpen},
			{timeout, err, open}, {timeout, ok, open}, {timeout, ok, open},
			{timeout, deny, open},
		}},
		{"outcomes from before the breaker opened are ignored", consecutive(2, 1), []step{
			{0, hold, closed}, {0, hold, closed}, {0, hold, closed}, {0, hold, closed},
			{0, err, closed}, {0, err, open},
			{0, err, open}, {0, ok, open},
			{timeout - 1, deny, open},
			{timeout, pass, closed},
		}},
		{"outcomes from before the breaker closed are ignored", consecutive(1, 1), []step{
			{0, hold, closed},
			{0, fail, open},
			{timeout, pass, closed},
			{timeout, err, closed},
		}},
		{"a lost probe holds half-open only for one more timeout", consecutive(1, 1), []step{
			{0, fail, open},
			{timeout, hold, halfOpen},
			{timeout, lose, halfOpen},
			{2*timeout - 1, deny, halfOpen},
			{2 * timeout, hold, halfOpen},
			{2 * timeout, deny, halfOpen},
			{2 * timeout, ok, closed},
		}},
		{"rate: opens at N failures within the window", rate(3, 5), []step{
			{0, fail, closed}, {0, pass, closed}, {0, fail, closed}, {0, pass, closed},
			{0, fail, open}, {0, deny, open},
		}},
		{"rate: failures leave the window", rate(3, 5), []step{
			{0, fail, closed}, {0, pass, closed}, {0, pass, closed}, {0, pass, closed},
			{0, pass, closed}, {0, fail, closed}, {0, fail, closed}, // first failure left: 2 of 5
			{0, fail, open},
		}},
		{"rate: successes in a row do not reset the window", rate(2, 4), []step{
			{0, fail, closed}, {0, pass, closed}, {0, pass, closed}, {0, fail, open},
		}},
		{"rate: closing starts with an empty window", rate(3, 10), []step{
			{0, fail, closed}, {0, fail, closed}, {0, fail, open},
			{timeout, pass, closed},
			{timeout, fail, closed}, {timeout, fail, closed}, {timeout, fail, open},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			start := clock.Now()
			b := circuit.NewRegistry(circuit.Options{Now: clock.Now}).Get("backend.test", tc.s)
			var held []circuit.Ticket
			for i, s := range tc.steps {
				clock.Set(start.Add(s.at))
				switch s.do {
				case pass, fail, hold, deny:
					ticket, allowed := b.Allow()
					if allowed != (s.do != deny) {
						t.Fatalf("step %d (%s at %v): Allow got %v, want %v", i, s.do, s.at, allowed, s.do != deny)
					}
					switch s.do {
					case pass, fail:
						ticket.Done(s.do == pass)
					case hold:
						held = append(held, ticket)
					}
				case ok, err, lose:
					if s.do != lose {
						held[0].Done(s.do == ok)
					}
					held = held[1:]
				}
				if got := b.State(); got != s.want {
					t.Fatalf("step %d (%s at %v): state %v, want %v", i, s.do, s.at, got, s.want)
				}
			}
		})
	}
}

func TestBreakerReportsStateChanges(t *testing.T) {
	clock := newFakeClock()
	start := clock.Now()
	var got []string
	reg := circuit.NewRegistry(circuit.Options{Now: clock.Now, OnStateChange: func(host string, from, to circuit.State) {
		got = append(got, host+": "+from.String()+" -> "+to.String())
	}})
	b := reg.Get("backend.test", circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1})
	ticket, _ := b.Allow()
	ticket.Done(false)
	clock.Set(start.Add(circuit.DefaultTimeout))
	ticket, _ = b.Allow()
	ticket.Done(true)
	want := []string{
		"backend.test: closed -> open",
		"backend.test: open -> half-open",
		"backend.test: half-open -> closed",
	}
	if !slices.Equal(got, want) {
		t.Errorf("state changes: got %q, want %q", got, want)
	}
}

func TestRefusedTicketCountsNothing(t *testing.T) {
	clock := newFakeClock()
	start := clock.Now()
	reg := circuit.NewRegistry(circuit.Options{Now: clock.Now})
	b := reg.Get("backend.test", circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1, HalfOpenRequests: 2})
	ticket, _ := b.Allow()
	ticket.Done(false)
	clock.Set(start.Add(circuit.DefaultTimeout))
	probe, _ := b.Allow()
	b.Allow()
	refused, allowed := b.Allow() // both probes are out
	if allowed {
		t.Fatalf("third request to a half-open breaker with 2 probes: allowed, want refused")
	}
	refused.Done(true)
	refused.Done(true)
	probe.Done(true)
	if got := b.State(); got != circuit.HalfOpen {
		t.Errorf("after one probe succeeded and a refused request reported success: state %v, want half-open", got)
	}
}

func TestNilBreakerLetsEverythingThrough(t *testing.T) {
	var b *circuit.Breaker
	ticket, allowed := b.Allow()
	ticket.Done(false)
	if !allowed || b.State() != circuit.Closed || b.Host() != "" || b.Settings().Type != circuit.Disabled {
		t.Errorf("nil breaker: got allowed=%v state=%v, want allowed, closed", allowed, b.State())
	}
}

func TestBreakerAllowDoesNotAllocate(t *testing.T) {
	reg := circuit.NewRegistry(circuit.Options{})
	for _, s := range []circuit.Settings{
		{Type: circuit.ConsecutiveFailures, Failures: 5},
		{Type: circuit.FailureRate, Failures: 5, Window: 100},
	} {
		b := reg.Get("backend.test", s)
		got := testing.AllocsPerRun(1000, func() {
			b := reg.Get("backend.test", s)
			ticket, _ := b.Allow()
			ticket.Done(true)
		})
		if got != 0 {
			t.Errorf("%v breaker: Get, Allow and Done allocate %v times, want 0", b.Settings().Type, got)
		}
	}
}

// TestBreakerConcurrentFailures fails every request from many goroutines: once the breaker has
// opened no request may pass, so at most the requests already out when it opened get through.
func TestBreakerConcurrentFailures(t *testing.T) {
	const (
		failures   = 20
		goroutines = 16
	)
	for _, s := range []circuit.Settings{
		{Type: circuit.ConsecutiveFailures, Failures: failures, Timeout: time.Hour},
		{Type: circuit.FailureRate, Failures: failures, Window: 2 * failures, Timeout: time.Hour},
	} {
		t.Run(s.Type.String(), func(t *testing.T) {
			reg := circuit.NewRegistry(circuit.Options{})
			var mu sync.Mutex
			allowed := 0
			var wg sync.WaitGroup
			for range goroutines {
				wg.Go(func() {
					for range 100 {
						b := reg.Get("backend.test", s)
						ticket, ok := b.Allow()
						if !ok {
							continue
						}
						mu.Lock()
						allowed++
						mu.Unlock()
						ticket.Done(false)
					}
				})
			}
			wg.Wait()
			if allowed < failures || allowed > failures+goroutines-1 {
				t.Errorf("%d requests passed, want %d to %d", allowed, failures, failures+goroutines-1)
			}
			if got := reg.Get("backend.test", s).State(); got != circuit.Open {
				t.Errorf("state %v, want open", got)
			}
		})
	}
}

// TestBreakerConcurrentProbes lets many goroutines at a half-open breaker at once: exactly
// HalfOpenRequests of them may pass.
func TestBreakerConcurrentProbes(t *testing.T) {
	const probes = 3
	clock := newFakeClock()
	start := clock.Now()
	reg := circuit.NewRegistry(circuit.Options{Now: clock.Now})
	s := circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1, HalfOpenRequests: probes}
	b := reg.Get("backend.test", s)
	ticket, _ := b.Allow()
	ticket.Done(false)
	clock.Set(start.Add(circuit.DefaultTimeout))

	var (
		mu      sync.Mutex
		tickets []circuit.Ticket
		wg      sync.WaitGroup
	)
	ready := make(chan struct{})
	for range 32 {
		wg.Go(func() {
			<-ready
			if ticket, ok := b.Allow(); ok {
				mu.Lock()
				tickets = append(tickets, ticket)
				mu.Unlock()
			}
		})
	}
	close(ready)
	wg.Wait()
	if len(tickets) != probes {
		t.Fatalf("%d probes passed, want %d", len(tickets), probes)
	}
	for _, ticket := range tickets {
		wg.Go(func() { ticket.Done(true) })
	}
	wg.Wait()
	if got := b.State(); got != circuit.Closed {
		t.Errorf("after %d successful probes: state %v, want closed", probes, got)
	}
}
