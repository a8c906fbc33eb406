package routesrc

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/skipper-egress/skipper/internal/fswatch"
)

// Run re-reads the routes file on file events in its directory and on every poll, and fetches
// the routes URLs on every poll, until ctx is done, then returns nil. A change is applied once
// the file has stayed as it is for a while (see loop).
func (l *Loader) Run(ctx context.Context) error {
	if len(l.urls) > 0 {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			l.runURLs(ctx)
		}()
	}
	if l.opts.File == "" {
		<-ctx.Done()
		return nil
	}
	tick := l.opts.Tick
	if tick == nil {
		t := time.NewTicker(l.opts.PollInterval)
		defer t.Stop()
		tick = t.C
	}
	w, err := l.watch()
	if err != nil {
		l.log.WithError(err).Warnf("Cannot watch routes file, re-reading it every %s", l.opts.PollInterval)
		w = nil
	} else {
		defer w.Close()
	}
	l.loop(ctx, w, tick)
	return nil
}

// watch watches the routes file's directory: editors and config-map mounts replace the file by
// rename or symlink swap, which a watch on the file itself would not survive.
func (l *Loader) watch() (*fswatch.Watcher, error) {
	w, err := l.newWatcher()
	if err != nil {
		return nil, err
	}
	if err := w.Add(filepath.Dir(l.opts.File)); err != nil {
		w.Close()
		return nil, fmt.Errorf("watching %s: %w", filepath.Dir(l.opts.File), err)
	}
	return w, nil
}

// watchState is what loop knows about the routes file between reads. It is owned by the
// goroutine running loop.
type watchState struct {
	name   string // the routes file, cleaned, as file events name it
	closes bool   // the watcher reports CloseWrite

	// writing is when a writer that holds the file open first wrote to it since it last
	// closed it; zero when none is known to.
	writing time.Time
	// candidate is a read that differs from what is in service, waiting to be confirmed by a
	// later read that finds the file unchanged; since is when it was read, noRoutes whether it
	// would take away every route the file serves.
	candidate *fileState
	since     time.Time
	noRoutes  bool
}

// loop is Run's event loop. w may be nil: then only tick and the timer trigger reads.
//
// A change is applied only once two reads, far enough apart and with no file event in between,
// find the same content, size and modification time. Where the watcher reports closes (Linux),
// a write to the file only notes that a writer has it open; its close starts the reads, settle
// apart. Elsewhere every event starts them, stableFor apart. A file that served routes and now
// has none must stay so for emptyHold: that is what a file truncated by a writer that has not
// written yet looks like.
func (l *Loader) loop(ctx context.Context, w *fswatch.Watcher, tick <-chan time.Time) {
	ws := &watchState{name: filepath.Clean(l.opts.File)}
	var (
		events <-chan fswatch.Event
		errs   <-chan error
	)
	if w != nil {
		events, errs, ws.closes = w.Events, w.Errors, w.ReportsClose()
	}
	timer := time.NewTimer(settle) // a first check catches changes made between New and the watch
	defer timer.Stop()
	after := func(d time.Duration) {
		if d > 0 {
			timer.Reset(d)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				events, w = nil, nil // the watcher failed; the poll carries on
				ws.closes, ws.writing = false, time.Time{}
				continue
			}
			after(ws.event(e, time.Now()))
		case err, ok := <-errs:
			if !ok {
				errs = nil // events reports the closed watcher
				continue
			}
			// Events were lost (an overflow): read the file again to make up for them.
			l.log.WithError(err).Warn("Routes file watcher error, re-reading the file")
			ws.candidate = nil
			after(settle)
		case <-timer.C:
			after(l.check(ws, w))
		case <-tick:
			after(l.check(ws, w))
		}
	}
}

// event takes in one file event at now and returns when to check the file next.
func (ws *watchState) event(e fswatch.Event, now time.Time) time.Duration {
	if e.Name != ws.name {
		return settle // a config-map swap, say, shows only as events on other names
	}
	ws.candidate = nil // the file is changing: confirm afresh
	if ws.closes {
		switch {
		case e.Op == fswatch.Write:
			if ws.writing.IsZero() {
				ws.writing = now
			}
			return ws.writing.Add(openWriteLimit).Sub(now) // its close comes first, normally
		default: // closed, or replaced, created or removed: no writer holds what is at the name now
			ws.writing = time.Time{}
		}
	}
	return settle
}

// check reads the routes file, applies it if it has stayed unchanged long enough, and returns
// when to check it next (zero: only when something happens).
func (l *Loader) check(ws *watchState, w *fswatch.Watcher) time.Duration {
	if w != nil {
		// Take in the events the kernel holds: a write that completed before the read below
		// must hold it back, or discard the candidate it would contradict.
		evs, _ := w.Flush() // an error means lost events; the reads below settle it anyway
		for _, e := range evs {
			ws.event(e, time.Now())
		}
	}
	now := time.Now()
	if !ws.writing.IsZero() {
		if wait := ws.writing.Add(openWriteLimit).Sub(now); wait > 0 {
			return wait
		}
		l.log.Warnf("Routes file %s still open for writing after %s, reading it as it is", l.opts.File, openWriteLimit)
		ws.writing = time.Time{}
	}
	st := readFile(l.opts.File)
	switch {
	case !st.steady:
		ws.candidate = nil // written to as it was read
		return settle
	case !l.changed(st):
		ws.keep(l, st)
		return 0
	case ws.candidate == nil || !ws.candidate.unchanged(st):
		ws.candidate, ws.since = &st, now
		ws.noRoutes = st.noRoutes() && l.servesFileRoutes()
		if ws.noRoutes {
			l.log.Warnf("Routes file %s has no routes now; keeping the current ones unless it stays so for %s", l.opts.File, emptyHold)
		}
		return ws.wait()
	}
	if waited := now.Sub(ws.since); waited < ws.wait() {
		return ws.wait() - waited
	}
	if ws.noRoutes {
		l.log.Warnf("Routes file %s has had no routes for %s, applying that", l.opts.File, emptyHold)
	}
	ws.candidate = nil
	l.mu.Lock()
	l.update(st)
	l.mu.Unlock()
	return 0
}

// keep drops the candidate: the file holds what is in service again. If the candidate had taken
// every route away, say so: the file was caught while it was being written.
func (ws *watchState) keep(l *Loader, st fileState) {
	if ws.candidate != nil && ws.noRoutes && !st.noRoutes() {
		l.log.Infof("Routes file %s has its routes again; the moment without them was not applied", l.opts.File)
	}
	ws.candidate = nil
}

// wait is how long the candidate must stay unchanged before it is applied.
func (ws *watchState) wait() time.Duration {
	d := stableFor
	if ws.closes {
		d = settle
	}
	if ws.noRoutes {
		d = max(d, emptyHold)
	}
	return d
}

// changed reports whether st differs from the last read that update handled.
func (l *Loader) changed(st fileState) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.read || !st.same(l.last)
}

// servesFileRoutes reports whether the table in service holds routes from the file.
func (l *Loader) servesFileRoutes() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fileRoutes > 0
}
