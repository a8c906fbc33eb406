// Package fswatch watches directories for changes to the files in them. On Linux it speaks
// inotify itself, which tells when a writer closes a file (IN_CLOSE_WRITE): a file rewritten in
// place is complete at that moment, not at its first write event. Elsewhere it wraps fsnotify,
// which reports writes but not closes, so callers fall back to waiting for a quiet moment.
//
// It imports no project package, so that every package that reads files (secrets, routes) can
// use it.
package fswatch

import (
	"errors"
	"path/filepath"
	"strings"
)

// Op says what happened to a file. An Event may carry several.
type Op uint8

const (
	// Create: a name appeared in the directory, created or moved in.
	Create Op = 1 << iota
	// Write: a file's content changed (it may still be changing).
	Write
	// Remove: a name was deleted, or the watched directory itself was.
	Remove
	// Rename: a name was moved away, or the watched directory itself was.
	Rename
	// Chmod: a file's metadata changed.
	Chmod
	// CloseWrite: a writer closed a file it had open for writing. Only a Watcher whose
	// ReportsClose is true sends it.
	CloseWrite
)

// Has reports whether o includes every bit of op.
func (o Op) Has(op Op) bool { return o&op == op }

func (o Op) String() string {
	var parts []string
	for _, p := range []struct {
		op   Op
		name string
	}{{Create, "CREATE"}, {Write, "WRITE"}, {Remove, "REMOVE"}, {Rename, "RENAME"}, {Chmod, "CHMOD"}, {CloseWrite, "CLOSE_WRITE"}} {
		if o.Has(p.op) {
			parts = append(parts, p.name)
		}
	}
	if len(parts) == 0 {
		return "[none]"
	}
	return strings.Join(parts, "|")
}

// Event is one change. Name is the watched directory joined with the file's name, or the
// watched directory alone when the change is to the directory itself.
type Event struct {
	Name string
	Op   Op
}

// ErrClosed is returned by Add on a Watcher that was closed.
var ErrClosed = errors.New("fswatch: watcher closed")

// ErrOverflow is sent on Errors when the system dropped events: the caller should re-read
// everything it watches.
var ErrOverflow = errors.New("fswatch: event queue overflowed, events were lost")

// Watcher watches directories, not the files in them: editors and Kubernetes replace files by
// rename or symlink swap, which a watch on the file itself would not survive. Its methods are
// safe for concurrent use; Events and Errors are meant for one reader.
type Watcher struct {
	// Events carries the changes, in the order the system reported them. It is closed after
	// Close, or when the watcher fails for good (after an error on Errors).
	Events <-chan Event
	// Errors carries problems that did not stop the watcher, such as ErrOverflow.
	Errors <-chan error

	closes bool
	b      backend
}

// backend is what each implementation provides besides the channels.
type backend interface {
	add(dir string) error
	remove(dir string) error
	watchList() []string
	flush() ([]Event, error)
	close() error
}

// ReportsClose reports whether Events carries CloseWrite: true for the inotify watcher that New
// returns on Linux. Without it, a Write may be followed by more writes at any moment, and only a
// quiet spell suggests that the writer is done.
func (w *Watcher) ReportsClose() bool { return w.closes }

// Add starts watching the directory dir. Adding a directory twice is not an error.
func (w *Watcher) Add(dir string) error { return w.b.add(filepath.Clean(dir)) }

// Remove stops watching dir. It returns an error if dir is not watched (any more).
func (w *Watcher) Remove(dir string) error { return w.b.remove(filepath.Clean(dir)) }

// WatchList returns the directories watched now. A directory that was deleted or moved away is
// no longer watched, and is not listed.
func (w *Watcher) WatchList() []string { return w.b.watchList() }

// Flush returns, in order, the events that the system had queued before the call and that were
// not received from Events yet, with the first error among them; they come before anything
// Events carries afterwards. Only the goroutine that receives from Events may call it. A reader
// that flushes before it reads a file knows of every write that had completed by then. The
// portable watcher returns nothing: its events come when they come.
func (w *Watcher) Flush() ([]Event, error) { return w.b.flush() }

// Close stops the watcher and waits until its goroutine has exited; Events is closed then.
// Closing twice is not an error.
func (w *Watcher) Close() error { return w.b.close() }
