package circuit_test

import (
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters/circuit"
)

func TestRegistryGet(t *testing.T) {
	reg := circuit.NewRegistry(circuit.Options{})
	base := circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5}
	b := reg.Get("a.test", base)
	if b == nil {
		t.Fatal("Get returned nil for a consecutive breaker")
	}
	explicit := base
	explicit.Timeout, explicit.HalfOpenRequests, explicit.IdleTTL =
		circuit.DefaultTimeout, circuit.DefaultHalfOpenRequests, circuit.DefaultIdleTTL
	if got := reg.Get("a.test", explicit); got != b {
		t.Errorf("settings spelling out the defaults got another breaker, want the same")
	}
	for name, other := range map[string]*circuit.Breaker{
		"another host":     reg.Get("b.test", base),
		"another failures": reg.Get("a.test", circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 6}),
		"another type":     reg.Get("a.test", circuit.Settings{Type: circuit.FailureRate, Failures: 5, Window: 10}),
		"another timeout":  reg.Get("a.test", circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5, Timeout: time.Second}),
	} {
		if other == nil || other == b {
			t.Errorf("%s: got %p, want a breaker of its own", name, other)
		}
	}
	for name, s := range map[string]circuit.Settings{
		"none":     {},
		"disabled": {Type: circuit.Disabled, Failures: 5},
	} {
		if got := reg.Get("a.test", s); got != nil {
			t.Errorf("%s: got a breaker, want nil", name)
		}
	}
	if got := reg.Get("", base); got != nil {
		t.Errorf("empty host: got a breaker, want nil")
	}
}

func TestRegistryIdleBreakers(t *testing.T) {
	clock := newFakeClock()
	start := clock.Now()
	reg := circuit.NewRegistry(circuit.Options{Now: clock.Now})
	const ttl = time.Minute
	s := circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1, Timeout: time.Hour, IdleTTL: ttl}

	b := reg.Get("a.test", s)
	ticket, _ := b.Allow()
	ticket.Done(false)
	if b.State() != circuit.Open {
		t.Fatalf("state %v, want open", b.State())
	}
	// Requests keep it alive past its TTL.
	for _, at := range []time.Duration{ttl / 2, ttl, 3 * ttl / 2} {
		clock.Set(start, at)
		if got := reg.Get("a.test", s); got != b {
			t.Fatalf("at %v, in use: got another breaker, want the same", at)
		}
	}
	// Unused for longer than its TTL, it is replaced by a closed one.
	clock.Set(start, 3*ttl/2+ttl+time.Second)
	fresh := reg.Get("a.test", s)
	if fresh == b || fresh.State() != circuit.Closed {
		t.Errorf("after idling: got the same breaker or state %v, want a new closed one", fresh.State())
	}
}
