package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/metrics"
	"github.com/skipper-egress/skipper/routing"
	"github.com/skipper-egress/skipper/secrets"
)

// fail answers r with the status that err maps to and logs why. route is nil when no route was
// matched.
func (p *Proxy) fail(w *responseRecorder, r *http.Request, route *routing.Route, err error) {
	code := p.statusFor(err)
	if p.tracer != nil {
		p.tracer.Failed(r.Context(), code, err)
	}
	var fe *framingError
	switch {
	case errors.Is(err, errNoRoute):
		p.log.WithField(fieldHost, r.Host).Debug("no route")
		http.Error(w, http.StatusText(code), code)
		return
	case errors.As(err, &fe):
		p.log.WithFields(logrus.Fields{fieldHost: r.Host, "remote": r.RemoteAddr, fieldError: err}).
			Warn("refused a malformed or ambiguous request before parsing it")
		http.Error(w, http.StatusText(code), code)
		return
	case errors.Is(err, errInvalidQuery):
		p.log.WithFields(logrus.Fields{fieldHost: r.Host, fieldError: err}).Debug("invalid query")
		http.Error(w, "Invalid query", code) // Skipper's words
		return
	}
	if errors.Is(err, errClientBodyTimeout) {
		// The client's fault, and the connection is in the middle of its body: close it.
		p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldHost: r.Host}).Debug("client request body read timeout")
		w.Header().Set("Connection", "close")
		http.Error(w, http.StatusText(code), code)
		return
	}
	if errors.Is(err, filters.ErrContentBlocked) {
		// The client's body, refused by the route's blockContent: not a failure of the proxy.
		p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldHost: r.Host}).Info("request body blocked")
		http.Error(w, http.StatusText(code), code)
		return
	}
	if errors.Is(err, errCircuitOpen) {
		// Every request fails this way while the breaker is open; the state change is what
		// deserves a log line, not each refusal.
		p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldHost: r.Host}).Debug("circuit breaker open")
		w.Header().Set(headerCircuitOpen, "true")
		http.Error(w, http.StatusText(code), code)
		return
	}
	if errors.Is(err, secrets.ErrUnboundDestination) {
		// The log names the secret's path; the client learns only that the route's
		// credential may not go where its request was going.
		p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldHost: r.Host, fieldError: err}).
			Warn("credential refused for this destination")
		http.Error(w, fmt.Sprintf("%s: route %q may not send its credential to this destination", http.StatusText(code), route.Name()), code)
		return
	}
	if errors.Is(err, filters.ErrCredentialUnavailable) {
		p.warnCredential(route, r, err, "credential unavailable, requests on this route fail with 503")
		http.Error(w, fmt.Sprintf("%s: no usable credential for route %q", http.StatusText(code), route.Name()), code)
		return
	}
	fields := logrus.Fields{fieldRoute: route.Name(), fieldHost: r.Host, fieldError: err}
	if route.Backend.URL != nil {
		fields[fieldBackend] = route.Backend.URL.Host
	}
	if _, ok := forwardStatus(err); ok {
		w.decide(audit.DecisionDenied)
		// The log names the address a refused name resolved to; the client is told why, in
		// its own terms (see forwardReason).
		p.log.WithFields(fields).Warn("forward proxy request refused")
		http.Error(w, http.StatusText(code)+": "+forwardReason(err), code)
		return
	}
	p.log.WithFields(fields).Error("request failed")
	http.Error(w, http.StatusText(code), code)
}

// recordInjection takes the credential uses that f, the i-th filter of route, recorded in ex,
// and counts why a credential filter failed.
func (p *Proxy) recordInjection(w *responseRecorder, ex *filters.Exchange, route *routing.Route, i int, f filters.Filter, err error) {
	p.takeUses(w, ex, route)
	if err == nil {
		return
	}
	if _, ok := f.(filters.SecretUser); ok {
		name := route.Def.Filters[i].Name // Compile builds Filters from Def.Filters, one for one
		p.metrics.InjectionFailed(name, metrics.FailureReason(err))
	}
}

// warnCredential logs that route's credential is unavailable, at most once per
// credentialWarnEvery: on a busy route every request fails the same way. The error names the
// secret's path and why it is unusable, never its value.
func (p *Proxy) warnCredential(route *routing.Route, r *http.Request, err error, msg string) {
	if p.shouldWarn(route.ID) {
		p.log.WithFields(logrus.Fields{fieldRoute: route.Name(), fieldHost: r.Host, fieldError: err}).Warn(msg)
	}
}

// shouldWarn reports whether the credential warning for routeID is due, and if so records that it
// is being logged now.
func (p *Proxy) shouldWarn(routeID string) bool {
	v, _ := p.warned.LoadOrStore(routeID, new(atomic.Int64))
	last := v.(*atomic.Int64)
	now := p.now().UnixNano()
	prev := last.Load()
	if prev != 0 && now-prev < int64(credentialWarnEvery) {
		return false
	}
	return last.CompareAndSwap(prev, now)
}
