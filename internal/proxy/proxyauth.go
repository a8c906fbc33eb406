package proxy

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/audit"
)

// innerKey marks, in a request's context, a request decrypted from an intercepted tunnel; its
// value is the user the tunnel's CONNECT authenticated as ("" for none).
type innerKey struct{}

// proxyAuthRealm is the realm of the Proxy-Authenticate challenge.
const proxyAuthRealm = `Basic realm="skipper"`

// proxyUsers is the parsed content of the -forward-proxy-auth file.
type proxyUsers struct {
	raw   []byte // the content parsed, to notice a rotation
	users map[string][]byte
	err   error
}

// ParseProxyUsers reads the -forward-proxy-auth file's content: one "user:password" a line,
// blank lines and lines starting with '#' skipped, a '\r' ending a line dropped. It returns the
// "user:password" of each user. Errors name file and line, never a password.
func ParseProxyUsers(file string, data []byte) (map[string][]byte, error) {
	users := make(map[string][]byte)
	var errs []error
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		user, _, ok := bytes.Cut(line, []byte(":"))
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s:%d: want user:password", file, n+1))
		case len(user) == 0:
			errs = append(errs, fmt.Errorf("%s:%d: empty user", file, n+1))
		case !validUser(user):
			errs = append(errs, fmt.Errorf("%s:%d: a user is printable ASCII without spaces, quotes or backslashes", file, n+1))
		case users[string(user)] != nil:
			errs = append(errs, fmt.Errorf("%s:%d: user %q given twice", file, n+1, user))
		default:
			users[string(user)] = bytes.Clone(line)
		}
	}
	if len(users) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no user:password line", file))
	}
	return users, errors.Join(errs...)
}

// validUser reports whether a user name can be logged as it is: printable ASCII without space,
// '"' or '\'.
func validUser(u []byte) bool {
	for _, c := range u {
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// users returns the users of the -forward-proxy-auth file as it is now, parsing it again only
// when it changed.
func (f *Forwarder) users() (map[string][]byte, error) {
	data, err := f.auth()
	if err != nil {
		return nil, err
	}
	if c := f.parsedUsers.Load(); c != nil && bytes.Equal(c.raw, data) {
		return c.users, c.err
	}
	users, err := ParseProxyUsers(f.authFile, data)
	f.parsedUsers.Store(&proxyUsers{raw: bytes.Clone(data), users: users, err: err})
	return users, err
}

// authenticate returns r with the user its Proxy-Authorization names in its context, and
// whether the request may go on: a forward-proxy request needs credentials that match a line
// of the -forward-proxy-auth file, when it is set. Requests inside an intercepted tunnel carry
// the user of their CONNECT. It answers nothing: serve answers 407 when ok is false.
func (p *Proxy) authenticate(r *http.Request) (_ *http.Request, user string, ok bool) {
	if u, inner := r.Context().Value(innerKey{}).(string); inner {
		if u != "" {
			r = r.WithContext(filters.WithProxyUser(r.Context(), u))
		}
		return r, u, true
	}
	if p.fwd.auth == nil || !isForward(r) {
		return r, "", true
	}
	users, err := p.fwd.users()
	if err != nil {
		// Fail closed: without the expected credentials nobody gets through. The error names
		// the secret's path and line, never a value.
		p.log.WithFields(logrus.Fields{fieldHost: r.Host, fieldError: err}).Warn("proxy credentials unavailable")
		return r, "", false
	}
	user, ok = basicUser(r.Header.Get("Proxy-Authorization"), users)
	if !ok {
		return r, "", false
	}
	return r.WithContext(filters.WithProxyUser(r.Context(), user)), user, true
}

// challenge answers a forward-proxy request without valid credentials with 407.
func (p *Proxy) challenge(w *responseRecorder, r *http.Request) {
	w.decide(audit.DecisionDenied)
	p.log.WithFields(logrus.Fields{fieldHost: r.Host, "method": r.Method, "remote": r.RemoteAddr}).
		Info("forward proxy request without valid proxy credentials")
	w.Header().Set("Proxy-Authenticate", proxyAuthRealm)
	http.Error(w, http.StatusText(http.StatusProxyAuthRequired), http.StatusProxyAuthRequired)
}

// basicUser returns the user of header, Basic credentials, when its "user:password" is the line
// users holds for that user, comparing in constant time.
func basicUser(header string, users map[string][]byte) (string, bool) {
	scheme, encoded, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return "", false
	}
	user, _, ok := bytes.Cut(got, []byte(":"))
	want, known := users[string(user)]
	if !ok || !known || subtle.ConstantTimeCompare(got, want) != 1 {
		return "", false
	}
	return string(user), true
}

// innerContext returns the context of the requests of an intercepted tunnel whose CONNECT
// authenticated as user.
func innerContext(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, innerKey{}, user)
}
