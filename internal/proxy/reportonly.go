package proxy

import (
	"net/http"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/routing"
)

// ReportOnlyRouteID is the route id under which -forward-report-only sends on the forward-proxy
// requests that no route allows: in the access log, the metrics and the application log.
const ReportOnlyRouteID = "forwardReportOnly"

// newReportOnlyRoute returns the route the requests that report-only lets through are served by:
// <dynamic>, without filters, so that they go to the destination the client named, through the
// SSRF guard, without any credential.
func newReportOnlyRoute() *routing.Route {
	defs, err := routing.Parse("", ReportOnlyRouteID+`: * -> <dynamic>`)
	if err != nil {
		panic("proxy: report-only route: " + err.Error())
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{})
	if len(errs) > 0 || table.Len() != 1 {
		panic("proxy: report-only route does not compile")
	}
	return table.Routes()[0]
}

// passForward sends on, under -forward-report-only, a forward-proxy request that would have been
// denied for reason: as the report-only route (see newReportOnlyRoute), a CONNECT as a blind
// tunnel. WouldDeny hears of it first.
func (p *Proxy) passForward(w *responseRecorder, r *http.Request, reason string) {
	p.log.WithFields(logrus.Fields{fieldHost: r.Host, "method": r.Method, "remote": r.RemoteAddr}).
		Warnf("forward proxy request would be denied: %s; sent on without credentials (report-only)", reason)
	w.decide(audit.DecisionWouldDeny)
	if p.wouldDeny != nil {
		p.wouldDeny(r, reason)
	}
	if r.Method == http.MethodConnect {
		p.connect(w, r, p.reportOnly)
		return
	}
	p.serveRoute(w, r, r, p.reportOnly, 0)
}
