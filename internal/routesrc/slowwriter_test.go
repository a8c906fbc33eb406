package routesrc

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
)

// routeSet is a routes file's text and the ids of its routes, sorted.
type routeSet struct {
	text string
	ids  []string
}

// makeRouteSet returns a file of n routes named prefix1..prefixN, each its own line.
func makeRouteSet(prefix string, n int) routeSet {
	var rs routeSet
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("%s%d", prefix, i)
		rs.text += fmt.Sprintf("%s: Host(\"^%s$\") -> <shunt>;\n", id, id)
		rs.ids = append(rs.ids, id)
	}
	slices.Sort(rs.ids)
	return rs
}

// tableWatch records every table the router serves that is not one of the whole route sets.
type tableWatch struct {
	mu    sync.Mutex
	whole [][]string
	bad   []string
	loads int
	stop  chan struct{}
	done  chan struct{}
}

func watchTables(f *fixture, sets ...routeSet) *tableWatch {
	tw := &tableWatch{stop: make(chan struct{}), done: make(chan struct{})}
	for _, s := range sets {
		tw.whole = append(tw.whole, s.ids)
	}
	go func() {
		defer close(tw.done)
		for {
			select {
			case <-tw.stop:
				return
			default:
			}
			var ids []string
			for _, r := range f.router.Load().Routes() {
				ids = append(ids, r.ID)
			}
			slices.Sort(ids)
			tw.mu.Lock()
			tw.loads++
			if !slices.ContainsFunc(tw.whole, func(w []string) bool { return slices.Equal(w, ids) }) {
				tw.bad = append(tw.bad, strings.Join(ids, ","))
			}
			tw.mu.Unlock()
		}
	}()
	return tw
}

func (tw *tableWatch) finish(t *testing.T) {
	t.Helper()
	close(tw.stop)
	<-tw.done
	if tw.loads == 0 {
		t.Fatal("the table was never looked at; the test proved nothing")
	}
	if len(tw.bad) > 0 {
		t.Errorf("%d of %d looks at the table found routes missing, first [%s]", len(tw.bad), tw.loads, tw.bad[0])
	}
}

// TestSlowWriterNeverServesPartialTable rewrites the routes file as `generate > routes.eskip`
// does when generate is slow: the file is truncated, and its routes come 150 ms later, in two
// writes 150 ms apart, the first of which parses on its own. While it happens, the table is
// looked at continuously: it must always hold one whole route set, never none and never a part.
// It runs with the watcher that reports closes (Linux) and with the one that does not.
func TestSlowWriterNeverServesPartialTable(t *testing.T) {
	for _, portable := range []bool{false, true} {
		t.Run(map[bool]string{false: "New", true: "portable"}[portable], func(t *testing.T) {
			a, b := makeRouteSet("a", 4), makeRouteSet("b", 4)
			f := newFixture(t, a.text)
			l, err := New(f.options(""))
			if err != nil {
				t.Fatal(err)
			}
			if portable {
				usePortableWatcher(l)
			}
			runLoader(t, l)
			tw := watchTables(f, a, b)

			for round, next := range []routeSet{b, a, b, a} {
				file, err := os.OpenFile(f.file, os.O_WRONLY|os.O_TRUNC, 0)
				if err != nil {
					t.Fatal(err)
				}
				// The writer's pauses are its own behaviour, not a wait for something.
				<-time.After(150 * time.Millisecond)
				half := strings.Index(next.text, "\n") + 1 // the first route, whole
				if _, err := file.WriteString(next.text[:half]); err != nil {
					t.Fatal(err)
				}
				<-time.After(150 * time.Millisecond)
				if _, err := file.WriteString(next.text[half:]); err != nil {
					t.Fatal(err)
				}
				if err := file.Close(); err != nil {
					t.Fatal(err)
				}
				poll.Until(t, 10*time.Second, fmt.Sprintf("round %d: the new routes served", round), func() bool {
					return f.routeFor(next.ids[0]) == next.ids[0] && f.routeFor(next.ids[len(next.ids)-1]) == next.ids[len(next.ids)-1]
				})
			}
			tw.finish(t)
			if strings.Contains(f.log.String(), "Routes applied: 1 valid") || strings.Contains(f.log.String(), "Routes applied: 0 valid") {
				t.Errorf("a part of the file was applied:\n%s", f.log)
			}
		})
	}
}

// TestFileTruncatedForGoodIsApplied: a file that held routes and stays empty is applied after
// all, once it has stayed empty long enough, and the log says what happened.
func TestFileTruncatedForGoodIsApplied(t *testing.T) {
	for _, how := range []string{"truncated", "removed"} {
		t.Run(how, func(t *testing.T) {
			a := makeRouteSet("a", 2)
			f := newFixture(t, a.text)
			l, err := New(f.options(""))
			if err != nil {
				t.Fatal(err)
			}
			runLoader(t, l)
			if how == "truncated" {
				err = os.WriteFile(f.file, nil, 0o644) // : > routes.eskip
			} else {
				err = os.Remove(f.file)
			}
			if err != nil {
				t.Fatal(err)
			}
			poll.Until(t, 10*time.Second, "the routes gone", func() bool { return f.routeFor("a1") == "" })
			log := f.log.String()
			holding := strings.Index(log, "Routes file "+f.file+" has no routes now; keeping the current ones unless it stays so for 1s")
			applying := strings.Index(log, "Routes file "+f.file+" has had no routes for 1s, applying that")
			if holding < 0 || applying < holding {
				t.Errorf("the log does not say that the routes were kept, then given up:\n%s", log)
			}
		})
	}
}

// runLoader runs l until the test ends. Its ticker never fires: whatever the test sees comes
// from file events.
func runLoader(t *testing.T, l *Loader) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}
