package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func TestNewStoreInitialLoad(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "creds")
	other := filepath.Join(root, "other")
	for _, d := range []string{dir, other, filepath.Join(dir, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "github"), "gh-token\n")
	writeFile(t, filepath.Join(dir, ".hidden"), "dot-token\n")
	writeFile(t, filepath.Join(dir, "sub", "nested"), "nested-token\n")
	writeFile(t, filepath.Join(other, "target"), "linked-token\n")
	writeFile(t, filepath.Join(root, "single"), "single-token")
	for link, target := range map[string]string{
		"linked":   filepath.Join(other, "target"),
		"dirlink":  other,
		"dangling": filepath.Join(root, "nowhere"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	single := filepath.Join(root, "single")

	s, logs := newStore(t, Options{Paths: []string{dir, single}})

	want := map[string]string{
		filepath.Join(dir, ".hidden"): "dot-token",
		filepath.Join(dir, "github"):  "gh-token",
		filepath.Join(dir, "linked"):  "linked-token",
		single:                        "single-token",
	}
	var gotPaths []string
	for _, l := range s.Loaded() {
		gotPaths = append(gotPaths, l.Path)
		if l.LoadedAt.IsZero() {
			t.Errorf("Loaded: %s has a zero LoadedAt", l.Path)
		}
	}
	wantPaths := sortedKeys(want)
	if !slices.Equal(gotPaths, wantPaths) {
		t.Errorf("Loaded paths = %q, want %q", gotPaths, wantPaths)
	}
	for name, v := range want {
		wantValue(t, s, name, v)
	}
	for _, name := range []string{
		filepath.Join(dir, "sub"),
		filepath.Join(dir, "sub", "nested"),
		filepath.Join(dir, "dirlink"),
		filepath.Join(dir, "dangling"),
		"github", // a bare file name is not a key
	} {
		if _, err := s.Get(name); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", name, err)
		}
	}
	if got := logs.messages(logrus.InfoLevel); len(got) != len(want) {
		t.Errorf("info logs = %q, want one Added line per secret", got)
	}
}

func TestKeysKeepThePathAsGiven(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a"), "v")
	t.Chdir(dir)

	s, _ := newStore(t, Options{Paths: []string{".", "./a"}})

	for _, name := range []string{"a", "./a"} {
		wantValue(t, s, name, "v")
	}
	if _, err := s.Get(filepath.Join(dir, "a")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(absolute path) error = %v, want ErrNotFound: keys are not made absolute", err)
	}
}

func TestTrimsOneTrailingNewline(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"no newline", "tok", "tok"},
		{"newline", "tok\n", "tok"},
		{"two newlines", "tok\n\n", "tok\n"},
		{"crlf", "tok\r\n", "tok"},
		{"newline after crlf", "tok\r\n\n", "tok\r\n"},
		{"lone cr", "tok\r", "tok\r"},
		{"inner spaces kept", " to k \n", " to k "},
		{"multi-line", "line1\nline2\n", "line1\nline2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s")
			writeFile(t, path, tc.content)
			s, _ := newStore(t, Options{Paths: []string{path}})
			got, err := s.Get(path)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", string(got), tc.want)
			}
		})
	}
}

func TestGetNotFound(t *testing.T) {
	dir := t.TempDir()
	s, _ := newStore(t, Options{Paths: []string{dir}})
	name := filepath.Join(dir, "absent")

	got, err := s.Get(name)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get error = %v, want one wrapping ErrNotFound", err)
	}
	if got != nil {
		t.Errorf("Get value = %q, want nil", string(got))
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("error %q does not name the path %q", err, name)
	}
}

func TestNewStoreRejectsUnusableOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"empty path", Options{Paths: []string{"/tmp", ""}}},
		{"negative interval", Options{UpdateInterval: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := NewStore(tc.opts); err == nil {
				t.Errorf("NewStore = %v, nil; want an error", s)
			}
		})
	}
}

func TestNewStoreDefaults(t *testing.T) {
	s, err := NewStore(Options{}) // nil logger, no paths
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	if s.interval != DefaultUpdateInterval {
		t.Errorf("interval = %s, want %s", s.interval, DefaultUpdateInterval)
	}
	if got := s.Loaded(); len(got) != 0 {
		t.Errorf("Loaded = %v, want none", got)
	}
}

func TestCovers(t *testing.T) {
	s, _ := newStore(t, Options{Paths: []string{"/run/creds", "/etc/token", "rel/dir/"}})
	tests := []struct {
		name string
		want bool
	}{
		{"/run/creds", true},
		{"/run/creds/github", true},
		{"/run/creds/.hidden", true},
		{"/run/creds/sub/x", false}, // subdirectories are never scanned
		{"/run/creds/../creds/x", false},
		{"/run/credsx", false},
		{"/run", false},
		{"/etc/token", true},
		{"/etc/other", false},
		{"rel/dir/x", true},
		{"rel/dir/", true},
		{"github", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Covers(tc.name); got != tc.want {
				t.Errorf("Covers(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestRefreshWithoutChangeLogsNothing(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a")
	writeFile(t, name, "v1")
	s, logs := newStore(t, Options{Paths: []string{dir}})
	before := s.Loaded()

	s.Refresh()
	s.Refresh()

	if got := logs.messages(logrus.InfoLevel); !slices.Equal(got, []string{"Added secret file: " + name}) {
		t.Errorf("info logs = %q, want only the Added line", got)
	}
	if after := s.Loaded(); !slices.Equal(after, before) {
		t.Errorf("Loaded changed without a change on disk: %v, want %v", after, before)
	}

	writeFile(t, name, "v2")
	s.Refresh()
	after := s.Loaded()
	if len(after) != 1 || !after[0].LoadedAt.After(before[0].LoadedAt) {
		t.Errorf("LoadedAt after an update = %v, want later than %v", after, before)
	}
}

// TestUnusableFileKeepsLastValue replaces a loaded secret with things that cannot be read; each
// keeps the last good value and is warned about once, however often the store rescans.
func TestUnusableFileKeepsLastValue(t *testing.T) {
	tests := []struct {
		name  string
		named bool // the secret is a credentials path itself, not a file inside one
		spoil func(t *testing.T, path string)
	}{
		{"directory in place of named file", true, replaceWithDir},
		{"directory in place of file in dir", false, replaceWithDir},
		{"named pipe in place of file", false, replaceWithFIFO},
		{"empty rewrite", false, func(t *testing.T, p string) { writeFile(t, p, "") }},
		{"whitespace-only rewrite", false, func(t *testing.T, p string) { writeFile(t, p, " \n\t\r\n") }},
		{"newline-only rewrite", true, func(t *testing.T, p string) { writeFile(t, p, "\n") }},
		{"unreadable", false, func(t *testing.T, p string) {
			if os.Geteuid() == 0 {
				t.Skip("permissions do not stop root")
			}
			if err := os.Chmod(p, 0); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "token")
			writeFile(t, path, canary+"-1\n")
			watched := dir
			if tc.named {
				watched = path
			}
			s, logs := newStore(t, Options{Paths: []string{watched}})
			wantValue(t, s, path, canary+"-1")

			tc.spoil(t, path)
			for range 3 {
				s.Refresh()
			}

			wantValue(t, s, path, canary+"-1")
			if got := logs.warnings(path); len(got) != 1 {
				t.Fatalf("got %d warnings for %s, want 1: %v", len(got), path, logs.messages(logrus.WarnLevel))
			}
			if w := logs.warnings(path)[0]; w.Data[fieldReason] == "" {
				t.Errorf("warning %q has no reason", w.Message)
			}

			// Once the file is good again the value updates, and a new problem is reported anew.
			os.RemoveAll(path)
			writeFile(t, path, canary+"-2\n")
			s.Refresh()
			wantValue(t, s, path, canary+"-2")
			writeFile(t, path, "")
			s.Refresh()
			wantValue(t, s, path, canary+"-2")
			if got := len(logs.warnings(path)); got != 2 {
				t.Errorf("got %d warnings after a second problem, want 2", got)
			}
			logs.assertNoCanary(t)
		})
	}
}

func replaceWithDir(t *testing.T, path string) {
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func replaceWithFIFO(t *testing.T, path string) {
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

func TestUnusableWithoutLastValueIsAbsent(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	blank := filepath.Join(dir, "blank")
	writeFile(t, empty, "")
	writeFile(t, blank, "  \n")
	s, logs := newStore(t, Options{Paths: []string{dir}})
	s.Refresh()

	for _, name := range []string{empty, blank} {
		if _, err := s.Get(name); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", name, err)
		}
		if got := len(logs.warnings(name)); got != 1 {
			t.Errorf("got %d warnings for %s, want 1", got, name)
		}
	}
}

func TestMissingPathWarnsOnce(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "not-yet")
	s, logs := newStore(t, Options{Paths: []string{missing}})
	s.Refresh()
	s.Refresh()
	if got := len(logs.warnings(missing)); got != 1 {
		t.Errorf("got %d warnings for the missing path, want 1", got)
	}
}

func TestGetDoesNotAllocate(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a")
	writeFile(t, name, "v")
	s, _ := newStore(t, Options{Paths: []string{dir}})
	if n := testing.AllocsPerRun(100, func() { _, _ = s.Get(name) }); n != 0 {
		t.Errorf("Get allocates %v times per call, want 0", n)
	}
}

// TestConcurrentRefreshAndGet is for the race detector: rescans publish while readers read.
func TestConcurrentRefreshAndGet(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a")
	writeFile(t, name, "v0")
	s, _ := newStore(t, Options{Paths: []string{dir}})

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 50 {
				if i == 0 {
					if err := os.WriteFile(name, []byte("v"+strings.Repeat("x", j%3+1)), 0o600); err != nil {
						t.Error(err)
					}
				}
				s.Refresh()
			}
		})
		wg.Go(func() {
			for range 500 {
				if v, err := s.Get(name); err == nil && len(v) == 0 {
					t.Error("Get returned an empty value")
				}
				_ = s.Loaded()
			}
		})
	}
	wg.Wait()
}
