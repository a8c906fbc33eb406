// Package routesrc keeps the route table current: it compiles the routes given inline and in a
// routes file, and recompiles when the file changes, swapping each new table in atomically.
package routesrc

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/fswatch"
	"github.com/skipper-egress/skipper/routing"
)

// InlineName is the file name that errors in inline routes are reported under.
const InlineName = "-inline-routes"

// DefaultPollInterval is how often the routes file is re-read when no file event says it changed,
// as Skipper's -source-poll-timeout default.
const DefaultPollInterval = 3 * time.Second

// How long a changed routes file must stay as it is before it is applied. A writer that truncates
// the file and writes it later (generate > routes.eskip) leaves it empty, or holding only part of
// its routes, for as long as it takes; a table must never be replaced by an emptier one because
// the file was caught in between. See loop.
const (
	// settle is how long file events must be quiet before the file is read, and, where the
	// watcher reports closes (Linux), the gap between the two reads that must agree: the writer
	// is known to be done, and the second read only confirms that no other began.
	settle = 50 * time.Millisecond
	// stableFor replaces settle as that gap where closes are not reported, or events not
	// available: size, modification time and content must stay the same this long.
	stableFor = 500 * time.Millisecond
	// emptyHold is how long a file that served routes must stay without any (empty, blank, or
	// missing) before the table without them is applied.
	emptyHold = time.Second
	// openWriteLimit is how long, where closes are reported, a file that a writer holds open is
	// waited for before it is read anyway.
	openWriteLimit = 10 * time.Second
)

// Options configures a Loader.
type Options struct {
	// Inline is route text given on the command line; "" for none.
	Inline string
	// File is the routes file; "" for none.
	File string
	// URLs are http or https URLs of eskip documents, fetched at start, every PollInterval
	// and on Reload (Skipper's -routes-urls). See urls.go.
	URLs []string
	// PollInterval is how often File is re-read regardless of file events. Zero means
	// DefaultPollInterval.
	PollInterval time.Duration
	// Filters resolves the routes' filters.
	Filters *filters.Registry
	// Changes, if set, are applied to every route, inline or from the file, before it is
	// compiled.
	Changes *Changes
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
	// ShuttingDown, if set, tells the routes' Shutdown() predicates that the process is
	// shutting down (see routing.CompileOptions).
	ShuttingDown func() bool
	// ForwardBackend is where routes with the <forward> backend send their requests
	// (-forward-backend-url); see routing.CompileOptions.
	ForwardBackend *url.URL
	// Baggage, if set, tells the routes' OTelBaggage() predicates whether a request carries
	// a baggage member (see routing.CompileOptions): set when requests are traced.
	Baggage func(r *http.Request, key string) bool
}

// Result describes one attempt to load routes.
type Result struct {
	// Table is the table that was swapped in; nil when the attempt kept the current one.
	Table *routing.Table
	// Invalid is how many routes were left out; zero when the file did not parse or read.
	Invalid int
	// Fallback is set when Table holds the inline routes alone because the routes file could
	// not be read or parsed at start: it serves until the file is fixed, but the load failed.
	Fallback bool
}

// Loader compiles routes and keeps the Router's table current. Its methods are safe for
// concurrent use.
type Loader struct {
	opts   Options
	log    logrus.FieldLogger
	inline []*routing.RouteDef

	mu         sync.Mutex          // serialises reloads; guards the fields below
	read       bool                // the routes file has been read at least once
	last       fileState           // the last read that update handled, applied or not
	applied    bool                // a table has been swapped in
	fileRoutes int                 // how many routes the file gave the table in service
	fileDefs   []*routing.RouteDef // the file's routes in the table in service
	fileOK     bool                // the file's routes (or its absence) have been applied
	urls       []*urlSource
	client     *http.Client // fetches the URLs

	// newWatcher is fswatch.New; tests swap in fswatch.NewPortable.
	newWatcher func() (*fswatch.Watcher, error)
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
	l := &Loader{opts: opts, log: opts.Log, newWatcher: fswatch.New}
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
	if err := l.initURLs(); err != nil {
		return nil, err
	}
	if opts.File == "" {
		l.apply(nil, false)
		return l, nil
	}
	l.reloadFile()
	if !l.applied {
		// The file is broken: serve at least the inline routes until it is fixed, without
		// calling that a success (readiness, metrics).
		l.apply(nil, true)
	}
	return l, nil
}

// Reload re-reads the routes file and applies it at once if it changed since the last read. A
// file that does not parse leaves the current table in place; a missing file serves no routes
// from it, as in Skipper. Reload is what SIGHUP triggers: an explicit request, so it does not
// wait for the file to settle as the background watch does.
func (l *Loader) Reload() {
	l.reloadFile()
	l.refreshURLs()
}

// reloadFile is Reload for the routes file alone.
func (l *Loader) reloadFile() {
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
	// size and mod are the file's size and modification time, as seen after the read.
	size int64
	mod  time.Time
	// steady: nothing changed the file while it was read (same size and modification time
	// before and after, and as many bytes read as it holds). A missing file is steady.
	steady bool
}

func readFile(name string) fileState {
	f, err := os.Open(name)
	if err != nil {
		return fileState{err: err, steady: true}
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return fileState{err: err, steady: true}
	}
	src, err := io.ReadAll(f)
	if err != nil {
		return fileState{err: err, steady: true}
	}
	after, err := f.Stat()
	if err != nil {
		return fileState{err: err, steady: true}
	}
	return fileState{
		src:  src,
		size: after.Size(),
		mod:  after.ModTime(),
		steady: before.Size() == after.Size() && before.ModTime().Equal(after.ModTime()) &&
			int64(len(src)) == after.Size(),
	}
}

func (st fileState) missing() bool { return errors.Is(st.err, fs.ErrNotExist) }

// same reports whether two reads found the same content.
func (st fileState) same(o fileState) bool {
	return bytes.Equal(st.src, o.src) && (st.err == nil) == (o.err == nil) && st.missing() == o.missing()
}

// unchanged reports whether two reads found the same content, size and modification time.
func (st fileState) unchanged(o fileState) bool {
	return st.same(o) && st.size == o.size && st.mod.Equal(o.mod)
}

// noRoutes reports whether the file holds no route: it is missing, empty, or blank.
func (st fileState) noRoutes() bool {
	return st.missing() || (st.err == nil && len(bytes.TrimSpace(st.src)) == 0)
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
		l.apply(nil, false)
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
	l.apply(defs, false)
}

// apply compiles the inline routes followed by defs, the file's, and those of the routes URLs,
// and swaps the result in, unless they held routes and none of them compiled: a file whose
// every route is broken is a mistake, not an intent to serve nothing. fallback says that defs
// is nil because the file is broken at start. It reports whether the table was swapped in.
func (l *Loader) apply(defs []*routing.RouteDef, fallback bool) bool {
	all := make([]*routing.RouteDef, 0, len(l.inline)+len(defs))
	all = append(append(all, l.inline...), defs...)
	pendingURLs := 0
	for _, u := range l.urls {
		all = append(all, u.defs...)
		if !u.loaded {
			pendingURLs++
		}
	}
	all = l.opts.Changes.apply(all, l.log)
	opts := l.opts.Changes.compileOptions(l.opts.Filters, l.log)
	opts.ShuttingDown = l.opts.ShuttingDown
	opts.ForwardBackend = l.opts.ForwardBackend
	opts.Baggage = l.opts.Baggage
	table, errs := routing.Compile(all, opts)
	for _, err := range splitProblems(errs) {
		l.log.Errorf("Route left out: %v", err)
	}
	if len(all) > 0 && table.Len() == 0 {
		if l.applied {
			l.log.Errorf("No route compiled, keeping the current routes (%d invalid)", len(errs))
		} else {
			l.log.Errorf("No route compiled (%d invalid), serving no routes until one does", len(errs))
		}
		l.report(Result{Invalid: len(errs)})
		return false
	}
	l.opts.Router.Swap(table)
	l.applied, l.fileRoutes, l.fileDefs = true, len(defs), defs
	l.fileOK = l.fileOK || !fallback
	if !fallback && pendingURLs > 0 {
		l.log.Warnf("Serving %d routes (%d invalid) without %d routes URLs that did not load yet", table.Len(), len(errs), pendingURLs)
		l.report(Result{Table: table, Invalid: len(errs), Fallback: true})
		return true
	}
	if fallback {
		// Not a load: the file is broken, and saying "applied" would make it look fine.
		if len(l.inline) == 0 {
			l.log.Warnf("Serving no routes until routes file %s is fixed", l.opts.File)
		} else {
			l.log.Warnf("Serving the inline routes alone (%d valid, %d invalid) until routes file %s is fixed", table.Len(), len(errs), l.opts.File)
		}
		l.report(Result{Table: table, Invalid: len(errs), Fallback: true})
		return true
	}
	l.log.Infof("Routes applied: %d valid, %d invalid", table.Len(), len(errs))
	l.report(Result{Table: table, Invalid: len(errs)})
	return true
}

func (l *Loader) report(r Result) {
	if l.opts.Report != nil {
		l.opts.Report(r)
	}
}

// Check parses and compiles the inline routes and the files together, changed by changes (nil
// for none), as a Loader would serve them, without serving anything. It returns the table of the routes that compiled and every
// problem found: a syntax error per source that has one, then each problem of each route that
// would be left out, one error per problem.
func Check(inline string, files []string, changes *Changes, reg *filters.Registry, log logrus.FieldLogger) (valid *routing.Table, problems []error) {
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
	all = changes.apply(all, log)
	table, errs := routing.Compile(all, changes.compileOptions(reg, log))
	return table, append(problems, splitProblems(errs)...)
}

// splitProblems turns the errors of routing.Compile, one per route left out, into one error
// per problem, so that each is reported on its own line with the route's position.
func splitProblems(errs []error) []error {
	var out []error
	for _, err := range errs {
		var re *routing.RouteError
		if !errors.As(err, &re) {
			out = append(out, err)
			continue
		}
		for _, p := range re.Problems() {
			out = append(out, p)
		}
	}
	return out
}
