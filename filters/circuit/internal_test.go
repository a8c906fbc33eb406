package circuit

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestRegistryDropsIdleBreakers(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	reg := NewRegistry(Options{Now: func() time.Time { return now }})
	s := Settings{Type: ConsecutiveFailures, Failures: 1, IdleTTL: time.Minute}
	for i := range 10 {
		reg.Get("host"+strconv.Itoa(i)+".test", s)
	}
	if got := reg.size(); got != 10 {
		t.Fatalf("holding %d breakers, want 10", got)
	}
	now = now.Add(2 * time.Minute)
	reg.Get("new.test", s)
	if got := reg.size(); got != 1 {
		t.Errorf("after the others idled and one was created: holding %d breakers, want 1", got)
	}
}

// TestRegistryCreationCostIsLinear creates breakers for many new hosts, as default breakers do
// behind a forward proxy, and checks that each creation costs about the same however many
// breakers the registry already holds: the bytes allocated per creation for 4,000 hosts are
// within twice those for 500. A registry that copies itself for every new host allocates eight
// times as much per creation for the larger one.
func TestRegistryCreationCostIsLinear(t *testing.T) {
	perCreation := func(n int) float64 {
		reg := NewRegistry(Options{Defaults: Settings{Type: ConsecutiveFailures, Failures: 5}})
		hosts := make([]string, n)
		for i := range hosts {
			hosts[i] = "host" + strconv.Itoa(i) + ".test:443"
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, h := range hosts {
			reg.Get(h, Settings{})
		}
		runtime.ReadMemStats(&after)
		if got := reg.size(); got != n {
			t.Fatalf("holding %d breakers, want %d", got, n)
		}
		return float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
	}
	small, large := perCreation(500), perCreation(4000)
	t.Logf("bytes allocated per creation: %.0f for 500 hosts, %.0f for 4000", small, large)
	if large > 2*small {
		t.Errorf("a creation among 4000 hosts allocates %.1f times as much as among 500, want at most 2", large/small)
	}
}

// TestRegistryIsBounded fills a registry far beyond MaxBreakers with breakers all in use: it
// never holds more than MaxBreakers, and the breaker used all along keeps its state while the
// least recently used ones go.
func TestRegistryIsBounded(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	const maxBreakers = 100
	reg := NewRegistry(Options{Now: func() time.Time { return now }, MaxBreakers: maxBreakers})
	s := Settings{Type: ConsecutiveFailures, Failures: 1, Timeout: time.Hour, IdleTTL: time.Hour}
	hot := reg.Get("hot.test", s)
	ticket, _ := hot.Allow()
	ticket.Done(false)
	first := reg.Get("host0.test", s)
	for i := range 1000 {
		now = now.Add(time.Second) // all stay well within their idle TTL
		reg.Get("host"+strconv.Itoa(i)+".test", s)
		if got := reg.Get("hot.test", s); got != hot {
			t.Fatalf("after %d hosts: the breaker in use was replaced", i+1)
		}
		if got := reg.size(); got > maxBreakers {
			t.Fatalf("after %d hosts: holding %d breakers, want at most %d", i+1, got, maxBreakers)
		}
	}
	if hot.State() != Open {
		t.Errorf("the breaker in use is %v, want it still open", hot.State())
	}
	if reg.Get("host0.test", s) == first {
		t.Errorf("the least recently used breaker is still held, want it dropped")
	}
}

// TestOutcomesMatchReference checks the bit ring against a plain slice of the last size outcomes.
func TestOutcomesMatchReference(t *testing.T) {
	for _, size := range []int{1, 5, 63, 64, 65, 200} {
		o := newOutcomes(size)
		var ref []bool
		rng := rand.New(rand.NewPCG(uint64(size), 7))
		for i := range 2000 {
			f := rng.IntN(3) == 0
			o.add(f)
			ref = append(ref, f)
			if len(ref) > size {
				ref = ref[1:]
			}
			want := 0
			for _, r := range ref {
				if r {
					want++
				}
			}
			if o.failures != want {
				t.Fatalf("size %d, outcome %d: %d failures, want %d", size, i, o.failures, want)
			}
			if i == 1000 {
				o.reset()
				ref = nil
			}
		}
	}
}
