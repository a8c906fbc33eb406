package filters

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/skipper-egress/skipper/internal/httpsyntax"
)

// TokenError is the error oauth2ClientCredentials returns when it has no valid token to
// inject. It wraps ErrCredentialUnavailable, so the proxy answers 503 and does not forward the
// request, and, where there is one, the cause that callers may test for: the *CredentialError
// of an unusable client secret, or the request's context error.
//
// It never holds a token, a client ID or secret, or the token endpoint's response body, which
// may echo credentials back.
type TokenError struct {
	// Filter is the name of the filter that wanted the token; empty means
	// oauth2ClientCredentials.
	Filter string
	// TokenURL is the token endpoint, without user info or query.
	TokenURL string
	// Reason says what went wrong, such as "HTTP status 401 (invalid_client)" or
	// "unreachable: dial tcp 127.0.0.1:1: connect: connection refused".
	Reason string
	// Err is the cause that errors.Is and errors.As should see, or nil.
	Err error
}

// Error returns, for example, `oauth2ClientCredentials: credential unavailable: token endpoint
// "https://auth.example.org/token": HTTP status 401 (invalid_client)`.
func (e *TokenError) Error() string {
	name := e.Filter
	if name == "" {
		name = OAuth2ClientCredentialsName
	}
	return name + ": " + ErrCredentialUnavailable.Error() + ": token endpoint " +
		strconv.Quote(e.TokenURL) + ": " + e.Reason
}

// Unwrap returns ErrCredentialUnavailable and, if set, Err.
func (e *TokenError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrCredentialUnavailable}
	}
	return []error{ErrCredentialUnavailable, e.Err}
}

// fetch runs one token request for e and publishes its outcome to e and to c's waiters.
func (m *TokenManager) fetch(parent context.Context, e *tokenEntry, c *fetchCall) {
	ctx, cancel := context.WithTimeout(parent, m.fetchTimeout)
	defer cancel()
	tok, err := m.requestToken(ctx, e)
	stopping := parent.Err() != nil // Run is returning: not the endpoint's fault

	e.mu.Lock()
	prev := e.cur.Load()
	failures, retryIn := e.failures, time.Duration(0)
	switch {
	case err == nil:
		e.cur.Store(tok)
		e.failures, e.lastErr, e.retryAt = 0, nil, time.Time{}
	case !stopping:
		e.failures++
		failures, retryIn = e.failures, m.backoff(e.failures)
		e.lastErr, e.retryAt = err, m.now().Add(retryIn)
	}
	e.call = nil
	e.mu.Unlock()

	if !stopping { // before waking the waiters, so the reason is logged ahead of their errors
		m.logFetch(e, prev, err, failures, retryIn)
	}
	c.tok, c.err = tok, err
	close(c.done)
	m.poke()
}

// logFetch logs a token request's outcome: failures as warnings, the first token and a
// recovery as info, routine refreshes as debug. failures is the count before a success, or
// including a failure.
func (m *TokenManager) logFetch(e *tokenEntry, prev *cachedToken, err error, failures int, retryIn time.Duration) {
	log := m.log.WithFields(e.logFields())
	switch {
	case err != nil && prev.validAt(m.now()):
		log.WithFields(logrus.Fields{fieldError: err.Error(), "failures": failures, "retry_in": retryIn.Round(time.Millisecond).String()}).
			Warn("OAuth2 token refresh failed, still serving the current token")
	case err != nil:
		log.WithFields(logrus.Fields{fieldError: err.Error(), "failures": failures, "retry_in": retryIn.Round(time.Millisecond).String()}).
			Warn("OAuth2 token request failed, requests on its routes fail with 503")
	case failures > 0:
		log.WithField("failures", failures).Info("OAuth2 token fetched again after failures")
	case prev == nil:
		log.Info("OAuth2 token fetched")
	default:
		log.Debug("OAuth2 token refreshed")
	}
}

// backoff returns the wait after the given number of consecutive failures: MinBackoff doubled
// per failure up to MaxBackoff, of which a random half is taken off, so that entries failing
// together spread their retries out.
func (m *TokenManager) backoff(failures int) time.Duration {
	d := m.minBackoff
	for i := 1; i < failures && d < m.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, m.maxBackoff)
	return d - rand.N(d/2+1)
}

// requestToken asks e's token endpoint for a token with e's grant, reading the secrets it
// needs now, so that rotations take effect.
func (m *TokenManager) requestToken(ctx context.Context, e *tokenEntry) (*cachedToken, error) {
	if e.key.grant == grantRefreshToken {
		return m.refreshGrant(ctx, e)
	}
	conf, basis, err := m.grantRequest(e)
	if err != nil {
		return nil, err
	}
	tok, start, err := m.send(ctx, e, conf)
	if err != nil {
		return nil, err
	}
	t, err := m.newCachedToken(e, tok, start)
	if err != nil {
		return nil, err
	}
	t.basis = basis
	return t, nil
}

// send posts conf's token request and returns the token and when the request was sent.
func (m *TokenManager) send(ctx context.Context, e *tokenEntry, conf *clientcredentials.Config) (*oauth2.Token, time.Time, error) {
	start := m.now()
	tok, err := conf.Token(context.WithValue(ctx, oauth2.HTTPClient, m.client))
	if err != nil {
		return nil, start, e.tokenError(m.fetchReason(ctx, err, sentCredentials(conf)), nil)
	}
	return tok, start, nil
}

// logFields are the fields of e's log lines: where the token comes from and by which grant,
// never a secret's value.
func (e *tokenEntry) logFields() logrus.Fields {
	f := logrus.Fields{fieldTokenURL: e.display, fieldGrant: e.key.grant.String()}
	if e.key.clientID != "" {
		f[fieldClientIDSecret] = e.key.clientID
	}
	if e.key.client != "" {
		f[fieldClientID] = e.key.client
	}
	return f
}

// tokenError returns a *TokenError of e's filter and token URL.
func (e *tokenEntry) tokenError(reason string, err error) *TokenError {
	return &TokenError{Filter: e.key.grant.filterName(), TokenURL: e.display, Reason: reason, Err: err}
}

func secretError(e *tokenEntry, err error) error {
	reason := err.Error()
	var ce *CredentialError
	if errors.As(err, &ce) {
		reason = "secret " + strconv.Quote(ce.SecretName) + ": " + ce.Reason
	}
	return e.tokenError(reason, err)
}

// newCachedToken checks tok and works out when to refresh and stop using it. Its lifetime
// counts from start, the time the request was sent, so the token's real expiry is never
// earlier than ours.
func (m *TokenManager) newCachedToken(e *tokenEntry, tok *oauth2.Token, start time.Time) (*cachedToken, error) {
	// RFC 6750 bearer tokens only: a token of another type (DPoP, MAC) needs more than a header.
	if tt := tok.TokenType; tt != "" && !strings.EqualFold(tt, "bearer") {
		return nil, e.tokenError("token type is not bearer", nil)
	}
	if i := httpsyntax.InvalidValueByte(tok.AccessToken); i >= 0 {
		return nil, e.tokenError(fmt.Sprintf("access token contains control character 0x%02x", tok.AccessToken[i]), nil)
	}
	lifetime := expiresIn(tok)
	if lifetime <= 0 {
		lifetime = m.defaultLifetime
	}
	margin := min(m.expiryMargin, lifetime/10)
	return &cachedToken{
		header:     tokenHeader(bearerPrefix + tok.AccessToken),
		refreshAt:  start.Add(lifetime / refreshDen * refreshNum),
		validUntil: start.Add(lifetime - margin),
	}, nil
}

// expiresIn returns the token response's expires_in (RFC 6749 §5.1), or 0 when it is missing
// or not a number. The library keeps it only as an expiry in its own clock, so read the raw
// field: a JSON number, a JSON string (some servers send one), or a form value.
func expiresIn(tok *oauth2.Token) time.Duration {
	var secs float64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		secs = v
	case int64:
		secs = float64(v)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0
		}
		secs = f
	}
	const maxSecs = 1 << 31 // the library's own cap; keeps the Duration from overflowing
	if secs <= 0 || secs != secs {
		return 0
	}
	return time.Duration(min(secs, maxSecs) * float64(time.Second))
}

// fetchReason describes a failed token request for logs and errors. The library's own error
// text may quote the response body, which can echo credentials, so only the status, a
// registered error code, the error_description when it passes describeError's checks, or the
// transport failure is kept. sent are the credentials the request carried.
func (m *TokenManager) fetchReason(ctx context.Context, err error, sent []string) string {
	var re *oauth2.RetrieveError
	var ue *url.Error
	switch {
	case errors.As(err, &re):
		code := ""
		if registeredErrorCode(re.ErrorCode) {
			code = " (" + re.ErrorCode + ")"
		}
		desc := describeError(re.ErrorDescription, sent)
		if re.Response != nil && (re.Response.StatusCode < 200 || re.Response.StatusCode > 299) {
			return "HTTP status " + strconv.Itoa(re.Response.StatusCode) + code + desc
		}
		return "error response" + code + desc
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "no response within " + m.fetchTimeout.String()
	case errors.Is(ctx.Err(), context.Canceled):
		return "canceled"
	case errors.As(err, &ue):
		// Transport errors (refused, TLS, reset) carry no body; the URL is left out.
		return "unreachable: " + ue.Err.Error()
	case strings.Contains(err.Error(), "missing access_token"):
		return "response has no access_token"
	default:
		return "response is not a token response"
	}
}

// registeredErrorCode reports whether code is an error code of RFC 6749 §5.2 or RFC 8693
// §2.2.2, which is safe to log: a server could put anything in the field.
func registeredErrorCode(code string) bool {
	switch code {
	case "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
		"unsupported_grant_type", "invalid_scope", "invalid_target":
		return true
	}
	return false
}

// Limits of the error_description that logs and errors show.
const (
	maxDescription = 200 // bytes
	// maxDescriptionWord is the longest run of non-spaces shown: tokens, assertions and most
	// secrets are longer; words of an explanation are not.
	maxDescriptionWord = 24
	// minSentLen is the shortest credential looked for in a description: a short client ID
	// would withhold every description that happens to contain its letters.
	minSentLen = 6
)

// describeError returns ", error_description \"...\"" to append to a reason, so that the
// operator sees what the server said (such as "Refresh token expired"), or a note that it was
// withheld because it could hold a credential: it is longer than 200 bytes, has bytes outside
// RFC 6749 §5.2's set, repeats a credential the request sent, or has a run of more than 24
// non-spaces, the shape of a token. Empty when there is no description.
func describeError(desc string, sent []string) string {
	if desc == "" {
		return ""
	}
	ok := len(desc) <= maxDescription
	for i := 0; ok && i < len(desc); i++ {
		// error_description = 1*( %x20-21 / %x23-5B / %x5D-7E )
		c := desc[i]
		ok = c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'
	}
	for _, w := range strings.Fields(desc) {
		ok = ok && len(w) <= maxDescriptionWord
	}
	for _, v := range sent {
		ok = ok && (len(v) < minSentLen || !strings.Contains(desc, v))
	}
	if !ok {
		return ", error_description withheld: it could hold a credential"
	}
	return ", error_description " + strconv.Quote(desc)
}

// sentCredentials returns the credentials conf sends, for describeError.
func sentCredentials(conf *clientcredentials.Config) []string {
	sent := []string{conf.ClientID, conf.ClientSecret}
	for _, p := range []string{"client_assertion", "assertion", "subject_token", "refresh_token"} {
		if v := conf.EndpointParams.Get(p); v != "" {
			sent = append(sent, v)
		}
	}
	return sent
}

// displayURL returns the token URL as logs and errors show it: without user info, query or
// fragment, which are the parts that could hold credentials.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[invalid URL]"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String()
}
