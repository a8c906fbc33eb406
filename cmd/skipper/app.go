package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/connlimit"
	"github.com/skipper-egress/skipper/internal/metrics"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/routesrc"
	"github.com/skipper-egress/skipper/internal/sdnotify"
	"github.com/skipper-egress/skipper/internal/support"
	"github.com/skipper-egress/skipper/internal/tlsreload"
	"github.com/skipper-egress/skipper/internal/tracing"
	"github.com/skipper-egress/skipper/routing"
	"github.com/skipper-egress/skipper/secrets"
)

// app is skipper assembled from its command line: every component built and both listeners
// open, nothing running yet.
type app struct {
	cfg Config
	log *logrus.Logger

	store     *secrets.Store
	tokens    *filters.TokenManager
	routes    *routesrc.Loader
	transport *proxy.Transport
	forward   *proxy.Forwarder
	handler   *proxy.Proxy
	audit     *audit.Log          // nil without -audit-log
	certs     *tlsreload.Reloader // nil without -tls-cert
	clientTLS *secrets.Store      // the -client-tls-cert files; nil without
	server    *http.Server
	ln        net.Listener
	support   *supportListener // nil when -support-listener is empty
	debug     *supportListener // nil when -debug-listener is empty
	limits    *limits
	state     support.State
	conns     connCounter     // of server
	tracer    *tracing.Tracer // nil without -open-telemetry
	stopTrace func()          // flushes and stops the tracer
}

// newApp builds every component in dependency order: secrets, filters, routes, then the proxy
// and its listeners. On error nothing is left open: components that watch files or run timers
// start only in run, and what holds a socket is closed here.
func newApp(cfg Config, log *logrus.Logger, stdout, accessOut io.Writer) (_ *app, err error) {
	a := &app{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.closeSockets()
		}
	}()
	a.store, err = secrets.NewStore(secrets.Options{
		Paths:          cfg.CredentialsPaths,
		UpdateInterval: cfg.CredentialsUpdateInterval,
		Log:            log,
	})
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	a.tokens, err = filters.NewTokenManager(filters.TokenManagerOptions{Secrets: a.store, Log: log, StateDir: cfg.OAuth2StateDir})
	if err != nil {
		return nil, err
	}
	mopts, _ := cfg.metricsOptions() // Validate has checked them
	m := metrics.NewWithOptions(mopts)
	if a.limits, err = newLimits(cfg, m.Registry(), log); err != nil {
		return nil, err
	}
	bindings, err := newBindings(cfg, a.store, true)
	if err != nil {
		return nil, err
	}
	registry, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{
		Secrets: a.store, Tokens: a.tokens, RateLimits: a.limits.rates, Log: log, Bindings: bindings,
		SigV4MaxBodyBytes: cfg.SigV4MaxBodyBytes,
	})...)
	if err != nil {
		return nil, err
	}
	if err := m.RegisterSecrets(a.store); err != nil {
		return nil, err
	}
	if a.tracer, a.stopTrace, err = newTracing(cfg, log); err != nil {
		return nil, err
	}
	var baggage func(*http.Request, string) bool
	if a.tracer != nil {
		baggage = tracing.HasBaggage
	}
	router := routing.NewRouter()
	forward, err := forwardBackend(cfg.ForwardBackendURL, log)
	if err != nil {
		return nil, err
	}
	changes, _ := cfg.routeChanges() // Validate has checked them
	changes.Bindings = bindings
	a.routes, err = routesrc.New(routesrc.Options{
		Inline:         cfg.InlineRoutes,
		File:           cfg.RoutesFile,
		URLs:           cfg.RoutesURLs,
		PollInterval:   cfg.SourcePollTimeout,
		Filters:        registry,
		Changes:        changes,
		Router:         router,
		Log:            log,
		Report:         func(r routesrc.Result) { routesLoaded(r, m, &a.state, a.store, log) },
		ShuttingDown:   a.state.Draining,
		ForwardBackend: forward,
		Baggage:        baggage,
	})
	if err != nil {
		return nil, err
	}
	topts, err := transportOptions(cfg)
	if err != nil {
		return nil, err
	}
	if a.clientTLS, topts.ClientCert, err = newClientCert(cfg, log); err != nil {
		return nil, err
	}
	a.transport = proxy.NewTransport(topts)
	if a.forward, err = newForward(cfg, topts, m, a.store, log); err != nil {
		return nil, err
	}
	if a.certs, err = newCerts(cfg, log); err != nil {
		return nil, err
	}
	if cfg.AuditLog != "" {
		if a.audit, err = audit.Open(cfg.AuditLog, stdout, accessOut, log); err != nil {
			return nil, err
		}
		if err := m.RegisterAuditDrops(a.audit.Dropped); err != nil {
			return nil, err
		}
	}
	a.handler = newProxy(cfg, router, a.transport, a.forward, a.limits.breakers, bindings, m, log, accessOut, a.audit, a.tracer)
	a.server = newServer(cfg, a.handler, log)
	connOpts := cfg.connLimits(connlimit.FileLimit())
	var conns *connlimit.Listener
	if a.ln, conns, err = listen(cfg, a.handler, a.certs, connOpts); err != nil {
		return nil, err
	}
	// Idle connections make room at the limit; the count tells the drain when none is left.
	a.server.ConnState = a.conns.hook(conns.ConnState)
	if err := watchConns(conns, connOpts, m.Registry(), log); err != nil {
		return nil, err
	}
	if a.support, err = listenSupport(cfg, m, router, &a.state, log); err != nil {
		return nil, err
	}
	if a.debug, err = listenDebug(cfg, log); err != nil {
		return nil, err
	}
	return a, nil
}

// closeSockets releases what newApp opened when a later step fails: the listeners and the Redis
// client, which nothing has used yet.
func (a *app) closeSockets() {
	if a.ln != nil {
		a.ln.Close() //nolint:errcheck // nothing was served on it
	}
	if a.support != nil {
		a.support.ln.Close() //nolint:errcheck // nothing was served on it
	}
	a.limits.close() //nolint:errcheck // nothing was sent on it
	if a.stopTrace != nil {
		a.stopTrace()
	}
}

// run starts the background components, serves until a signal arrives on stop, and shuts down.
// It returns once everything it started has stopped.
func (a *app) run(stop <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		if err := a.limits.close(); err != nil {
			a.log.WithError(err).Warn("closing the redis client")
		}
		a.stopTrace() // after the last request: its spans are exported
	}()
	a.background(ctx, &wg)

	// Logged once everything is in place: tests and supervisors take this line as readiness.
	a.log.Infof("Listening on %s", a.ln.Addr())
	ln := &onceCloseListener{Listener: a.ln}
	stopAccepting := func() error {
		err := ln.Close() // first: a client told to close connects again to no listener
		a.handler.Drain()
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.server.Serve(ln) }()
	notify(a.log, sdnotify.Ready)
	select {
	case err := <-serveErr:
		return err
	case sig := <-stop:
		return stopper{server: a.server, wait: a.cfg.WaitForHealthcheckInterval, onDrain: a.drain,
			stopAccepting: stopAccepting, conns: &a.conns, log: a.log}.stop(sig, stop)
	}
}

// background starts, on wg, every component that works while skipper serves: the watchers of
// secrets, tokens, routes and certificates, the idle-connection sweepers of the backend and
// forward-proxy transports (the latter also ends the tunnels when ctx is done), the support
// listener and the SIGHUP handler.
func (a *app) background(ctx context.Context, wg *sync.WaitGroup) {
	logStopped := func(what string, err error) {
		if err != nil {
			a.log.WithError(err).Errorf("%s stopped", what)
		}
	}
	wg.Go(func() { logStopped("Credentials watcher", a.store.Run(ctx)) })
	wg.Go(func() { logStopped("OAuth2 token manager", a.tokens.Run(ctx)) })
	wg.Go(func() { logStopped("Routes watcher", a.routes.Run(ctx)) })
	wg.Go(func() { logStopped("Backend transport", a.transport.Run(ctx)) })
	wg.Go(func() { logStopped("Forward proxy", a.forward.Run(ctx)) })
	wg.Go(func() { logStopped("Audit log", a.audit.Run(ctx)) }) // nil: returns at once
	if a.certs != nil {
		wg.Go(func() { logStopped("Certificate watcher", a.certs.Run(ctx)) })
	}
	if a.clientTLS != nil {
		wg.Go(func() { logStopped("Client certificate watcher", a.clientTLS.Run(ctx)) })
	}
	if a.support != nil {
		wg.Go(func() { serveSupport(ctx, a.support, a.log) })
	}
	if a.debug != nil {
		wg.Go(func() { serveSupport(ctx, a.debug, a.log) })
	}
	// Registered before skipper says it listens, so that an early SIGHUP reloads instead of
	// killing it, SIGHUP's default.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Go(func() {
		defer signal.Stop(hup)
		reloadOnHangup(ctx, hup, a.reload, a.log)
	})
}

// reload re-reads the routes file, the credentials and the TLS certificates, the client's too.
func (a *app) reload() {
	notify(a.log, sdnotify.Reloading)
	a.routes.Reload()
	a.store.Refresh()
	a.audit.Reopen() // after a log rotation
	if a.clientTLS != nil {
		a.clientTLS.Refresh()
	}
	if a.certs != nil {
		a.certs.Reload() //nolint:errcheck // Reload logs what failed
	}
	notify(a.log, sdnotify.Ready)
}

// drain is the first thing a stop signal does: /ready fails, and systemd hears we are stopping.
func (a *app) drain() {
	a.state.SetDraining()
	notify(a.log, sdnotify.Stopping)
}

// forwardBackend parses -forward-backend-url, warning about what it ignores; "" is nil.
func forwardBackend(addr string, log logrus.FieldLogger) (*url.URL, error) {
	if addr == "" {
		return nil, nil
	}
	u, ignored, err := routing.ParseBackendURL(addr)
	if err != nil {
		return nil, fmt.Errorf("-forward-backend-url: %w", err)
	}
	if len(ignored) > 0 {
		log.Warnf("-forward-backend-url: %s ignored: requests keep their own path", strings.Join(ignored, " and "))
	}
	return u, nil
}
