package routesrc

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/syncbuf"
	"github.com/skipper-egress/skipper/routing"
)

type fixture struct {
	file   string
	router *routing.Router
	log    *syncbuf.Buffer
	tick   chan time.Time
}

func newFixture(t *testing.T, initial string) *fixture {
	t.Helper()
	f := &fixture{
		file:   filepath.Join(t.TempDir(), "routes.eskip"),
		router: routing.NewRouter(),
		log:    &syncbuf.Buffer{},
		tick:   make(chan time.Time),
	}
	if initial != "" {
		f.write(t, initial)
	}
	return f
}

func (f *fixture) options(inline string) Options {
	log := logrus.New()
	log.SetOutput(f.log)
	log.SetFormatter(&logrus.TextFormatter{DisableQuote: true}) // lets tests match messages as written
	reg, _ := filters.NewRegistry(filters.NewSetRequestHeader())
	return Options{Inline: inline, File: f.file, Filters: reg, Router: f.router, Log: log, Tick: f.tick}
}

func (f *fixture) write(t *testing.T, src string) {
	t.Helper()
	// Write then rename, as editors do, so a reader never sees half a file.
	tmp := f.file + ".tmp"
	if err := os.WriteFile(tmp, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, f.file); err != nil {
		t.Fatal(err)
	}
}

// routeFor returns the id of the route a request for host matches, or "" for none.
func (f *fixture) routeFor(host string) string {
	r := httptest.NewRequest("GET", "http://"+host+"/", nil)
	if rt := f.router.Match(r); rt != nil {
		return rt.ID
	}
	return ""
}

func TestStartup(t *testing.T) {
	tests := []struct {
		name      string
		inline    string
		file      string // "" means no file at all
		wantErr   string
		wantRoute map[string]string // host → route id ("" for no match)
		wantLog   string
	}{
		{name: "inline only", inline: `a: Host("^a$") -> <shunt>`,
			wantRoute: map[string]string{"a": "a", "b": ""}, wantLog: "Routes applied: 1 valid, 0 invalid"},
		{name: "inline and file", inline: `a: Host("^a$") -> <shunt>`, file: `b: Host("^b$") -> <shunt>;`,
			wantRoute: map[string]string{"a": "a", "b": "b"}, wantLog: "Routes applied: 2 valid, 0 invalid"},
		{name: "file wins a shared id", inline: `x: Host("^a$") -> <shunt>`, file: `x: Host("^b$") -> <shunt>;`,
			wantRoute: map[string]string{"a": "", "b": "x"}},
		{name: "inline syntax error is fatal", inline: `a: Host("a") -> -> <shunt>`,
			wantErr: "-inline-routes:1:17: "},
		{name: "broken file serves the inline routes", inline: `a: Host("^a$") -> <shunt>`, file: "b: Host(\"^b$\")\n  -> <shunt>\n  junk;",
			wantRoute: map[string]string{"a": "a", "b": ""}, wantLog: "Routes file not applied, keeping the current routes: "},
		{name: "bad route left out, others serve", file: `a: Host("^a$") -> noSuchFilter() -> <shunt>; b: Host("^b$") -> <shunt>;`,
			wantRoute: map[string]string{"a": "", "b": "b"}, wantLog: "Routes applied: 1 valid, 1 invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.file)
			opts := f.options(tc.inline)
			if tc.file == "" {
				opts.File = ""
			}
			_, err := New(opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for host, want := range tc.wantRoute {
				if got := f.routeFor(host); got != want {
					t.Errorf("host %s: got route %q, want %q", host, got, want)
				}
			}
			if !strings.Contains(f.log.String(), tc.wantLog) {
				t.Errorf("log does not contain %q:\n%s", tc.wantLog, f.log)
			}
		})
	}
}

func TestBrokenFileNamesThePosition(t *testing.T) {
	f := newFixture(t, "a: Host(\"^a$\") -> <shunt>;\nb: Host(\"^b$\")\n   <shunt>;\n")
	if _, err := New(f.options("")); err != nil {
		t.Fatal(err)
	}
	want := f.file + `:3:4: route "b": expected "->" or "&&", found "<shunt>"`
	if !strings.Contains(f.log.String(), want) {
		t.Errorf("log does not contain %q:\n%s", want, f.log)
	}
}

func TestReloadOnFileEvents(t *testing.T) {
	f := newFixture(t, `a: Host("^a$") -> <shunt>;`)
	l, err := New(f.options(""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	// The ticker never fires in this test: every change below is seen through file events.
	f.write(t, `b: Host("^b$") -> <shunt>;`)
	poll.Until(t, time.Second, "new route b", func() bool { return f.routeFor("b") == "b" })
	if got := f.routeFor("a"); got != "" {
		t.Errorf("removed route a still matches")
	}

	before := f.router.Load()
	f.write(t, `b: Host("^b$") -> ; c: Host("^c$") -> <shunt>;`)
	poll.Until(t, time.Second, "syntax error logged", func() bool {
		return strings.Contains(f.log.String(), f.file+`:1:19: route "b": expected filter or backend, found ";"`)
	})
	if f.router.Load() != before {
		t.Errorf("a broken file replaced the table")
	}

	if err := os.Remove(f.file); err != nil {
		t.Fatal(err)
	}
	// A file that served routes must stay gone a moment before its routes go (emptyHold).
	poll.Until(t, 5*time.Second, "routes gone with the file", func() bool { return f.routeFor("b") == "" })
	if !strings.Contains(f.log.String(), "does not exist, serving no routes from it") {
		t.Errorf("missing file not logged:\n%s", f.log)
	}

	f.write(t, `c: Host("^c$") -> <shunt>;`)
	poll.Until(t, time.Second, "route c after the file came back", func() bool { return f.routeFor("c") == "c" })
}

func TestReloadOnPollAlone(t *testing.T) {
	f := newFixture(t, `a: Host("^a$") -> <shunt>;`)
	l, err := New(f.options(""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// No Run and so no file events: only an explicit poll may pick the change up.
	f.write(t, `b: Host("^b$") -> <shunt>;`)
	if got := f.routeFor("b"); got != "" {
		t.Fatalf("route b served before any reload")
	}
	go l.loop(ctx, nil, f.tick)
	deadline := time.After(5 * time.Second)
	for polls := 0; f.routeFor("b") != "b"; polls++ {
		select {
		case f.tick <- time.Now():
		case <-deadline:
			t.Fatalf("route b not served after %d polls", polls)
		}
	}
}

func TestReloadSkipsUnchangedFile(t *testing.T) {
	f := newFixture(t, `a: Host("^a$") -> <shunt>;`)
	l, err := New(f.options(""))
	if err != nil {
		t.Fatal(err)
	}
	before := f.router.Load()
	l.Reload()
	l.Reload()
	if f.router.Load() != before {
		t.Errorf("reloading an unchanged file built a new table")
	}
	if n := strings.Count(f.log.String(), "Routes applied"); n != 1 {
		t.Errorf("got %d 'Routes applied' lines, want 1:\n%s", n, f.log)
	}
}

func TestAllRoutesBrokenKeepsTable(t *testing.T) {
	f := newFixture(t, `a: Host("^a$") -> <shunt>;`)
	l, err := New(f.options(""))
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, `a: Host("^a$") -> noSuchFilter() -> <shunt>;`)
	l.Reload()
	if got := f.routeFor("a"); got != "a" {
		t.Errorf("got route %q, want the old route a kept", got)
	}
	if !strings.Contains(f.log.String(), "No route compiled, keeping the current routes (1 invalid)") {
		t.Errorf("log does not explain:\n%s", f.log)
	}
}

func TestReportsEveryAttempt(t *testing.T) {
	f := newFixture(t, `a: Host("^a$") -> <shunt>; b: Host("^b$") -> noSuchFilter() -> <shunt>;`)
	var got []Result
	opts := f.options("")
	opts.Report = func(r Result) { got = append(got, r) }
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, `a: Host("^a$") ->`)
	l.Reload()
	f.write(t, `c: Host("^c$") -> noSuchFilter() -> <shunt>;`)
	l.Reload()

	if len(got) != 3 {
		t.Fatalf("got %d reports, want 3: %+v", len(got), got)
	}
	if got[0].Table == nil || got[0].Table.Len() != 1 || got[0].Invalid != 1 {
		t.Errorf("first load: got table %v with %d invalid, want 1 route applied and 1 invalid", got[0].Table, got[0].Invalid)
	}
	if got[1].Table != nil {
		t.Errorf("syntax error: got a table reported as applied")
	}
	if got[2].Table != nil || got[2].Invalid != 1 {
		t.Errorf("all routes invalid: got %+v, want no table and 1 invalid", got[2])
	}
}

// TestBrokenFileAtStartIsAFallback: the inline routes served because the file is broken at start
// are reported as a fallback, not a success, until the file parses.
func TestBrokenFileAtStartIsAFallback(t *testing.T) {
	f := newFixture(t, `b: Host("^b$") -> ;`)
	var got []Result
	opts := f.options(`a: Host("^a$") -> <shunt>`)
	opts.Report = func(r Result) { got = append(got, r) }
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if f.routeFor("a") != "a" {
		t.Errorf("the inline route does not serve while the file is broken")
	}
	if n := len(got); n == 0 || got[n-1].Table == nil || !got[n-1].Fallback {
		t.Fatalf("at start: got reports %+v, want the last to be a fallback table", got)
	}
	if log := f.log.String(); strings.Contains(log, "Routes applied") ||
		!strings.Contains(log, "Serving the inline routes alone (1 valid, 0 invalid) until routes file "+f.file+" is fixed") {
		t.Errorf("at start, the log should say the inline routes serve alone, not that routes were applied:\n%s", log)
	}
	f.write(t, `b: Host("^b$") -> <shunt>;`)
	l.Reload()
	if last := got[len(got)-1]; last.Table == nil || last.Fallback || last.Table.Len() != 2 {
		t.Errorf("once the file parses: got %+v, want both routes applied, not as a fallback", last)
	}
}
