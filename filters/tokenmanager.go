package filters

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/secrets"
)

// Defaults of TokenManagerOptions.
const (
	// DefaultTokenLifetime is how long a token is trusted when the endpoint sends no expires_in.
	// RFC 6749 §5.1 leaves the lifetime to the server's documentation then; five minutes keeps
	// a token that lives longer cheap to refresh and bounds how long we could send one that
	// lives shorter.
	DefaultTokenLifetime = 5 * time.Minute
	defaultFetchTimeout  = 10 * time.Second
	defaultExpiryMargin  = 10 * time.Second
	defaultMinBackoff    = time.Second
	defaultMaxBackoff    = 30 * time.Second
	defaultIdleTimeout   = 10 * time.Minute
)

const (
	// refreshNum/refreshDen is the part of a token's lifetime after which Run refreshes it.
	refreshNum, refreshDen = 8, 10
	// usedGranularity bounds how often a request writes an entry's last-use time, so that
	// parallel requests do not all write the same cache line.
	usedGranularity = int64(time.Second)
)

// Log field names.
const (
	fieldTokenURL       = "token_url"
	fieldClientIDSecret = "client_id_secret"
	fieldClientID       = "client_id"
	fieldGrant          = "grant"
	fieldError          = "error"
)

// TokenManagerOptions configures a TokenManager. Zero durations take the documented defaults.
type TokenManagerOptions struct {
	// Secrets is where the client ID and client secret are read, at every token request so
	// that a rotated secret is used from the next request on. It must not be nil.
	Secrets SecretSource
	// Client sends the token requests. If nil, a client with http.DefaultTransport that
	// follows no redirects is used: a redirected token request would carry the client
	// credentials to wherever it points.
	Client *http.Client
	// Log receives state changes: tokens fetched, requests failed, entries dropped. It never
	// receives a token, a client ID or secret, or a response body. If nil, nothing is logged.
	Log logrus.FieldLogger
	// Now returns the current time, for tests. If nil, time.Now is used. Run's timers wait in
	// real time; tests that move Now use the manager without Run.
	Now func() time.Time
	// FetchTimeout bounds one token request. Default 10s.
	FetchTimeout time.Duration
	// DefaultLifetime is the lifetime assumed for a token that comes without expires_in.
	// Default DefaultTokenLifetime.
	DefaultLifetime time.Duration
	// ExpiryMargin is how long before its expiry a token stops being used, so that it does
	// not expire on the way to the backend. It is at most a tenth of the token's lifetime.
	// Default 10s.
	ExpiryMargin time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed token request: it doubles with
	// each consecutive failure, from MinBackoff up to MaxBackoff, with half of it random.
	// Defaults 1s and 30s.
	MinBackoff, MaxBackoff time.Duration
	// IdleTimeout is how long a token may go unused before Run stops refreshing it; it is
	// dropped once it expires. Default 10 minutes.
	IdleTimeout time.Duration
	// StateDir, if set, is where refresh tokens the server rotated are kept (mode 0600), so
	// that a restart resumes with them. It is created (mode 0700) if missing.
	StateDir string
}

// TokenManager fetches, caches and refreshes OAuth2 access tokens for the OAuth2 filters,
// whatever their grant. main creates one and runs it for the life of the process: route
// filters come and go with every route table, and share the manager's cache, so that routes
// with the same grant, token URL, client, scopes and audience share one token.
//
// Without Run, a filter fetches a token when it has none or its token has expired, and
// requests wait for that. Run adds the background work: it fetches tokens for new routes,
// refreshes each token after 80% of its lifetime, retries failed refreshes with backoff while
// the old token is served, and drops tokens no route has used for IdleTimeout.
//
// A TokenManager is safe for concurrent use.
type TokenManager struct {
	secrets SecretSource
	client  *http.Client
	log     logrus.FieldLogger
	now     func() time.Time

	fetchTimeout, defaultLifetime, expiryMargin time.Duration
	minBackoff, maxBackoff, idleTimeout         time.Duration

	running atomic.Bool   // guards against two concurrent Run calls
	wake    chan struct{} // capacity 1: something changed that Run must look at

	stateDir string

	mu      sync.Mutex
	entries map[tokenKey]*tokenEntry
	refresh map[tokenKey]*refreshState // never dropped: see refreshState
}

// NewTokenManager returns a manager reading client credentials from opts.Secrets. It starts
// nothing; see Run.
func NewTokenManager(opts TokenManagerOptions) (*TokenManager, error) {
	if opts.Secrets == nil {
		return nil, errors.New("token manager: no secret source")
	}
	for _, d := range []time.Duration{opts.FetchTimeout, opts.DefaultLifetime, opts.ExpiryMargin,
		opts.MinBackoff, opts.MaxBackoff, opts.IdleTimeout} {
		if d < 0 {
			return nil, fmt.Errorf("token manager: negative duration %s", d)
		}
	}
	m := &TokenManager{
		secrets:         opts.Secrets,
		client:          opts.Client,
		log:             opts.Log,
		now:             opts.Now,
		fetchTimeout:    orDefault(opts.FetchTimeout, defaultFetchTimeout),
		defaultLifetime: orDefault(opts.DefaultLifetime, DefaultTokenLifetime),
		expiryMargin:    orDefault(opts.ExpiryMargin, defaultExpiryMargin),
		minBackoff:      orDefault(opts.MinBackoff, defaultMinBackoff),
		maxBackoff:      orDefault(opts.MaxBackoff, defaultMaxBackoff),
		idleTimeout:     orDefault(opts.IdleTimeout, defaultIdleTimeout),
		stateDir:        opts.StateDir,
		wake:            make(chan struct{}, 1),
		entries:         make(map[tokenKey]*tokenEntry),
		refresh:         make(map[tokenKey]*refreshState),
	}
	if m.stateDir != "" {
		if err := os.MkdirAll(m.stateDir, 0o700); err != nil {
			return nil, fmt.Errorf("token manager: state directory: %w", err)
		}
	}
	if m.maxBackoff < m.minBackoff {
		return nil, fmt.Errorf("token manager: max backoff %s is below min backoff %s", m.maxBackoff, m.minBackoff)
	}
	if m.client == nil {
		m.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if m.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		m.log = l
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// tokenKey identifies one cached token: the grant and every argument of its filter. Scopes
// are sorted, deduplicated and joined by spaces. Fields a grant does not use are empty.
type tokenKey struct {
	grant                      grantKind
	tokenURL, scopes, audience string
	clientID, clientSecret     string // secret names
	client                     string // the client ID itself, for private_key_jwt
	privateKey                 string // secret name of the key that signs assertions
	issuer, subject            string // of the JWT-bearer grant's assertion
	subjectToken               string // secret name of the token-exchange grant's subject token
	subjectTokenType           string
	refreshToken               string // secret name of the refresh-token grant's refresh token
}

// tokenEntry is the cache slot of one tokenKey. The request path reads cur and used without
// locks; mu guards the fetch state.
type tokenEntry struct {
	key     tokenKey
	display string // the token URL without user info or query, for logs and errors

	cur  atomic.Pointer[cachedToken]
	used atomic.Int64 // Now().UnixNano() of the latest use, written at most every usedGranularity
	idle atomic.Bool  // Run has stopped refreshing it; a use wakes Run
	dead atomic.Bool  // removed from the manager; its filters register again

	mu       sync.Mutex
	call     *fetchCall // the token request in flight, if any
	failures int        // consecutive failed token requests
	retryAt  time.Time  // after a failure: no new token request before this
	lastErr  error      // after a failure: what requests get until retryAt
}

// cachedToken is an access token ready for use. It is immutable.
type cachedToken struct {
	header     tokenHeader // "Bearer " + access token
	refreshAt  time.Time   // Run refreshes it from here on
	validUntil time.Time   // expiry minus the margin: not sent from here on
	// basis is the subject token a token exchange traded for this token: when the subject
	// token file holds another value, a new exchange is due at once.
	basis secrets.Secret
}

func (t *cachedToken) validAt(now time.Time) bool { return t != nil && now.Before(t.validUntil) }

// Format writes "[redacted token]" for every verb: fmt does not call the Format method of an
// unexported field, so the header field alone would not hide the token.
func (cachedToken) Format(f fmt.State, _ rune) { io.WriteString(f, "[redacted token]") }

// tokenHeader holds an Authorization value. It cannot print itself, so a token never ends up
// in a log line by accident; convert it with string() at the point of injection.
type tokenHeader string

// Format writes "[redacted]" for every verb.
func (tokenHeader) Format(f fmt.State, _ rune) { io.WriteString(f, "[redacted]") }

// fetchCall is one token request that any number of requests may wait for. tok and err are
// written before done is closed.
type fetchCall struct {
	done chan struct{}
	tok  *cachedToken
	err  error
}

// register returns the entry for k, creating it if needed. Creating one wakes Run, which
// fetches its first token ahead of the first request.
func (m *TokenManager) register(k tokenKey) *tokenEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.entries[k]; ok {
		return e
	}
	e := &tokenEntry{key: k, display: displayURL(k.tokenURL)}
	e.used.Store(m.now().UnixNano())
	m.entries[k] = e
	m.poke()
	return e
}

// poke wakes Run without blocking; one pending wake-up is enough.
func (m *TokenManager) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// token returns a valid token for e. With a valid cached token it returns at once; otherwise
// it waits, bounded by ctx, for the one token request of e in flight, starting it if needed.
func (m *TokenManager) token(ctx context.Context, e *tokenEntry) (*cachedToken, error) {
	now := m.now()
	if n := now.UnixNano(); n-e.used.Load() >= usedGranularity {
		e.used.Store(n)
		if e.idle.Load() {
			m.poke()
		}
	}
	if t := e.cur.Load(); t.validAt(now) && m.current(e, t) {
		return t, nil
	}
	return m.wait(ctx, e)
}

// current reports whether t was got with the current value of the secret its grant trades
// (the subject token of a token exchange); true for grants that trade none, and when the
// secret cannot be read now, since the token it gave is still valid.
func (m *TokenManager) current(e *tokenEntry, t *cachedToken) bool {
	if e.key.grant != grantTokenExchange {
		return true
	}
	v, err := m.secrets.Get(e.key.subjectToken)
	return err != nil || bytes.Equal(v, t.basis)
}

// wait is token's slow path: there is no valid token, or it was got with a subject token
// that has since rotated. In that case the old token is still served when no new one can be
// had: it stays valid at the server until it expires.
func (m *TokenManager) wait(ctx context.Context, e *tokenEntry) (*cachedToken, error) {
	e.mu.Lock()
	now := m.now()
	old := e.cur.Load()
	if old.validAt(now) && m.current(e, old) { // fetched while we took the lock
		e.mu.Unlock()
		return old, nil
	}
	c := e.call
	if c == nil {
		if e.lastErr != nil && now.Before(e.retryAt) {
			// Backing off: fail fast rather than hammer an endpoint that just failed.
			err := e.lastErr
			e.mu.Unlock()
			return validOr(old, now, err)
		}
		// Not bound to ctx: the waiters of other requests share this request.
		c = m.startFetchLocked(context.Background(), e, nil)
	}
	e.mu.Unlock()
	select {
	case <-c.done:
		if c.err != nil {
			return validOr(old, m.now(), c.err)
		}
		return c.tok, nil
	case <-ctx.Done():
		return nil, e.tokenError("gave up waiting for a token: "+ctx.Err().Error(), ctx.Err())
	}
}

// validOr returns t if it is valid at now, else err.
func validOr(t *cachedToken, now time.Time, err error) (*cachedToken, error) {
	if t.validAt(now) {
		return t, nil
	}
	return nil, err
}

// startFetchLocked starts a token request for e, which has none in flight; e.mu is held. The
// request runs in a new goroutine, counted in wg if wg is not nil, and is bounded by parent
// and the fetch timeout.
func (m *TokenManager) startFetchLocked(parent context.Context, e *tokenEntry, wg *sync.WaitGroup) *fetchCall {
	c := &fetchCall{done: make(chan struct{})}
	e.call = c
	if wg != nil {
		wg.Go(func() { m.fetch(parent, e, c) })
	} else {
		go m.fetch(parent, e, c)
	}
	return c
}

// Run refreshes tokens in the background until ctx is done, then cancels the token requests
// it started, waits for them and returns nil. It returns an error only if it is already
// running.
func (m *TokenManager) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("token manager is already running")
	}
	defer m.running.Store(false)
	var fetches sync.WaitGroup
	defer fetches.Wait()
	m.loop(ctx, &fetches)
	return nil
}

// loop is Run's scheduler: it wakes when the next entry is due, or when poked.
func (m *TokenManager) loop(ctx context.Context, fetches *sync.WaitGroup) {
	timer := time.NewTimer(m.idleTimeout)
	defer timer.Stop()
	for {
		wait := m.idleTimeout
		if next := m.schedule(ctx, fetches); !next.IsZero() {
			wait = max(next.Sub(m.now()), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-m.wake:
		}
	}
}

// schedule starts the token requests that are due, drops the entries no route uses any more,
// and returns when it next has something to do; zero if only a poke can give it work.
func (m *TokenManager) schedule(ctx context.Context, fetches *sync.WaitGroup) time.Time {
	now := m.now()
	var next time.Time
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.entries {
		due, drop := m.plan(ctx, e, now, fetches)
		if drop {
			delete(m.entries, k)
			e.dead.Store(true)
			m.log.WithFields(e.logFields()).Debug("OAuth2 token unused, dropped")
			continue
		}
		if !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	return next
}

// plan decides what e needs at now: a token request (started here), a later look (due), or
// nothing more (drop).
func (m *TokenManager) plan(ctx context.Context, e *tokenEntry, now time.Time, fetches *sync.WaitGroup) (due time.Time, drop bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.call != nil {
		return time.Time{}, false // its completion pokes Run
	}
	tok := e.cur.Load()
	valid := tok.validAt(now)
	idle := now.UnixNano()-e.used.Load() >= int64(m.idleTimeout)
	e.idle.Store(idle)
	if idle {
		if !valid {
			return time.Time{}, true
		}
		return tok.validUntil, false // look again to drop it, unless a use wakes Run first
	}
	due = e.retryAt // zero unless backing off
	if valid && tok.refreshAt.After(due) {
		due = tok.refreshAt
	}
	if due.After(now) {
		return due, false
	}
	m.startFetchLocked(ctx, e, fetches)
	return time.Time{}, false
}
