// Package poll lets tests wait for an effect that has no event to wait on (a file watcher's
// reload, a line in a process's log) without sleeping for a guessed time.
package poll

import (
	"testing"
	"time"
)

// interval is how often Until checks its condition: short next to any deadline a test sets,
// long enough not to keep a core busy.
const interval = 5 * time.Millisecond

// Until checks cond every few milliseconds until it holds, and fails the test, naming what it
// waited for, if that does not happen within the given time.
func Until(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(within)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("%s: not seen within %s", what, within)
		case <-tick.C:
		}
	}
}
