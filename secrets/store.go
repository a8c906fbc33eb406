// Package secrets holds the secret values that the proxy injects into outgoing requests. A Store
// reads them from the files and directories given as credentials paths and keeps them current
// in the background, so a rotated credential is used within moments of being written.
package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/fswatch"
)

// DefaultUpdateInterval is the rescan period used when Options.UpdateInterval is zero; it is
// skipper's default for -credentials-update-interval.
const DefaultUpdateInterval = 10 * time.Minute

// Options configures a Store.
type Options struct {
	// Paths are the credentials paths: files and directories. A file yields one secret, keyed by
	// the path as given. A directory yields its regular files, dot-files and symlinks to files,
	// one level deep (subdirectories are ignored), each keyed by filepath.Join(dir, name).
	Paths []string
	// UpdateInterval is the period of the safety-net rescan that runs even when file events
	// work. If zero, DefaultUpdateInterval is used.
	UpdateInterval time.Duration
	// Log receives state changes (secrets added, updated, removed) and warnings. It never
	// receives a secret's content. If nil, nothing is logged.
	Log logrus.FieldLogger
	// Tick, when non-nil, replaces the UpdateInterval ticker: Run rescans on every receive.
	// Tests use it to drive rescans by hand.
	Tick <-chan time.Time
	// NoWatch turns off file-event watching (inotify, or fsnotify elsewhere), leaving only the
	// periodic rescan. Use it on file systems without inotify, and in tests of the ticker path.
	NoWatch bool
}

// Loaded describes one secret the Store holds, without its value.
type Loaded struct {
	// Path is the secret's key: the file it was read from, as the scan names it.
	Path string
	// LoadedAt is when the current value was first read (its first load or its last update).
	LoadedAt time.Time
}

// Store holds the current value of every secret found under its credentials paths. Its methods
// are safe for concurrent use. Readers see an immutable snapshot that each rescan replaces as a
// whole, so Get never blocks on a rescan.
type Store struct {
	paths    []string
	interval time.Duration
	log      logrus.FieldLogger
	tick     <-chan time.Time
	noWatch  bool

	current atomic.Pointer[snapshot] // never nil after NewStore
	running atomic.Bool              // guards against two concurrent Run calls

	refreshMu sync.Mutex        // serialises rescans
	warned    map[string]string // key → problem already warned about; guarded by refreshMu

	writers    writers                          // files a writer holds open, which scans leave alone
	newWatcher func() (*fswatch.Watcher, error) // fswatch.New; tests swap in NewPortable
}

// snapshot maps a secret's key to its entry. It is never modified once published.
type snapshot map[string]entry

type entry struct {
	value    Secret
	loadedAt time.Time
}

// NewStore checks opts and returns a Store loaded by one synchronous scan of opts.Paths. Secrets
// that cannot be read are logged and left out; only unusable options are an error. The Store
// does not refresh itself until Run is called.
func NewStore(opts Options) (*Store, error) {
	var errs []error
	for i, p := range opts.Paths {
		if p == "" {
			errs = append(errs, fmt.Errorf("credentials path %d is empty", i+1))
		}
	}
	if opts.UpdateInterval < 0 {
		errs = append(errs, fmt.Errorf("update interval %s is negative", opts.UpdateInterval))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	s := &Store{
		paths:    slices.Clone(opts.Paths),
		interval: opts.UpdateInterval,
		log:      opts.Log,
		tick:     opts.Tick,
		noWatch:  opts.NoWatch,
		warned:   make(map[string]string),

		writers:    writers{limit: openWriteLimit},
		newWatcher: fswatch.New,
	}
	if s.interval == 0 {
		s.interval = DefaultUpdateInterval
	}
	if s.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		s.log = l
	}
	s.current.Store(&snapshot{})
	s.Refresh()
	return s, nil
}

// Get returns the current value of the secret read from the file name, which must be spelled as
// the scan produces it (see Options.Paths). If there is no usable value, the error wraps
// ErrNotFound and names the path. Get takes no lock and does not allocate when it succeeds.
func (s *Store) Get(name string) (Secret, error) {
	e, ok := (*s.current.Load())[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return e.value, nil
}

// Lookup returns the current value of the secret read from the file name, as Get does, and
// false instead of an error when there is none; it never allocates.
func (s *Store) Lookup(name string) (Secret, bool) {
	e, ok := (*s.current.Load())[name]
	return e.value, ok
}

// Covers reports whether name is a key the Store could ever hold: one of the credentials paths
// itself, or a file directly inside one of them (spelled filepath.Join(path, file)). Route
// compilation uses it to reject secret names that no file on disk could ever satisfy.
func (s *Store) Covers(name string) bool {
	base := filepath.Base(name)
	for _, p := range s.paths {
		if name == p {
			return true
		}
		if base != "." && base != ".." && !strings.ContainsRune(base, filepath.Separator) &&
			filepath.Join(p, base) == name {
			return true
		}
	}
	return false
}

// Loaded lists the secrets the Store currently holds, sorted by path, without their values.
func (s *Store) Loaded() []Loaded {
	snap := *s.current.Load()
	out := make([]Loaded, 0, len(snap))
	for k, e := range snap {
		out = append(out, Loaded{Path: k, LoadedAt: e.loadedAt})
	}
	slices.SortFunc(out, func(a, b Loaded) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Refresh rescans the credentials paths now and publishes the result, logging each secret that
// was added, updated or removed. Concurrent calls run one after another. Use it on SIGHUP.
func (s *Store) Refresh() { s.refresh(time.Time{}) }

// refresh is Refresh. If changedAfter is not zero, a file whose status changed after it keeps
// its old value, because a write may still be going on in it (see scan.changedAfter); refresh
// then reports that the caller should rescan again shortly.
func (s *Store) refresh(changedAfter time.Time) (again bool) {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()

	old := *s.current.Load()
	sc := newScan(old)
	sc.held, sc.changedAfter = s.held, changedAfter
	for _, p := range s.paths {
		sc.path(p)
	}
	s.report(sc.problems, sc.next)
	if s.logChanges(old, sc.next) {
		next := sc.next
		s.current.Store(&next)
	}
	return sc.deferred
}

// held reports whether a scan must leave the file at key alone because a writer holds it open,
// and warns when a writer has held it open too long to wait for.
func (s *Store) held(key string) bool {
	held, expired := s.writers.holding(key, time.Now())
	if expired {
		s.log.WithField(fieldPath, key).Warnf("Secret file still open for writing after %s, reading it as it is: %s", s.writers.limit, key)
	}
	return held
}

// logChanges logs how next differs from old and reports whether it differs at all.
func (s *Store) logChanges(old, next snapshot) bool {
	changed := false
	for _, k := range sortedKeys(next) {
		o, ok := old[k]
		switch {
		case !ok:
			s.log.Infof("Added secret file: %s", k)
		case !bytes.Equal(o.value, next[k].value):
			s.log.Infof("Updated secret file: %s", k)
		default:
			continue
		}
		changed = true
	}
	for _, k := range sortedKeys(old) {
		if _, ok := next[k]; !ok {
			s.log.Infof("Removed secret file: %s", k)
			changed = true
		}
	}
	return changed
}

// report warns once about each problem found by a scan, and forgets problems that went away so
// that a recurrence is reported again. next tells whether a last good value was kept.
func (s *Store) report(problems map[string]string, next snapshot) {
	for _, k := range sortedKeys(problems) {
		p := problems[k]
		if s.warned[k] == p {
			continue
		}
		s.warned[k] = p
		l := s.log.WithField(fieldPath, k).WithField(fieldReason, p)
		if _, ok := next[k]; ok {
			l.Warnf("Cannot read secret file, keeping its last good value: %s", k)
		} else {
			l.Warnf("Cannot read secrets from: %s", k)
		}
	}
	for k := range s.warned {
		if _, ok := problems[k]; !ok {
			delete(s.warned, k)
		}
	}
}

// Log field names.
const (
	fieldPath   = "path"
	fieldReason = "reason"
)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
