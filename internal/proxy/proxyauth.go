package proxy

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/audit"
)

// innerKey marks, in a request's context, a request decrypted from an intercepted tunnel; its
// value is the innerUser who opened the tunnel.
type innerKey struct{}

// innerUser is the proxy user who opened an intercepted tunnel, "" when none authenticated.
type innerUser string

// proxyAuthRealm is the realm of the Proxy-Authenticate challenge.
const proxyAuthRealm = `Basic realm="skipper"`

// proxyAuthorized checks a forward-proxy request's Proxy-Authorization against
// ForwardOptions.ProxyAuth. When the check fails it answers 407 and returns false. The header
// itself is hop-by-hop and never reaches a backend.
func (p *Proxy) proxyAuthorized(w *responseRecorder, r *http.Request) bool {
	if p.fwd.auth == nil {
		return true
	}
	if u, ok := r.Context().Value(innerKey{}).(innerUser); ok {
		w.proxyUser = string(u) // authenticated with the tunnel's CONNECT
		return true
	}
	want, err := p.fwd.auth()
	if err != nil {
		// Fail closed: without the expected credentials nobody gets through. The error names
		// the secret's path, never its value.
		p.log.WithFields(logrus.Fields{fieldHost: r.Host, fieldError: err}).Warn("proxy credentials unavailable")
	}
	if h := r.Header.Get("Proxy-Authorization"); err == nil && len(want) > 0 && basicMatches(h, want) {
		w.proxyUser = proxyAuthUser(h)
		return true
	}
	w.decide(audit.DecisionDenied)
	p.log.WithFields(logrus.Fields{fieldHost: r.Host, "method": r.Method, "remote": r.RemoteAddr}).
		Info("forward proxy request without valid proxy credentials")
	w.Header().Set("Proxy-Authenticate", proxyAuthRealm)
	http.Error(w, http.StatusText(http.StatusProxyAuthRequired), http.StatusProxyAuthRequired)
	return false
}

// basicMatches reports whether header is Basic credentials whose "user:password" equals want,
// comparing in constant time.
func basicMatches(header string, want []byte) bool {
	scheme, encoded, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}
