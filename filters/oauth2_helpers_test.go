package filters_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/fakeclock"
)

// tokenCall is one request a tokenEndpoint received.
type tokenCall struct {
	at       time.Time
	id       string // client ID from HTTP Basic, unescaped
	secret   string // client secret from HTTP Basic, unescaped
	basicOK  bool
	form     url.Values
	response string // access token issued, if any
}

// tokenEndpoint is a loopback OAuth2 token endpoint that counts and records its calls. By
// default it issues "<prefix><n>" tokens valid for expiresIn seconds; answer replaces that.
type tokenEndpoint struct {
	*httptest.Server
	prefix    string
	expiresIn int

	mu      sync.Mutex
	calls   []tokenCall
	changed chan struct{} // closed and replaced on every call
	answer  func(w http.ResponseWriter, n int) string
	hold    chan struct{} // if set, calls wait for it to be closed before answering
}

func newTokenEndpoint(t testing.TB, prefix string, expiresIn int) *tokenEndpoint {
	t.Helper()
	e := &tokenEndpoint{prefix: prefix, expiresIn: expiresIn, changed: make(chan struct{})}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Close)
	return e
}

func (e *tokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	c := tokenCall{at: time.Now()}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	c.form = r.PostForm
	var id, secret string
	id, secret, c.basicOK = r.BasicAuth()
	// RFC 6749 §2.3.1: both are form-encoded before they go into HTTP Basic.
	c.id, _ = url.QueryUnescape(id)
	c.secret, _ = url.QueryUnescape(secret)

	e.mu.Lock()
	n := len(e.calls) + 1
	answer, hold := e.answer, e.hold
	e.calls = append(e.calls, c)
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()

	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	var tok string
	if answer != nil {
		tok = answer(w, n)
	} else {
		tok = fmt.Sprintf("%s%d", e.prefix, n)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // the client sees a broken body
			"access_token": tok, "token_type": "Bearer", "expires_in": e.expiresIn,
		})
	}
	e.mu.Lock()
	e.calls[n-1].response = tok
	e.mu.Unlock()
}

// setAnswer replaces how the endpoint answers; nil restores issuing tokens.
func (e *tokenEndpoint) setAnswer(f func(w http.ResponseWriter, n int) string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answer = f
}

// setHold makes later calls wait until the returned function is called.
func (e *tokenEndpoint) setHold() (release func()) {
	ch := make(chan struct{})
	e.mu.Lock()
	e.hold = ch
	e.mu.Unlock()
	return sync.OnceFunc(func() {
		e.mu.Lock()
		e.hold = nil
		e.mu.Unlock()
		close(ch)
	})
}

func (e *tokenEndpoint) Calls() []tokenCall {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]tokenCall(nil), e.calls...)
}

func (e *tokenEndpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.calls)
}

// waitCalls waits until the endpoint has received n calls and returns them; it fails the test
// after timeout.
func (e *tokenEndpoint) waitCalls(t testing.TB, n int, timeout time.Duration) []tokenCall {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		if len(e.calls) >= n {
			calls := append([]tokenCall(nil), e.calls...)
			e.mu.Unlock()
			return calls
		}
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("token endpoint got %d calls within %s, want %d", e.count(), timeout, n)
		}
	}
}

// answerStatus returns an answer that replies with status and body.
func answerStatus(status int, contentType, body string) func(http.ResponseWriter, int) string {
	return func(w http.ResponseWriter, _ int) string {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		w.Write([]byte(body)) //nolint:errcheck // the client sees a broken body
		return ""
	}
}

// newFakeClock returns a manually advanced clock for TokenManagerOptions.Now.
func newFakeClock() *fakeclock.Clock {
	return fakeclock.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
}

// logCapture is a logrus hook that keeps every entry rendered as text and as JSON.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (*logCapture) Levels() []logrus.Level { return logrus.AllLevels }

func (c *logCapture) Fire(e *logrus.Entry) error {
	text, err := (&logrus.TextFormatter{DisableColors: true}).Format(e)
	if err != nil {
		return err
	}
	js, err := (&logrus.JSONFormatter{}).Format(e)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(text)
	c.buf.Write(js)
	return nil
}

func (c *logCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// newTestLogger returns a debug-level logger that writes nowhere but into the returned capture.
func newTestLogger() (*logrus.Logger, *logCapture) {
	c := &logCapture{}
	l := logrus.New()
	l.SetOutput(&bytes.Buffer{})
	l.SetLevel(logrus.DebugLevel)
	l.AddHook(c)
	return l, c
}

// newManager returns a token manager over src with test-friendly defaults: short backoffs and
// a captured log. opts may override them.
func newManager(t testing.TB, src filters.SecretSource, opts filters.TokenManagerOptions) (*filters.TokenManager, *logCapture) {
	t.Helper()
	log, capture := newTestLogger()
	opts.Secrets = src
	if opts.Log == nil {
		opts.Log = log
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 50 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 100 * time.Millisecond
	}
	m, err := filters.NewTokenManager(opts)
	if err != nil {
		t.Fatalf("NewTokenManager: %v", err)
	}
	return m, capture
}

// startRun runs m until the test ends, and checks that Run then returns nil.
func startRun(t testing.TB, m *filters.TokenManager) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	})
}

// authorization runs f on a fresh request that carries a client's own Authorization, and
// returns the Authorization values it left.
func authorization(t testing.TB, f filters.Filter) ([]string, error) {
	t.Helper()
	r, err := http.NewRequestWithContext(context.Background(), "GET", "http://api.test/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Add("Authorization", "Bearer client-own")
	r.Header.Add("authorization", "Basic client-own")
	err = f.Request(r)
	return r.Header["Authorization"], err
}

// checkNotContains fails the test if s contains any of the canaries.
func checkNotContains(t testing.TB, what, s string, canaries ...string) {
	t.Helper()
	for _, c := range canaries {
		if strings.Contains(s, c) {
			t.Errorf("%s contains %q:\n%s", what, c, s)
		}
	}
}
