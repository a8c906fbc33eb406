package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/syncbuf"
)

// run starts l.Run until the test ends.
func run(t *testing.T, l *audit.Log) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }() //nolint:errcheck // always nil
	t.Cleanup(func() { cancel(); <-done })
}

func testLogger() (*logrus.Logger, *syncbuf.Buffer) {
	var buf syncbuf.Buffer
	l := logrus.New()
	l.SetOutput(&buf)
	return l, &buf
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func TestRecordWritesJSONLines(t *testing.T) {
	var out syncbuf.Buffer
	l := audit.New(&out, nil)
	run(t, l)
	l.Record(&audit.Entry{Event: audit.EventCredential, Route: "gh", Secret: "/s/tok", Status: 200, Method: "GET", Path: "/x"})
	l.Record(&audit.Entry{Event: audit.EventForward, Decision: audit.DecisionDenied, Host: "evil.test", Port: 443})
	poll.Until(t, 5*time.Second, "two lines", func() bool { return strings.Count(out.String(), "\n") == 2 })
	var got []audit.Entry
	for _, line := range lines(out.String()) {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, e)
	}
	if got[0].Route != "gh" || got[0].Secret != "/s/tok" || got[1].Decision != "denied" || got[1].Port != 443 {
		t.Errorf("got %+v", got)
	}
}

// TestFingerprint checks that a fingerprint is 12 hex digits, equal for equal values under one
// log, different for another value, another log's key, and that it shows nothing of the value.
func TestFingerprint(t *testing.T) {
	a, b := audit.New(nil, nil), audit.New(nil, nil)
	const secret = "s3cret-value-0123456789abcdef"
	f1 := a.Fingerprint([]byte(secret), "")
	if len(f1) != 12 || strings.Trim(f1, "0123456789abcdef") != "" {
		t.Fatalf("fingerprint %q is not 12 hex digits", f1)
	}
	if f := a.Fingerprint([]byte(secret), ""); f != f1 {
		t.Errorf("same value: %s then %s", f1, f)
	}
	for name, f := range map[string]string{
		"rotated":     a.Fingerprint([]byte(secret+"2"), ""),
		"other form":  a.Fingerprint([]byte(secret), "x"),
		"another key": b.Fingerprint([]byte(secret), ""),
	} {
		if f == f1 {
			t.Errorf("%s: fingerprint unchanged %s", name, f)
		}
	}
	if a.Fingerprint(nil, "") != "" {
		t.Error("nothing injected: want no fingerprint")
	}
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	release chan struct{}
	buf     syncbuf.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return w.buf.Write(p)
}

// TestSlowWriterDropsAndCounts checks that Record never blocks on a writer that does not
// return, that what it could not queue is counted and logged, and that every line is either
// written or counted once the writer is back.
func TestSlowWriterDropsAndCounts(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	log, logged := testLogger()
	l := audit.New(w, log)
	run(t, l)
	const n = 6000 // more than the queue and the write buffer hold
	for range n {
		l.Record(&audit.Entry{Event: audit.EventCredential, Route: "r", Method: "GET", Path: "/"})
	}
	if l.Dropped() == 0 {
		t.Fatal("no line dropped while the writer is stuck")
	}
	if !strings.Contains(logged.String(), "audit log lines dropped") {
		t.Errorf("drops not logged: %s", logged)
	}
	close(w.release)
	poll.Until(t, 10*time.Second, "every line written or dropped", func() bool {
		return uint64(strings.Count(w.buf.String(), "\n"))+l.Dropped() == n
	})
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func TestWriteErrorCountsDrops(t *testing.T) {
	log, logged := testLogger()
	l := audit.New(failingWriter{}, log)
	run(t, l)
	for range 3 {
		l.Record(&audit.Entry{Event: audit.EventCredential})
	}
	poll.Until(t, 5*time.Second, "three drops", func() bool { return l.Dropped() == 3 })
	if !strings.Contains(logged.String(), "no space left on device") {
		t.Errorf("write error not logged: %s", logged)
	}
}

// TestReopen checks that after the file is moved away (log rotation), Reopen makes the log
// write to a new file at the path, and nothing is lost.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l, err := audit.Open(path, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, l)
	l.Record(&audit.Entry{Event: audit.EventCredential, Route: "before"})
	poll.Until(t, 5*time.Second, "first line", func() bool { return strings.Contains(readFile(path), `"before"`) })
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Reopen()
	l.Record(&audit.Entry{Event: audit.EventCredential, Route: "after"})
	poll.Until(t, 5*time.Second, "line in the new file", func() bool { return strings.Contains(readFile(path), `"after"`) })
	if old := readFile(path + ".1"); strings.Contains(old, `"after"`) {
		t.Errorf("rotated file got the new line: %s", old)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, dest := range []string{"", filepath.Join(t.TempDir(), "no", "such", "dir", "a.log")} {
		if _, err := audit.Open(dest, nil, nil, nil); err == nil || !strings.Contains(err.Error(), "-audit-log") {
			t.Errorf("Open(%q): got %v, want an error naming -audit-log", dest, err)
		}
	}
}

func TestNilLog(t *testing.T) {
	var l *audit.Log
	l.Record(&audit.Entry{})
	l.Reopen()
	if l.Dropped() != 0 || l.Fingerprint([]byte("x"), "") != "" || l.Run(context.Background()) != nil {
		t.Error("nil log did something")
	}
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
