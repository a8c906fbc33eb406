package secrets

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/skipper-egress/skipper/internal/fswatch"
)

// Debounce timing for file events. A writer that truncates and then writes, or an editor that
// saves in several steps, produces a burst of events; rescanning only after the burst has been
// quiet for debounceQuiet avoids publishing a half-written file. debounceMax bounds the delay
// when events never stop, so a busy directory still gets rescanned. Where the watcher reports
// closes (Linux), a write does not start the wait at all: the writer's close does (see writers).
const (
	debounceQuiet = 25 * time.Millisecond
	debounceMax   = 100 * time.Millisecond
)

// maxResyncs bounds the extra scans after a rescan that had to add watches. Each one follows a
// path that changed kind, or a directory renamed, while the watches were being set up; the
// ticker catches anything beyond.
const maxResyncs = 3

// Run keeps the Store current until ctx is done, then returns nil having stopped everything it
// started. It rescans shortly after any file event in the watched directories and, regardless,
// on every tick of Options.Tick or of the UpdateInterval ticker. It watches directories, never
// files, because editors and Kubernetes replace a secret by rename or symlink swap: the parent
// of each file path, each directory path, and the parent of a path that does not exist yet. On
// Linux a file rewritten in place is read when its writer closes it, never in between. If file
// events are unavailable it logs a warning and relies on the ticker. Run returns an error only
// if it is already running.
func (s *Store) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("secret store is already running")
	}
	defer s.running.Store(false)

	tick := s.tick
	if tick == nil {
		t := time.NewTicker(s.interval)
		defer t.Stop()
		tick = t.C
	}
	var w *fswatch.Watcher
	if !s.noWatch {
		var err error
		if w, err = s.newWatcher(); err != nil {
			s.log.WithError(err).Warnf("Cannot watch credentials paths, rescanning every %s only", s.interval)
			w = nil
		} else {
			defer w.Close() // waits for the watcher's reader goroutine to exit
		}
	}
	s.loop(ctx, w, tick)
	return nil
}

// watchLoop is the state of Run's event loop, owned by the goroutine running it.
type watchLoop struct {
	s      *Store
	ws     *watchSet
	events <-chan fswatch.Event
	errs   <-chan error
	closes bool // the watcher reports CloseWrite
	db     *debouncer
	expiry *time.Timer // fires when the earliest open writer reaches its limit
}

// loop is Run's event loop. w may be nil, in which case only tick triggers rescans.
func (s *Store) loop(ctx context.Context, w *fswatch.Watcher, tick <-chan time.Time) {
	l := &watchLoop{
		s:      s,
		ws:     &watchSet{s: s, w: w, dirs: make(map[string]os.FileInfo), warned: make(map[string]string)},
		db:     newDebouncer(),
		expiry: time.NewTimer(time.Hour),
	}
	l.expiry.Stop()
	defer l.db.stop()
	defer l.expiry.Stop()
	defer s.writers.reset()
	if w != nil {
		l.events, l.errs, l.closes = w.Events, w.Errors, w.ReportsClose()
	}
	l.rescan() // catch what changed between NewStore and setting up the watches

	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-tick:
			if !ok {
				tick = nil // a closed Options.Tick stops the periodic rescans, not the loop
				continue
			}
			l.rescan()
		case <-l.db.C():
			l.db.fired()
			l.rescan()
		case <-l.expiry.C:
			l.rescan()
		case e, ok := <-l.events:
			l.event(e, ok)
		case err, ok := <-l.errs:
			if !ok {
				l.errs = nil // events reports the closed watcher
				continue
			}
			// An overflow means events were lost; rescan to make up for them.
			s.log.WithError(err).Warn("File watcher error, rescanning")
			l.db.event(time.Now())
		}
	}
}

// rescan brings the watches and the snapshot up to date. The events the system holds are taken
// first, so that a writer that had written before the scan holds its file back; a write that
// the flush did not see changed its file after the flush began (see refresh).
func (l *watchLoop) rescan() {
	flushed := time.Now()
	l.flush()
	// Watch first, so that a change after the scan raises an event. A path can change kind
	// during the scan (a missing directory appears), so check the watches again; a new watch
	// needs one more scan to cover what happened before it was in place.
	l.ws.sync()
	again := l.refresh(flushed)
	for range maxResyncs {
		if !l.ws.sync() {
			break
		}
		again = l.refresh(flushed) || again
	}
	if again {
		l.db.event(time.Now()) // a file was changing as it was read: read it once it is quiet
	}
	l.s.writers.prune(time.Now())
	l.armExpiry()
}

// flush handles the events the watcher has not delivered yet.
func (l *watchLoop) flush() {
	if l.ws.w == nil {
		return
	}
	evs, err := l.ws.w.Flush()
	for _, e := range evs {
		l.event(e, true)
	}
	if err != nil {
		l.s.log.WithError(err).Warn("File watcher error, rescanning")
		l.db.event(time.Now())
	}
}

// refresh scans once. Where closes are reported, a file is read whole once its writer closed
// it. A file that changed after the flush before the scan began may be in the middle of a write
// whose event is not out yet (the kernel stamps the change before it copies the data, and
// reports the write after), so it waits for the next scan, which refresh asks for.
func (l *watchLoop) refresh(flushed time.Time) (again bool) {
	if !l.closes {
		l.s.Refresh()
		return false
	}
	return l.s.refresh(flushed.Add(-changeSkew))
}

// event handles one receive from the watcher's Events. A write to a file, where closes are
// reported, only notes that a writer holds it open: the close brings the rescan. Everything else
// brings a rescan once events are quiet.
func (l *watchLoop) event(e fswatch.Event, ok bool) {
	if !ok {
		l.s.log.Warnf("File watcher stopped, rescanning every %s only", l.s.interval)
		l.events, l.errs, l.ws.w = nil, nil, nil
		l.s.writers.reset() // no close will be seen now
		return
	}
	now := time.Now()
	if l.closes {
		switch {
		case e.Op.Has(fswatch.CloseWrite), e.Op.Has(fswatch.Remove), e.Op.Has(fswatch.Rename):
			l.s.writers.done(e.Name)
		case e.Op == fswatch.Write:
			l.s.writers.wrote(e.Name, now)
			l.armExpiry()
			return
		}
	}
	l.db.event(now)
}

// armExpiry sets the expiry timer for the earliest open writer, if any.
func (l *watchLoop) armExpiry() {
	if at, ok := l.s.writers.next(time.Now()); ok {
		l.expiry.Reset(max(time.Until(at), 0))
	}
}

// watchSet keeps a watcher on the directories the credentials paths need. It is owned by the
// goroutine running loop.
type watchSet struct {
	s      *Store
	w      *fswatch.Watcher       // nil: no file events
	dirs   map[string]os.FileInfo // watched directory → the directory the watch is known to be on
	warned map[string]string      // directory → watch error already logged
}

// sync makes w watch exactly the directories the credentials paths need now: each path that is
// a directory, and the parent of every other path. A watch follows a directory, not its name,
// so a watched directory that was replaced is watched anew. The watcher drops a watch whose
// directory was deleted or moved away, so its WatchList says what is still watched. Failures
// are logged once per directory and error, and retried on the next rescan.
//
// sync reports whether the caller should rescan and sync again: it added a watch, which may
// have missed a change, or a directory vanished between looking at it and watching it.
func (ws *watchSet) sync() (again bool) {
	if ws.w == nil {
		return false
	}
	want := ws.wanted()
	have := make(map[string]bool)
	for _, d := range ws.w.WatchList() {
		have[d] = true
		if _, ok := want[d]; !ok {
			_ = ws.w.Remove(d) // it may have gone already; either way it is no longer watched
		}
	}
	for d := range ws.dirs {
		if _, ok := want[d]; !ok || !have[d] {
			delete(ws.dirs, d)
		}
	}
	for _, d := range sortedKeys(want) {
		before := want[d]
		if known := ws.dirs[d]; known != nil && before != nil && os.SameFile(known, before) {
			continue
		}
		if have[d] {
			_ = ws.w.Remove(d) // watching a directory that is no longer at d, or not known to be
			delete(ws.dirs, d)
		}
		if err := ws.w.Add(d); err != nil {
			ws.warn(d, err)
			again = again || before != nil
			continue
		}
		again = true
		delete(ws.warned, d)
		// inotify resolves the name and attaches the watch in two steps; a rename in between
		// leaves the watch on the directory just moved away, and no event tells. Only a watch
		// whose directory stayed put across the Add is trusted; the next sync redoes any other.
		if after, err := os.Stat(d); before != nil && err == nil && os.SameFile(before, after) {
			ws.dirs[d] = after
		}
	}
	return again
}

// wanted maps each directory to watch to what is at its name now, or nil if no directory is.
func (ws *watchSet) wanted() map[string]os.FileInfo {
	want := make(map[string]os.FileInfo, len(ws.s.paths))
	for _, p := range ws.s.paths {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			want[filepath.Clean(p)] = fi
			continue
		}
		d := filepath.Dir(p)
		if _, ok := want[d]; ok {
			continue
		}
		want[d] = nil
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			want[d] = fi
		}
	}
	return want
}

func (ws *watchSet) warn(d string, err error) {
	if ws.warned[d] == err.Error() {
		return
	}
	ws.warned[d] = err.Error()
	l := ws.s.log.WithField(fieldPath, d).WithError(err)
	if errors.Is(err, fs.ErrNotExist) {
		// The path's own warning already covers this; the ticker will find it.
		l.Debugf("Cannot watch directory until it exists: %s", d)
		return
	}
	l.Warnf("Cannot watch directory, changes are seen at the next periodic rescan: %s", d)
}

// debouncer turns a burst of file events into one rescan: it fires debounceQuiet after the last
// event, or debounceMax after the first, whichever is sooner. It is used by one goroutine.
type debouncer struct {
	timer   *time.Timer
	first   time.Time // first event of the pending burst
	pending bool
}

func newDebouncer() *debouncer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &debouncer{timer: t}
}

// C is the channel on which the rescan is due.
func (d *debouncer) C() <-chan time.Time { return d.timer.C }

// event notes a file event at now and (re)arms the timer.
func (d *debouncer) event(now time.Time) {
	if !d.pending {
		d.pending, d.first = true, now
	}
	wait := min(debounceQuiet, d.first.Add(debounceMax).Sub(now))
	d.timer.Reset(max(wait, 0))
}

// fired notes that the rescan has been taken off C.
func (d *debouncer) fired() { d.pending = false }

func (d *debouncer) stop() { d.timer.Stop() }
