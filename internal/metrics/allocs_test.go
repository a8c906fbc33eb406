//go:build !race

// The race detector allocates on its own, so allocation counts are only checked without it.

package metrics

import (
	"testing"
	"time"
)

func TestHotPathDoesNotAllocate(t *testing.T) {
	m := New()
	warm(m)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"RequestStarted+RequestDone", func() { m.RequestStarted(); m.RequestDone("gh", "GET", 200, time.Millisecond) }},
		{"Served without serve series", func() { m.Served("gh", "api.github.com", "GET", 200, time.Millisecond) }},
		{"BackendDone", func() { m.BackendDone("gh", time.Millisecond) }},
		{"BackendError", func() { m.BackendError("gh", KindTimeout) }},
		{"Injection", func() { m.Injection("gh", "bearerinjector", OutcomeInjected) }},
		{"InjectionFailed", func() { m.InjectionFailed("bearerinjector", ReasonNotFound) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tc.f); got != 0 {
				t.Errorf("got %v allocs per call, want 0", got)
			}
		})
	}
}
