package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/skipper-egress/skipper/internal/syncbuf"
)

// canary is written into secret files by tests that check logs; it must never show up there.
const canary = "CANARY-5ecr3t-9f1c"

// waitTimeout bounds every wait for a change to become visible. It is generous so that a loaded
// CI machine does not flake; the latency goal itself is measured by BenchmarkRotationLatency.
const waitTimeout = 10 * time.Second

// logCapture collects everything a logger writes, and its entries. Safe for concurrent use.
type logCapture struct {
	syncbuf.Buffer
	hook *test.Hook
}

// messages returns the messages logged at level, in order.
func (c *logCapture) messages(level logrus.Level) []string {
	var out []string
	for _, e := range c.hook.AllEntries() {
		if e.Level == level {
			out = append(out, e.Message)
		}
	}
	return out
}

// warnings returns the warnings whose path field is path.
func (c *logCapture) warnings(path string) []*logrus.Entry {
	var out []*logrus.Entry
	for _, e := range c.hook.AllEntries() {
		if e.Level == logrus.WarnLevel && e.Data[fieldPath] == path {
			out = append(out, e)
		}
	}
	return out
}

// assertNoCanary fails if the canary appears in the formatted log or in any entry's fields.
func (c *logCapture) assertNoCanary(t *testing.T) {
	t.Helper()
	if strings.Contains(c.String(), canary) {
		t.Errorf("log output contains the secret value:\n%s", c.String())
	}
	for _, e := range c.hook.AllEntries() {
		if strings.Contains(fmt.Sprint(e.Message, e.Data), canary) {
			t.Errorf("log entry %q %v contains the secret value", e.Message, e.Data)
		}
	}
}

func newLogCapture(t *testing.T) (*logrus.Logger, *logCapture) {
	t.Helper()
	c := &logCapture{}
	l := logrus.New()
	l.SetOutput(c)
	l.SetLevel(logrus.DebugLevel)
	c.hook = test.NewLocal(l)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log output:\n%s", c.String())
		}
	})
	return l, c
}

// newStore builds a Store over paths that logs into the returned capture. Unless opts says
// otherwise, its ticker never fires, so anything a test sees after Run starts came from events.
func newStore(t *testing.T, opts Options) (*Store, *logCapture) {
	t.Helper()
	l, c := newLogCapture(t)
	opts.Log = l
	if opts.Tick == nil {
		opts.Tick = make(chan time.Time)
	}
	s, err := NewStore(opts)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s, c
}

// run runs s until the test ends and checks that Run returns nil.
func run(t *testing.T, s *Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	})
}

// poll calls cond until it returns "" or waitTimeout passes, then fails with its last answer.
func poll(t *testing.T, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", waitTimeout, msg)
		}
		<-tick.C
	}
}

// waitValue waits until Get(name) returns want.
func waitValue(t *testing.T, s *Store, name, want string) {
	t.Helper()
	poll(t, func() string {
		got, err := s.Get(name)
		if err != nil {
			return fmt.Sprintf("Get(%q): %v, want value %q", name, err, want)
		}
		if string(got) != want {
			return fmt.Sprintf("Get(%q) = %q, want %q", name, string(got), want)
		}
		return ""
	})
}

// waitGone waits until Get(name) fails with ErrNotFound.
func waitGone(t *testing.T, s *Store, name string) {
	t.Helper()
	poll(t, func() string {
		got, err := s.Get(name)
		if !errors.Is(err, ErrNotFound) {
			return fmt.Sprintf("Get(%q) = %q, %v; want ErrNotFound", name, string(got), err)
		}
		return ""
	})
}

// wantValue checks that Get(name) returns want now.
func wantValue(t *testing.T, s *Store, name, want string) {
	t.Helper()
	got, err := s.Get(name)
	if err != nil || string(got) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q, nil", name, string(got), err, want)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replaceFile writes content to a temporary file and renames it onto path, as rotation tools
// do. The temporary file lives outside the watched directory, so no scan can catch it as a
// secret of its own; replaceFileBeside covers the same-directory variant.
func replaceFile(t testing.TB, path, content string) {
	t.Helper()
	if err := renameInto(t.TempDir(), path, content); err != nil {
		t.Fatal(err)
	}
}

// replaceFileBeside is replaceFile with the temporary file next to path, as editors do.
func replaceFileBeside(t testing.TB, path, content string) {
	t.Helper()
	if err := renameInto(filepath.Dir(path), path, content); err != nil {
		t.Fatal(err)
	}
}

func renameInto(stage, path, content string) error {
	tmp := filepath.Join(stage, ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// k8sVolume imitates the kubelet's atomic writer for a mounted secret: each version lives in a
// timestamped directory, ..data points at the current one and is swapped by rename, and each
// visible name is a symlink through ..data.
type k8sVolume struct {
	dir     string
	version int
}

func (v *k8sVolume) write(t *testing.T, files map[string]string) {
	t.Helper()
	v.version++
	ts := fmt.Sprintf("..2026_11_26_10_00_00.%03d", v.version)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Mkdir(filepath.Join(v.dir, ts), 0o755))
	for name, content := range files {
		must(os.WriteFile(filepath.Join(v.dir, ts, name), []byte(content), 0o600))
	}
	old, _ := os.Readlink(filepath.Join(v.dir, "..data"))
	must(os.Symlink(ts, filepath.Join(v.dir, "..data_tmp")))
	must(os.Rename(filepath.Join(v.dir, "..data_tmp"), filepath.Join(v.dir, "..data")))
	for name := range files {
		link := filepath.Join(v.dir, name)
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			must(os.Symlink(filepath.Join("..data", name), link))
		}
	}
	if old != "" {
		must(os.RemoveAll(filepath.Join(v.dir, old)))
	}
}
