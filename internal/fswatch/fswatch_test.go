package fswatch

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
)

// waitFor bounds every wait for an event; events come within milliseconds, the margin is for a
// loaded machine.
const waitFor = 10 * time.Second

// backends are the watchers under test: New (inotify on Linux) and the fsnotify one.
var backends = []struct {
	name string
	new  func() (*Watcher, error)
}{{"New", New}, {"portable", NewPortable}}

func newWatcher(t *testing.T, newFn func() (*Watcher, error), dirs ...string) *Watcher {
	t.Helper()
	w, err := newFn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// next waits for an event on name that has op, skipping others, and returns every op seen on
// name up to it.
func next(t *testing.T, w *Watcher, name string, op Op) []Op {
	t.Helper()
	var seen []Op
	timeout := time.After(waitFor)
	for {
		select {
		case e, ok := <-w.Events:
			if !ok {
				t.Fatalf("events closed while waiting for %s on %s", op, name)
			}
			if e.Name != name {
				continue
			}
			seen = append(seen, e.Op)
			if e.Op.Has(op) {
				return seen
			}
		case err := <-w.Errors:
			t.Fatalf("watcher error: %v", err)
		case <-timeout:
			t.Fatalf("no %s on %s within %s; saw %v", op, name, waitFor, seen)
		}
	}
}

func TestReportsChangesInDirectory(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dir := t.TempDir()
			w := newWatcher(t, b.new, dir)
			name := filepath.Join(dir, "f")

			if err := os.WriteFile(name, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			next(t, w, name, Create)
			next(t, w, name, Write)
			if w.ReportsClose() {
				next(t, w, name, CloseWrite)
			}
			if err := os.Rename(name, name+".moved"); err != nil {
				t.Fatal(err)
			}
			next(t, w, name, Rename)
			next(t, w, name+".moved", Create)
			if err := os.Remove(name + ".moved"); err != nil {
				t.Fatal(err)
			}
			next(t, w, name+".moved", Remove)
		})
	}
}

// TestCloseWriteComesAfterTheLastWrite is what callers rely on: a writer that keeps the file
// open across several writes is done at CloseWrite, which follows its last Write.
func TestCloseWriteComesAfterTheLastWrite(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, New, dir)
	if !w.ReportsClose() {
		t.Skip("no CloseWrite on " + runtime.GOOS)
	}
	name := filepath.Join(dir, "f")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"first half", "second half"} {
		if _, err := f.WriteString(part); err != nil {
			t.Fatal(err)
		}
		if seen := next(t, w, name, Write); slices.ContainsFunc(seen, func(o Op) bool { return o.Has(CloseWrite) }) {
			t.Fatalf("CloseWrite while the file is still open: %v", seen)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	next(t, w, name, CloseWrite)

	// Truncating on open is a write too: a reader told of it knows the file is being rewritten.
	f, err = os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	next(t, w, name, Write)
	f.Close()
	next(t, w, name, CloseWrite)
}

// TestWatchListDropsVanishedDirectories: a directory deleted or moved away is no longer at its
// name, so it must leave WatchList, which tells the owner to watch the name anew.
func TestWatchListDropsVanishedDirectories(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			root := t.TempDir()
			gone, moved := filepath.Join(root, "gone"), filepath.Join(root, "moved")
			for _, d := range []string{gone, moved} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			w := newWatcher(t, b.new, gone, moved)
			if got := sorted(w.WatchList()); !slices.Equal(got, []string{gone, moved}) {
				t.Fatalf("WatchList = %q, want both directories", got)
			}
			if err := os.Remove(gone); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(moved, moved+".away"); err != nil {
				t.Fatal(err)
			}
			go func() { // drain, so that the backend is never stuck sending
				for range w.Events {
				}
			}()
			poll.Until(t, waitFor, "vanished directories leave WatchList", func() bool { return len(w.WatchList()) == 0 })

			// The name can be watched again once a directory is back at it.
			if err := os.Mkdir(gone, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := w.Add(gone); err != nil {
				t.Fatal(err)
			}
			if got := w.WatchList(); !slices.Equal(got, []string{gone}) {
				t.Errorf("WatchList = %q after re-adding, want %q", got, gone)
			}
		})
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

func TestAddRefusesWhatItCannotWatch(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWatcher(t, b.new)
			if err := w.Add(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Add(missing) = %v, want ErrNotExist", err)
			}
			if err := w.Remove(t.TempDir()); err == nil {
				t.Error("Remove of a directory never added: got nil, want an error")
			}
			w.Close()
			if err := w.Add(t.TempDir()); !errors.Is(err, ErrClosed) {
				t.Errorf("Add after Close = %v, want ErrClosed", err)
			}
		})
	}
}

// TestCloseStopsEverything closes a watcher while events are pending and nobody reads them:
// Close must return, close Events and leave no goroutine behind.
func TestCloseStopsEverything(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dir := t.TempDir()
			w := newWatcher(t, b.new, dir)
			for i := range 5 {
				if err := os.WriteFile(filepath.Join(dir, "f"), []byte{byte(i)}, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Errorf("second Close = %v, want nil", err)
			}
			for range w.Events { // must end: Events is closed
			}
			poll.Until(t, waitFor, "watcher goroutines gone", func() bool {
				buf := make([]byte, 1<<20)
				stacks := string(buf[:runtime.Stack(buf, true)])
				return !strings.Contains(stacks, "fswatch.(*inotify)") && !strings.Contains(stacks, "fswatch.(*portable)") &&
					!strings.Contains(stacks, "fsnotify")
			})
		})
	}
}

// TestFlushDeliversCompletedWrites: once a write has returned, Flush hands over its event, so a
// reader that flushes before reading a file knows whether a writer holds it open.
func TestFlushDeliversCompletedWrites(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, New, dir)
	if !w.ReportsClose() {
		t.Skip("no flush on " + runtime.GOOS)
	}
	name := filepath.Join(dir, "f")
	for round := range 50 {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("half"); err != nil {
			t.Fatal(err)
		}
		evs, err := w.Flush()
		if err != nil {
			t.Fatal(err)
		}
		if last := lastOn(evs, name); last != Write {
			t.Fatalf("round %d: last event on the file from Flush after a write = %v, want WRITE (all: %v)", round, last, evs)
		}
		f.Close()
		evs, err = w.Flush()
		if err != nil {
			t.Fatal(err)
		}
		if last := lastOn(evs, name); !last.Has(CloseWrite) {
			t.Fatalf("round %d: last event on the file from Flush after close = %v, want CLOSE_WRITE", round, last)
		}
	}
	// Nothing queued: Flush returns at once, empty.
	if evs, err := w.Flush(); len(evs) != 0 || err != nil {
		t.Errorf("Flush with nothing queued = %v, %v; want nothing", evs, err)
	}
	w.Close()
	if evs, err := w.Flush(); len(evs) != 0 || err != nil {
		t.Errorf("Flush after Close = %v, %v; want nothing", evs, err)
	}
}

func lastOn(evs []Event, name string) Op {
	var op Op
	for _, e := range evs {
		if e.Name == name {
			op = e.Op
		}
	}
	return op
}
