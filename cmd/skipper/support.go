package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/internal/metrics"
	"github.com/skipper-egress/skipper/internal/routesrc"
	"github.com/skipper-egress/skipper/internal/support"
	"github.com/skipper-egress/skipper/routing"
	"github.com/skipper-egress/skipper/secrets"
)

// routesLoaded tells everyone who cares about a load of routes: the metrics, readiness, and
// the check for secrets outside the credentials paths. The inline routes alone, served because
// the routes file is broken at start, are not a load that succeeded: /ready fails until the file
// is fixed.
func routesLoaded(r routesrc.Result, m *metrics.Metrics, state *support.State, store *secrets.Store, log logrus.FieldLogger) {
	if r.Table == nil || r.Fallback {
		m.RoutesApplied(0, r.Invalid, false)
		return
	}
	m.RoutesApplied(r.Table.Len(), r.Invalid, true)
	routes := r.Table.Routes()
	ids := make([]string, len(routes))
	for i, rt := range routes {
		ids[i] = rt.ID
	}
	m.RetainRoutes(ids)
	state.SetRoutesLoaded()
	warnUncoveredSecrets(r.Table, store, log)
}

// listenSupport opens the support listener; nil when -support-listener is empty.
func listenSupport(cfg Config, m *metrics.Metrics, router *routing.Router, state *support.State, log logrus.FieldLogger) (*supportListener, error) {
	if cfg.SupportListener == "" {
		return nil, nil
	}
	ln, err := listenOn("support-listener", cfg.SupportListener)
	if err != nil {
		return nil, err
	}
	log.Infof("Support listener on %s", ln.Addr())
	handler := support.New(support.Options{Metrics: m.Handler(), Router: router, Ready: state.Ready})
	if cfg.EnableProfile {
		handler = withProfiles(handler)
	}
	return &supportListener{ln: ln, server: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}}, nil
}

// supportListener serves /metrics, /healthz, /ready and /routes.
type supportListener struct {
	ln     net.Listener
	server *http.Server
}

// serveSupport serves s until ctx is done. It outlives the main listener's drain on purpose:
// /ready must keep answering 503 while requests drain, and /metrics show the drain.
func serveSupport(ctx context.Context, s *supportListener, log logrus.FieldLogger) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.server.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.WithError(err).Error("Support listener stopped")
		}
	}()
	<-ctx.Done()
	s.server.Close()
	<-done
}

// notify tells systemd about a state change when it runs skipper as a Type=notify service; it
// does nothing elsewhere.
func notify(log logrus.FieldLogger, send func() error) {
	if err := send(); err != nil {
		log.WithError(err).Warn("Cannot notify systemd")
	}
}
