package circuit

import (
	"math/rand/v2"
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
