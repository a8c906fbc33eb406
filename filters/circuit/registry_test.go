package circuit_test

import (
	"cmp"
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
		clock.Set(start.Add(at))
		if got := reg.Get("a.test", s); got != b {
			t.Fatalf("at %v, in use: got another breaker, want the same", at)
		}
	}
	// Unused for longer than its TTL, it is replaced by a closed one.
	clock.Set(start.Add(3*ttl/2 + ttl + time.Second))
	fresh := reg.Get("a.test", s)
	if fresh == b || fresh.State() != circuit.Closed {
		t.Errorf("after idling: got the same breaker or state %v, want a new closed one", fresh.State())
	}
}

func TestRegistryDefaults(t *testing.T) {
	global := circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5, Timeout: 10 * time.Second}
	reg := circuit.NewRegistry(circuit.Options{
		Defaults: global,
		HostDefaults: map[string]circuit.Settings{
			"a.test":         {Type: circuit.ConsecutiveFailures, Failures: 2},
			"b.test:8443":    {Type: circuit.FailureRate, Failures: 3, Window: 10, HalfOpenRequests: 4},
			"off.test":       {Type: circuit.Disabled},
			"::1":            {Type: circuit.ConsecutiveFailures, Failures: 7},
			"inherits.test":  {Timeout: time.Second},
			"127.0.0.1:9999": {Type: circuit.ConsecutiveFailures, Failures: 9},
		},
	})
	route := circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1}
	withDefaults := func(s circuit.Settings) circuit.Settings {
		s.Timeout = cmp.Or(s.Timeout, circuit.DefaultTimeout)
		s.HalfOpenRequests = cmp.Or(s.HalfOpenRequests, circuit.DefaultHalfOpenRequests)
		s.IdleTTL = cmp.Or(s.IdleTTL, circuit.DefaultIdleTTL)
		return s
	}
	tests := []struct {
		name  string
		host  string
		route circuit.Settings
		want  circuit.Settings // type None: no breaker
	}{
		{"global default", "other.test", circuit.Settings{}, withDefaults(global)},
		{"host default", "a.test", circuit.Settings{}, withDefaults(circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 2, Timeout: 10 * time.Second})},
		{"host without port serves every port", "a.test:8080", circuit.Settings{}, withDefaults(circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 2, Timeout: 10 * time.Second})},
		{"host with port", "b.test:8443", circuit.Settings{}, withDefaults(circuit.Settings{Type: circuit.FailureRate, Failures: 3, Window: 10, HalfOpenRequests: 4, Timeout: 10 * time.Second})},
		{"host with another port gets the global default", "b.test", circuit.Settings{}, withDefaults(global)},
		{"exact address", "127.0.0.1:9999", circuit.Settings{}, withDefaults(circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 9, Timeout: 10 * time.Second})},
		{"IPv6 host with port", "[::1]:80", circuit.Settings{}, withDefaults(circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 7, Timeout: 10 * time.Second})},
		{"host default inherits the global type", "inherits.test", circuit.Settings{}, withDefaults(circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5, Timeout: time.Second})},
		{"host disabled", "off.test", circuit.Settings{}, circuit.Settings{}},
		{"route filter over host", "a.test", route, withDefaults(circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1, Timeout: 10 * time.Second})},
		{"route filter over a disabled host", "off.test", route, withDefaults(circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1, Timeout: 10 * time.Second})},
		{"route filter inherits what it leaves out", "b.test:8443", route, withDefaults(circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1, HalfOpenRequests: 4, Timeout: 10 * time.Second})},
		{"disableBreaker over host", "a.test", circuit.Settings{Type: circuit.Disabled}, circuit.Settings{}},
		{"disableBreaker over global", "other.test", circuit.Settings{Type: circuit.Disabled}, circuit.Settings{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := reg.Get(tc.host, tc.route)
			if tc.want.Type == circuit.None {
				if b != nil {
					t.Fatalf("got a breaker with %+v, want none", b.Settings())
				}
				return
			}
			if b == nil {
				t.Fatalf("got no breaker, want %+v", tc.want)
			}
			if got := b.Settings(); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if b := circuit.NewRegistry(circuit.Options{}).Get("a.test", circuit.Settings{}); b != nil {
		t.Errorf("no defaults, no filter: got a breaker, want none")
	}
}

func TestInherit(t *testing.T) {
	base := circuit.Settings{Type: circuit.FailureRate, Failures: 3, Window: 30, Timeout: time.Second, HalfOpenRequests: 2, IdleTTL: time.Minute}
	tests := []struct {
		name string
		s    circuit.Settings
		want circuit.Settings
	}{
		{"empty takes everything", circuit.Settings{}, base},
		{"same type keeps its own counts", circuit.Settings{Type: circuit.FailureRate, Failures: 5}, circuit.Settings{Type: circuit.FailureRate, Failures: 5, Window: 30, Timeout: time.Second, HalfOpenRequests: 2, IdleTTL: time.Minute}},
		{"other type takes no counts", circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1}, circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 1, Timeout: time.Second, HalfOpenRequests: 2, IdleTTL: time.Minute}},
		{"own durations win", circuit.Settings{Type: circuit.FailureRate, Timeout: time.Hour, IdleTTL: time.Hour}, circuit.Settings{Type: circuit.FailureRate, Failures: 3, Window: 30, Timeout: time.Hour, HalfOpenRequests: 2, IdleTTL: time.Hour}},
		{"disabled stays disabled", circuit.Settings{Type: circuit.Disabled}, circuit.Settings{Type: circuit.Disabled, Timeout: time.Second, HalfOpenRequests: 2, IdleTTL: time.Minute}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Inherit(base); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestDefaultLookupAllocs checks that finding a default breaker, by exact host or by a host
// name without its port, stays allocation-free on the request path.
func TestDefaultLookupAllocs(t *testing.T) {
	reg := circuit.NewRegistry(circuit.Options{
		Defaults:     circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 5},
		HostDefaults: map[string]circuit.Settings{"a.test": {Failures: 2}, "b.test:80": {Failures: 3}},
	})
	for _, host := range []string{"a.test:443", "b.test:80", "c.test", "[::1]:80"} {
		reg.Get(host, circuit.Settings{}) // create it
		if n := testing.AllocsPerRun(100, func() {
			t, _ := reg.Get(host, circuit.Settings{}).Allow()
			t.Done(true)
		}); n != 0 {
			t.Errorf("%s: got %v allocations per request, want 0", host, n)
		}
	}
}
