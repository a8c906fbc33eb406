package secrets

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// The tests in this file run a Store whose ticker never fires (see newStore), so every change
// they wait for must have been seen through file events.

func TestEventsSeeRotation(t *testing.T) {
	tests := []struct {
		name   string
		named  bool // configure the file path itself rather than its directory
		rotate func(t *testing.T, path, content string)
	}{
		{"rewrite in place", false, writeFile},
		{"rewrite in place, file path", true, writeFile},
		{"write temp and rename", false, func(t *testing.T, p, c string) { replaceFile(t, p, c) }},
		{"write temp and rename, file path", true, func(t *testing.T, p, c string) { replaceFile(t, p, c) }},
		{"write temp beside and rename", false, func(t *testing.T, p, c string) { replaceFileBeside(t, p, c) }},
		{"write temp beside and rename, file path", true, func(t *testing.T, p, c string) { replaceFileBeside(t, p, c) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "token")
			writeFile(t, path, "v0\n")
			watched := dir
			if tc.named {
				watched = path
			}
			s, logs := newStore(t, Options{Paths: []string{watched}})
			run(t, s)

			for i, v := range []string{"v1", "v2", "v3"} {
				tc.rotate(t, path, v+"\n")
				waitValue(t, s, path, v)
				if got := count(logs.messages(logrus.InfoLevel), "Updated secret file: "+path); got != i+1 {
					t.Fatalf("got %d Updated lines after %d rotations, want one per rotation", got, i+1)
				}
			}
			// A temporary file beside the secret may be seen as one while it exists, but it
			// must not outlive the rename.
			waitGone(t, s, filepath.Join(dir, ".tmp-token"))
		})
	}
}

func count(lines []string, want string) int {
	n := 0
	for _, l := range lines {
		if l == want {
			n++
		}
	}
	return n
}

func TestEventsSeeKubernetesSymlinkSwap(t *testing.T) {
	for _, named := range []bool{false, true} {
		t.Run(map[bool]string{false: "directory path", true: "file path"}[named], func(t *testing.T) {
			vol := &k8sVolume{dir: t.TempDir()}
			vol.write(t, map[string]string{"token": "v1\n", "other": "o1\n"})
			token := filepath.Join(vol.dir, "token")
			paths := []string{vol.dir}
			if named {
				paths = []string{token}
			}
			s, _ := newStore(t, Options{Paths: paths})
			wantValue(t, s, token, "v1")
			if !named {
				var got []string
				for _, l := range s.Loaded() {
					got = append(got, filepath.Base(l.Path))
				}
				if want := []string{"other", "token"}; !slices.Equal(got, want) {
					t.Errorf("loaded %q, want %q: ..data and version directories are not secrets", got, want)
				}
			}
			run(t, s)

			for _, v := range []string{"v2", "v3"} {
				vol.write(t, map[string]string{"token": v + "\n", "other": "o1\n"})
				waitValue(t, s, token, v)
			}
		})
	}
}

func TestEventsSeeFilesComeAndGo(t *testing.T) {
	dir := t.TempDir()
	s, logs := newStore(t, Options{Paths: []string{dir}})
	run(t, s)
	name := filepath.Join(dir, "new")

	replaceFile(t, name, "first\n")
	waitValue(t, s, name, "first")

	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	waitGone(t, s, name)

	writeFile(t, name, "second\n")
	waitValue(t, s, name, "second")

	want := []string{
		"Added secret file: " + name,
		"Removed secret file: " + name,
		"Added secret file: " + name,
	}
	if got := logs.messages(logrus.InfoLevel); !slices.Equal(got, want) {
		t.Errorf("info logs = %q, want %q", got, want)
	}
}

func TestEventsSeePathMissingAtStart(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "later")
		s, logs := newStore(t, Options{Paths: []string{path}})
		if got := len(logs.warnings(path)); got != 1 {
			t.Errorf("got %d warnings for the missing path, want 1", got)
		}
		run(t, s)
		replaceFile(t, path, "here\n")
		waitValue(t, s, path, "here")
	})
	t.Run("directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "later")
		s, logs := newStore(t, Options{Paths: []string{dir}})
		if got := len(logs.warnings(dir)); got != 1 {
			t.Errorf("got %d warnings for the missing path, want 1", got)
		}
		run(t, s)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, "token")
		// The directory may be scanned before the file exists; the file must still be seen,
		// which needs the directory itself to be watched from then on.
		writeFile(t, name, "here\n")
		waitValue(t, s, name, "here")
		writeFile(t, name, "again\n")
		waitValue(t, s, name, "again")
	})
}

// TestEventsFollowReplacedDirectory swaps the whole credentials directory for a new one, which
// leaves an inotify watch on the old directory; the store must move its watch.
func TestEventsFollowReplacedDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "creds")
	name := filepath.Join(dir, "token")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, name, "v1")
	s, _ := newStore(t, Options{Paths: []string{dir}})
	run(t, s)

	next := filepath.Join(root, "creds.next")
	if err := os.Mkdir(next, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(next, "token"), "v2")
	if err := os.Rename(dir, filepath.Join(root, "creds.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, dir); err != nil {
		t.Fatal(err)
	}
	waitValue(t, s, name, "v2")

	writeFile(t, name, "v3")
	waitValue(t, s, name, "v3")
}

// TestTickerAlone turns events off and drives the rescan with an injected tick.
func TestTickerAlone(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "token")
	writeFile(t, name, "v1")
	tick := make(chan time.Time)
	s, _ := newStore(t, Options{Paths: []string{dir}, Tick: tick, NoWatch: true})
	run(t, s)
	// A send returns once the loop has taken the tick, so Run's start-up scan is over and
	// whatever picks up the change below is a tick's rescan (there are no events).
	tick <- time.Now()

	writeFile(t, name, "v2")
	tick <- time.Now()
	waitValue(t, s, name, "v2")

	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	tick <- time.Now()
	waitGone(t, s, name)
}

func TestRunTwiceAtOnceFails(t *testing.T) {
	s, _ := newStore(t, Options{Paths: []string{t.TempDir()}, NoWatch: true})
	run(t, s)
	poll(t, func() string {
		if !s.running.Load() {
			return "first Run has not started"
		}
		return ""
	})
	if err := s.Run(context.Background()); err == nil {
		t.Error("second concurrent Run returned nil, want an error")
	}
}

// TestLogsNeverCarryValues runs a store through every kind of change with canary values and
// checks the log lines name paths and never contents.
func TestLogsNeverCarryValues(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	writeFile(t, a, canary+"-a1\n")
	s, logs := newStore(t, Options{Paths: []string{dir}})
	run(t, s)

	replaceFile(t, a, canary+"-a2\n")
	waitValue(t, s, a, canary+"-a2")
	writeFile(t, b, canary+"-b1\n")
	waitValue(t, s, b, canary+"-b1")
	replaceFile(t, a, "\n") // atomically, so no scan sees an empty file in between
	s.Refresh()
	wantValue(t, s, a, canary+"-a2")
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	waitGone(t, s, b)

	want := []string{
		"Added secret file: " + a,
		"Updated secret file: " + a,
		"Added secret file: " + b,
		"Removed secret file: " + b,
	}
	if got := logs.messages(logrus.InfoLevel); !slices.Equal(got, want) {
		t.Errorf("info logs = %q, want %q", got, want)
	}
	if got := len(logs.warnings(a)); got != 1 {
		t.Errorf("got %d warnings for %s, want 1", got, a)
	}
	logs.assertNoCanary(t)
}

// TestRunLeavesNoGoroutine checks that cancelling Run stops the watcher, the ticker and the
// debounce timer.
func TestRunLeavesNoGoroutine(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "token")
	writeFile(t, name, "v1")
	s, err := NewStore(Options{Paths: []string{dir}, UpdateInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	writeFile(t, name, "v2")
	waitValue(t, s, name, "v2")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}

	poll(t, func() string {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, "fsnotify") || strings.Contains(g, "fswatch") || strings.Contains(g, "secrets.(*Store)") {
				return "goroutine still running after Run returned:\n" + g
			}
		}
		return ""
	})
}
