// Package audit writes the audit log (-audit-log): one JSON line per credential use and per
// forward-proxy decision.
//
// Writing never blocks the proxy for long: Record hands a line to a bounded queue, and one
// goroutine (Run) writes the queue through a buffer. When the queue is full (the disk is slow)
// or a write fails (the disk is full), the lines are dropped, never silently: Dropped counts
// them, skipper_audit_log_dropped_total exposes the count, and the application log says so at
// most once per dropWarnEvery.
package audit

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Decisions of the forward proxy, the decision field of "forward" lines.
const (
	DecisionAllowed     = "allowed"     // a route allowed the request and it was served
	DecisionDenied      = "denied"      // refused: no route, no proxy credentials, the SSRF guard
	DecisionIntercepted = "intercepted" // a CONNECT whose TLS the proxy terminates
	DecisionTunnelled   = "tunnelled"   // a CONNECT relayed blind
	DecisionWouldDeny   = "would_deny"  // report-only: sent although no route allows it
)

// Events, the event field of every line.
const (
	EventCredential = "credential" // a credential filter used a secret
	EventForward    = "forward"    // the forward proxy decided about a request
)

// Entry is one line of the audit log. It never holds a secret value: Fingerprint is a keyed
// hash of it.
type Entry struct {
	Time        time.Time `json:"time"`
	Event       string    `json:"event"`
	Decision    string    `json:"decision,omitempty"`
	Route       string    `json:"route,omitempty"`
	Filter      string    `json:"filter,omitempty"`
	Secret      string    `json:"secret,omitempty"`
	Fingerprint string    `json:"fingerprint,omitempty"`
	Outcome     string    `json:"outcome,omitempty"`
	Scheme      string    `json:"scheme,omitempty"`
	Host        string    `json:"host,omitempty"`
	Port        int       `json:"port,omitempty"`
	Method      string    `json:"method"`
	Path        string    `json:"path"`
	Status      int       `json:"status"`
	DurationMS  float64   `json:"duration_ms"`
	Client      string    `json:"client,omitempty"`
	ProxyUser   string    `json:"proxy_user,omitempty"`
}

// queueLines is how many lines may wait for the writer; beyond, lines are dropped.
const queueLines = 4096

// dropWarnEvery is how often, at most, the application log says that lines were dropped.
const dropWarnEvery = 10 * time.Second

// fingerprintHex is the length of a fingerprint in hex digits.
const fingerprintHex = 12

// Log is the audit log. It is safe for concurrent use; a nil *Log records nothing.
type Log struct {
	dest   string // "stderr", "stdout" or a file path
	log    logrus.FieldLogger
	key    [32]byte
	queue  chan []byte
	reopen chan struct{}

	mu   sync.Mutex // guards out and file, used by Run, Reopen's caller and Close
	out  io.Writer
	file *os.File // nil for stderr, stdout and a test's writer

	dropped  atomic.Uint64
	lastWarn atomic.Int64 // unix nanos of the last warning about drops
}

// Open opens the audit log dest: "stderr", "stdout" or the path of a file, created if needed
// and appended to. stdout and stderr are the process's, given so that tests can catch them.
// Nothing is written until Run runs.
func Open(dest string, stdout, stderr io.Writer, log logrus.FieldLogger) (*Log, error) {
	var (
		out  io.Writer
		file *os.File
	)
	switch dest {
	case "":
		return nil, errors.New("-audit-log: empty destination")
	case "stderr":
		out = stderr
	case "stdout":
		out = stdout
	default:
		f, err := openFile(dest)
		if err != nil {
			return nil, fmt.Errorf("-audit-log: %w", err)
		}
		out, file = f, f
	}
	l := New(out, log)
	l.dest, l.file = dest, file
	return l, nil
}

// New returns an audit log that writes to w, with a fingerprint key of its own.
func New(w io.Writer, log logrus.FieldLogger) *Log {
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = l
	}
	l := &Log{log: log, out: w, queue: make(chan []byte, queueLines), reopen: make(chan struct{}, 1)}
	if _, err := rand.Read(l.key[:]); err != nil {
		panic("audit: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return l
}

func openFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
}

// Fingerprint returns 12 hex digits of the HMAC-SHA256, under a key made when the log was,
// of a credential's value and its other form (see filters.CredentialUse): equal while the
// secret keeps its version, different after a rotation, and telling nothing about the value.
func (l *Log) Fingerprint(value []byte, also string) string {
	if l == nil || (len(value) == 0 && also == "") {
		return ""
	}
	h := hmac.New(sha256.New, l.key[:])
	h.Write(value)
	h.Write([]byte{0})
	h.Write([]byte(also))
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:fingerprintHex/2])
}

// Record queues e to be written. It never blocks: when the queue is full the line is dropped
// and counted.
func (l *Log) Record(e *Entry) {
	if l == nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil { // an Entry holds only strings and numbers
		l.drop(1, err)
		return
	}
	select {
	case l.queue <- append(b, '\n'):
	default:
		l.drop(1, errors.New("queue full: the audit log is written more slowly than lines arrive"))
	}
}

// Dropped returns how many lines were dropped since the start.
func (l *Log) Dropped() uint64 {
	if l == nil {
		return 0
	}
	return l.dropped.Load()
}

// drop counts n lost lines and, at most once per dropWarnEvery, logs why.
func (l *Log) drop(n int, why error) {
	total := l.dropped.Add(uint64(n))
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if last != 0 && now-last < int64(dropWarnEvery) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.log.WithFields(logrus.Fields{"dropped_total": total, "error": why}).Error("audit log lines dropped")
}

// Reopen asks Run to close the file and open its path again, as after a log rotation (SIGHUP).
// It returns at once; for stderr and stdout it does nothing.
func (l *Log) Reopen() {
	if l == nil || l.file == nil {
		return
	}
	select {
	case l.reopen <- struct{}{}:
	default: // one is pending already
	}
}

// Run writes queued lines until ctx is done, then writes those still queued and closes the
// file. A line is flushed as soon as no other waits behind it.
func (l *Log) Run(ctx context.Context) error {
	if l == nil {
		return nil
	}
	bw := bufio.NewWriterSize(writerFunc(l.write), 64*1024)
	defer l.closeFile()
	pending := 0 // lines in bw
	for {
		select {
		case b := <-l.queue:
			bw.Write(b) //nolint:errcheck // write counts and reports failures itself
			pending++
			if len(l.queue) == 0 {
				l.flush(bw, &pending)
			}
		case <-l.reopen:
			l.flush(bw, &pending)
			l.reopenFile()
		case <-ctx.Done():
			for len(l.queue) > 0 {
				bw.Write(<-l.queue) //nolint:errcheck // as above
				pending++
			}
			l.flush(bw, &pending)
			return nil
		}
	}
}

// flush writes bw out; the lines of a failed write are counted as dropped, and bw is reset so
// that the next lines get their chance.
func (l *Log) flush(bw *bufio.Writer, pending *int) {
	if err := bw.Flush(); err != nil {
		l.drop(*pending, err)
		bw.Reset(writerFunc(l.write))
	}
	*pending = 0
}

func (l *Log) write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.Write(p)
}

// reopenFile opens the path again and, once that worked, closes the old file; if it failed
// the old file is kept, which is better than losing the lines.
func (l *Log) reopenFile() {
	f, err := openFile(l.dest)
	if err != nil {
		l.log.WithError(err).Error("audit log: reopening failed, still writing to the old file")
		return
	}
	l.mu.Lock()
	old := l.file
	l.out, l.file = f, f
	l.mu.Unlock()
	old.Close() //nolint:errcheck // everything was flushed before
	l.log.WithField("path", l.dest).Info("audit log reopened")
}

func (l *Log) closeFile() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		l.file.Close() //nolint:errcheck // flushed before
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
