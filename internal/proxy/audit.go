package proxy

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/routing"
)

// credUse is a credential use of one request with the route whose filter made it.
type credUse struct {
	route string // route.Name()
	use   filters.CredentialUse
}

// sentTo is where a request was sent, or was about to be when it failed: the scheme, host:port
// and path of the outgoing request once its destination was final.
type sentTo struct {
	scheme, host, path string
}

// decide records the forward proxy's decision about the request, for the audit log. The first
// decision stands, except that a refusal replaces any other. The report-only mode records
// audit.DecisionWouldDeny through it.
func (w *responseRecorder) decide(d string) {
	if w.decision == "" || d == audit.DecisionDenied {
		w.decision = d
	}
}

// takeUses moves the credential uses that ex holds to w, for the audit log and the masking of
// the response, and counts them in skipper_credential_injections_total.
func (p *Proxy) takeUses(w *responseRecorder, ex *filters.Exchange, route *routing.Route) {
	for _, u := range ex.TakeCredentialUses() {
		p.metrics.Injection(route.ID, u.Filter, u.Result())
		w.uses = append(w.uses, credUse{route: route.Name(), use: u})
	}
}

// writeAudit writes the audit lines of a finished request: one per credential use, and one
// for the forward proxy's decision if r asked for the forward proxy.
func (p *Proxy) writeAudit(r *http.Request, w *responseRecorder, start time.Time) {
	if p.audit == nil || (len(w.uses) == 0 && !isForward(r)) {
		return
	}
	end := p.now()
	base := audit.Entry{
		Time:       end.UTC(),
		Method:     r.Method,
		Path:       r.URL.Path,
		Status:     w.status,
		DurationMS: float64(end.Sub(start).Microseconds()) / 1000,
		Client:     r.RemoteAddr,
		ProxyUser:  w.proxyUser,
	}
	if w.sent.host != "" {
		base.Scheme, base.Path = w.sent.scheme, w.sent.path
		base.Host, base.Port = splitHostPort(w.sent.scheme, w.sent.host)
	} else if r.Method == http.MethodConnect {
		base.Host, base.Port = splitHostPort("", r.Host)
	} else {
		scheme, host := requestTarget(r)
		base.Scheme = scheme
		base.Host, base.Port = splitHostPort(scheme, host)
	}
	if base.Path == "" && r.Method != http.MethodConnect {
		base.Path = "/"
	}
	for _, u := range w.uses {
		e := base
		e.Event, e.Route = audit.EventCredential, u.route
		e.Filter, e.Secret, e.Outcome = u.use.Filter, u.use.Secret, u.use.Result()
		value := u.use.Value
		if len(value) == 0 && u.use.Also == "" {
			value = u.use.Version // a client certificate: its key never leaves
		}
		e.Fingerprint = p.audit.Fingerprint(value, u.use.Also)
		p.audit.Record(&e)
	}
	if isForward(r) {
		e := base
		e.Event, e.Decision, e.Route = audit.EventForward, w.decision, w.routeName
		if e.Decision == "" {
			e.Decision = audit.DecisionAllowed
		}
		p.audit.Record(&e)
	}
}

// splitHostPort returns the host and port of hostport, the port the scheme's default when it
// has none (0 when the scheme has no default).
func splitHostPort(scheme, hostport string) (string, int) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
		switch scheme {
		case "http":
			return host, 80
		case "https":
			return host, 443
		}
		return host, 0
	}
	n, _ := strconv.Atoi(port)
	return host, n
}
