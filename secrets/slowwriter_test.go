package secrets

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/fswatch"
)

// reportsClose reports whether this system's watcher tells when a writer closes a file.
func reportsClose(t *testing.T) bool {
	t.Helper()
	w, err := fswatch.New()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.ReportsClose()
}

// settle returns once Run has finished its start-up scan and one periodic rescan: the loop takes
// a tick only when the previous rescan is over, so the second send waits for the first's.
func settle(tick chan<- time.Time) {
	tick <- time.Now()
	tick <- time.Now()
}

// hammer reads name from s in a loop until stopped, and records every value outside valid.
type hammer struct {
	reads atomic.Int64
	mu    sync.Mutex
	valid map[string]bool
	bad   []string
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startHammer(s *Store, name string, valid ...string) *hammer {
	h := &hammer{valid: make(map[string]bool), stop: make(chan struct{})}
	h.allow(valid...)
	for range 2 {
		h.wg.Go(func() {
			for {
				select {
				case <-h.stop:
					return
				default:
				}
				v, err := s.Get(name)
				h.reads.Add(1)
				if err != nil {
					h.record("error: " + err.Error())
					continue
				}
				h.mu.Lock()
				ok := h.valid[string(v)]
				h.mu.Unlock()
				if !ok {
					h.record(string(v))
				}
			}
		})
	}
	return h
}

// allow adds values a reader may see; call it before the writer starts writing them.
func (h *hammer) allow(values ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range values {
		h.valid[v] = true
	}
}

func (h *hammer) record(v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bad = append(h.bad, v)
}

// finish stops the readers and fails t if any read saw a value it should not have.
func (h *hammer) finish(t *testing.T) {
	t.Helper()
	close(h.stop)
	h.wg.Wait()
	if h.reads.Load() == 0 {
		t.Fatal("no read happened; the test proved nothing")
	}
	if len(h.bad) > 0 {
		t.Errorf("%d of %d reads saw a value that was never whole, first %q", len(h.bad), h.reads.Load(), h.bad[0])
	}
}

// TestSlowWriterNeverHalfRead rewrites a secret in place as a slow writer does: one open file,
// the first half of the value, a pause, the second half, then close. Readers hammer the store
// all along, and during the pause something else makes the store rescan: file events of another
// secret in the same directory, or the periodic rescan. No read may see the first half alone;
// the whole value is served once the writer closes the file.
func TestSlowWriterNeverHalfRead(t *testing.T) {
	if !reportsClose(t) {
		t.Skip("the watcher cannot tell when a writer closes a file on this system")
	}
	tests := []struct {
		name  string
		pause func(t *testing.T, s *Store, tick chan time.Time, other string, round int)
	}{
		// The pauses of the issue: with the old quiet window of 25 ms, the first half was
		// served on 20% (40 ms) and 40% (80 ms) of requests. A slow writer's pause is its own
		// behaviour, not a wait for something, so it is a plain timer.
		{"pause 40ms", func(*testing.T, *Store, chan time.Time, string, int) { <-time.After(40 * time.Millisecond) }},
		{"pause 80ms", func(*testing.T, *Store, chan time.Time, string, int) { <-time.After(80 * time.Millisecond) }},
		{"another secret rotates meanwhile", func(t *testing.T, s *Store, _ chan time.Time, other string, round int) {
			v := fmt.Sprintf("other-%d", round)
			writeFile(t, other, v+"\n")
			waitValue(t, s, other, v) // a rescan ran while the token was half written
		}},
		{"periodic rescan meanwhile", func(_ *testing.T, _ *Store, tick chan time.Time, _ string, _ int) { settle(tick) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			token, other := filepath.Join(dir, "token"), filepath.Join(dir, "other")
			initial := "v0-" + strings.Repeat("a", 40)
			writeFile(t, token, initial+"\n")
			writeFile(t, other, "other-0\n")
			tick := make(chan time.Time)
			s, logs := newStore(t, Options{Paths: []string{dir}, Tick: tick})
			run(t, s)
			settle(tick)

			h := startHammer(s, token, initial)
			for round := 1; round <= 5; round++ {
				value := fmt.Sprintf("v%d-%s", round, strings.Repeat("b", 40))
				h.allow(value)
				f, err := os.OpenFile(token, os.O_WRONLY|os.O_TRUNC, 0)
				if err != nil {
					t.Fatal(err)
				}
				half := len(value) / 2
				if _, err := f.WriteString(value[:half]); err != nil {
					t.Fatal(err)
				}
				tc.pause(t, s, tick, other, round)
				if _, err := f.WriteString(value[half:] + "\n"); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				waitValue(t, s, token, value) // the close alone brings it in: the ticker is idle
			}
			h.finish(t)
			for _, w := range logs.warnings(token) {
				if strings.Contains(w.Message, "still open for writing") {
					t.Errorf("got %q: the writer's close was missed", w.Message)
				}
			}
		})
	}
}

// TestWriterThatNeverClosesIsReadAnyway keeps a rewritten secret open: it is served once the
// writer has held it longer than the limit, with a warning, so a writer that never closes the
// file cannot hold a rotation back for good.
func TestWriterThatNeverClosesIsReadAnyway(t *testing.T) {
	if !reportsClose(t) {
		t.Skip("the watcher cannot tell when a writer closes a file on this system")
	}
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	writeFile(t, token, "v1\n")
	tick := make(chan time.Time)
	s, logs := newStore(t, Options{Paths: []string{dir}, Tick: tick})
	setOpenWriteLimit(s, 300*time.Millisecond)
	run(t, s)
	settle(tick)

	f, err := os.OpenFile(token, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("v2\n"); err != nil {
		t.Fatal(err)
	}
	waitValue(t, s, token, "v2")
	want := "Secret file still open for writing after 300ms, reading it as it is: " + token
	if n := count(logs.messages(logrus.WarnLevel), want); n != 1 {
		t.Errorf("got %d warnings %q, want 1", n, want)
	}
}

// TestPromptWriterInPlace: a writer that writes the whole value and closes the file is picked up
// through events alone (the ticker never fires), with the watcher that reports closes and with
// the one that does not.
func TestPromptWriterInPlace(t *testing.T) {
	for _, portable := range []bool{false, true} {
		t.Run(map[bool]string{false: "New", true: "portable"}[portable], func(t *testing.T) {
			dir := t.TempDir()
			token := filepath.Join(dir, "token")
			writeFile(t, token, "v0\n")
			s, _ := newStore(t, Options{Paths: []string{dir}})
			if portable {
				usePortableWatcher(s)
			}
			run(t, s)
			for i := 1; i <= 5; i++ {
				v := fmt.Sprintf("v%d", i)
				f, err := os.OpenFile(token, os.O_WRONLY|os.O_TRUNC, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteString(v + "\n"); err != nil {
					t.Fatal(err)
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				waitValue(t, s, token, v)
			}
		})
	}
}
