// Package routesrc keeps the route table current: it compiles the routes given inline and in a
// routes file, and recompiles when the file changes, swapping each new table in atomically.
package routesrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

// InlineName is the file name that errors in inline routes are reported under.
const InlineName = "-inline-routes"

// DefaultPollInterval is how often the routes file is re-read when no file event says it changed,
// as Skipper's -source-poll-timeout default.
const DefaultPollInterval = 3 * time.Second

// settle is how long file events must be quiet before the routes file is read: an editor's save
// or a writer that truncates first comes as a burst of events, and reading mid-burst would only
// find a half-written file and log a spurious syntax error.
const settle = 50 * time.Millisecond

// Options configures a Loader.
type Options struct {
	// Inline is route text given on the command line; "" for none.
	Inline string
	// File is the routes file; "" for none.
	File string
	// PollInterval is how often File is re-read regardless of file events. Zero means
	// DefaultPollInterval.
	PollInterval time.Duration
	// Filters resolves the routes' filters.
	Filters *filters.Registry
	// Router receives every table that is applied. Required.
	Router *routing.Router
	// Log receives what was applied and what was rejected. Nil means no log.
	Log logrus.FieldLogger
	// Report, if set, is called after every load attempt, applied or not: for metrics, for
	// readiness, and for checks that need more than the routing package knows (such as where
	// secrets live).
	Report func(Result)
	// Tick, if set, replaces the poll ticker; for tests.
	Tick <-chan time.Time
}

// Result describes one attempt to load routes.
type Result struct {
	// Table is the table that was swapped in; nil when the attempt kept the current one.
	Table *routing.Table
	// Invalid is how many routes were left out; zero when the file did not parse or read.
	Invalid int
}

// Loader compiles routes and keeps the Router's table current. Its methods are safe for
// concurrent use.
type Loader struct {
	opts   Options
	log    logrus.FieldLogger
	inline []*routing.RouteDef

	mu      sync.Mutex // serialises reloads; guards the fields below
	read    bool       // the routes file has been read at least once
	last    fileState  // the last read that update handled, applied or not
	applied bool       // a table has been swapped in
}

// New parses the inline routes and applies the first table, from the inline routes and the
// routes file as it is now. A syntax error in the inline routes is an error: they cannot
// change while skipper runs, so starting without them would serve wrong routes for good. A
// routes file that is missing or broken is logged and serves no routes until it is fixed, as in
// Skipper.
func New(opts Options) (*Loader, error) {
	if opts.Router == nil {
		return nil, errors.New("routesrc: Options.Router is nil")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	l := &Loader{opts: opts, log: opts.Log}
	if l.log == nil {
		nop := logrus.New()
		nop.SetOutput(io.Discard)
		l.log = nop
	}
	if opts.Inline != "" {
		defs, err := routing.Parse(InlineName, opts.Inline)
		if err != nil {
			return nil, err
		}
		l.inline = defs
	}
	if opts.File == "" {
		l.apply(nil)
		return l, nil
	}
	l.Reload()
	if !l.applied {
		// The file is broken: serve at least the inline routes until it is fixed.
		l.apply(nil)
	}
	return l, nil
}

// Reload re-reads the routes file and applies it at once if it changed since the last read. A
// file that does not parse leaves the current table in place; a missing file serves no routes
// from it, as in Skipper. Reload is what SIGHUP triggers: an explicit request, so it does not
// wait for the file to settle as the background watch does.
func (l *Loader) Reload() {
	if l.opts.File == "" {
		return
	}
	st := readFile(l.opts.File)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.update(st)
}

// fileState is the outcome of one read of the routes file.
type fileState struct {
	src []byte
	err error
}

func readFile(name string) fileState {
	src, err := os.ReadFile(name)
	return fileState{src: src, err: err}
}

func (st fileState) missing() bool { return errors.Is(st.err, fs.ErrNotExist) }

// same reports whether two reads found the same thing.
func (st fileState) same(o fileState) bool {
	return bytes.Equal(st.src, o.src) && (st.err == nil) == (o.err == nil) && st.missing() == o.missing()
}

// changed reports whether st differs from the last read that update handled.
func (l *Loader) changed(st fileState) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.read || !st.same(l.last)
}

// update applies one read of the routes file, unless it found what the previous one did.
// l.mu must be held.
func (l *Loader) update(st fileState) {
	if l.read && st.same(l.last) {
		return
	}
	l.read, l.last = true, st
	switch {
	case st.missing():
		l.log.Warnf("Routes file %s does not exist, serving no routes from it", l.opts.File)
		l.apply(nil)
		return
	case st.err != nil:
		l.log.WithError(st.err).Errorf("Cannot read routes file %s, keeping the current routes", l.opts.File)
		l.report(Result{})
		return
	}
	defs, err := routing.Parse(l.opts.File, string(st.src))
	if err != nil {
		l.log.Errorf("Routes file not applied, keeping the current routes: %v", err)
		l.report(Result{})
		return
	}
	l.apply(defs)
}

// apply compiles the inline routes followed by defs and swaps the result in, unless defs held
// routes and none of them compiled: a file whose every route is broken is a mistake, not an
// intent to serve nothing.
func (l *Loader) apply(defs []*routing.RouteDef) {
	all := make([]*routing.RouteDef, 0, len(l.inline)+len(defs))
	all = append(append(all, l.inline...), defs...)
	table, errs := routing.Compile(all, routing.CompileOptions{Filters: l.opts.Filters, Log: l.log})
	for _, err := range errs {
		l.log.Errorf("Route left out: %v", err)
	}
	if len(all) > 0 && table.Len() == 0 {
		l.log.Errorf("No route compiled, keeping the current routes (%d invalid)", len(errs))
		l.report(Result{Invalid: len(errs)})
		return
	}
	l.opts.Router.Swap(table)
	l.applied = true
	l.log.Infof("Routes applied: %d valid, %d invalid", table.Len(), len(errs))
	l.report(Result{Table: table, Invalid: len(errs)})
}

func (l *Loader) report(r Result) {
	if l.opts.Report != nil {
		l.opts.Report(r)
	}
}

// Run re-reads the routes file on file events in its directory and on every poll until ctx is
// done, then returns nil. Without a routes file it only waits for ctx.
func (l *Loader) Run(ctx context.Context) error {
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
	var events <-chan fsnotify.Event
	if w, err := l.watch(); err != nil {
		l.log.WithError(err).Warnf("Cannot watch routes file, re-reading it every %s", l.opts.PollInterval)
	} else {
		defer w.Close()
		events = w.Events
	}
	l.loop(ctx, events, tick)
	return nil
}

// watch watches the routes file's directory: editors and config-map mounts replace the file by
// rename or symlink swap, which a watch on the file itself would not survive.
func (l *Loader) watch() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if err := w.Add(filepath.Dir(l.opts.File)); err != nil {
		w.Close()
		return nil, fmt.Errorf("watching %s: %w", filepath.Dir(l.opts.File), err)
	}
	return w, nil
}

// loop is Run's event loop. A file event starts the settle timer; when it fires, or on a poll,
// the file is read, and a content that differs from the last one handled becomes a candidate.
// A candidate is applied only once a second read, settle later, finds it again: a writer that
// truncates and then writes, if paused in between, would otherwise have its empty file served as
// "no routes" for a moment.
func (l *Loader) loop(ctx context.Context, events <-chan fsnotify.Event, tick <-chan time.Time) {
	settled := time.NewTimer(settle) // a first check catches changes made between New and the watch
	defer settled.Stop()
	var candidate *fileState
	check := func() {
		st := readFile(l.opts.File)
		switch {
		case !l.changed(st):
			candidate = nil
		case candidate != nil && candidate.same(st):
			candidate = nil
			l.mu.Lock()
			l.update(st)
			l.mu.Unlock()
		default:
			candidate = &st
			settled.Reset(settle)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-events:
			if !ok {
				events = nil // the watcher failed; the poll carries on
				continue
			}
			candidate = nil // still being written: confirm afresh once it settles
			settled.Reset(settle)
		case <-settled.C:
			check()
		case <-tick:
			check()
		}
	}
}

// Check parses and compiles the inline routes and the files together, as a Loader would serve
// them, without serving anything. It returns how many routes compiled and every problem found:
// a syntax error per source that has one, then each route that would be left out.
func Check(inline string, files []string, reg *filters.Registry, log logrus.FieldLogger) (valid int, problems []error) {
	var all []*routing.RouteDef
	add := func(name, src string) {
		defs, err := routing.Parse(name, src)
		if err != nil {
			problems = append(problems, err)
			return
		}
		all = append(all, defs...)
	}
	if inline != "" {
		add(InlineName, inline)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		add(f, string(src))
	}
	table, errs := routing.Compile(all, routing.CompileOptions{Filters: reg, Log: log})
	return table.Len(), append(problems, errs...)
}
