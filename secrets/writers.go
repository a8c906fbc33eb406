package secrets

import (
	"path/filepath"
	"sync"
	"time"
)

// openWriteLimit bounds how long a file that a writer holds open is left alone. A writer that
// rewrites a secret in place and keeps the file open is done when it closes it; one that never
// closes it (or whose close event was lost) is read this long after its first write anyway, so
// that its rotation is not held back for good.
const openWriteLimit = 10 * time.Second

// writers tracks the files that a writer holds open: written to, and not closed since. Only a
// watcher that reports closes (inotify) feeds it; elsewhere it stays empty. A scan keeps the last
// good value of such a file, or leaves a new one out, instead of reading what may be half of the
// new value. It is safe for concurrent use: the watch loop feeds it, and every scan (the loop's,
// and Refresh on SIGHUP) consults it.
type writers struct {
	limit time.Duration // openWriteLimit; tests shorten it

	mu    sync.Mutex
	since map[string]time.Time // cleaned path → first write since the file was last closed
}

// wrote notes a write to name at now.
func (w *writers) wrote(name string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.since == nil {
		w.since = make(map[string]time.Time)
	}
	if _, ok := w.since[name]; !ok {
		w.since[name] = now
	}
}

// done notes that name's writer closed it, or that name was removed or moved away: what is at
// name now (if anything) is not being written through that name.
func (w *writers) done(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.since, name)
}

// reset forgets every writer: without events, no close will ever be seen.
func (w *writers) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.since)
}

// holding reports whether a writer holds the file at path open at now. A writer held open
// longer than the limit is forgotten, and reported as expired, so that the file is read.
func (w *writers) holding(path string, now time.Time) (held, expired bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	name := filepath.Clean(path)
	first, ok := w.since[name]
	switch {
	case !ok:
		return false, false
	case now.Sub(first) >= w.limit:
		delete(w.since, name)
		return false, true
	}
	return true, false
}

// next returns when the earliest writer not yet past the limit at now reaches it; false if
// there is none.
func (w *writers) next(now time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var at time.Time
	for _, first := range w.since {
		if end := first.Add(w.limit); end.After(now) && (at.IsZero() || end.Before(at)) {
			at = end
		}
	}
	return at, !at.IsZero()
}

// prune forgets the writers past the limit at now. A scan has handled those of secret
// files by then; the others were writing files that are not secrets.
func (w *writers) prune(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, first := range w.since {
		if now.Sub(first) >= w.limit {
			delete(w.since, name)
		}
	}
}
