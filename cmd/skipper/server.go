package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/connlimit"
	"github.com/skipper-egress/skipper/internal/logging"
	"github.com/skipper-egress/skipper/internal/metrics"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/tlsreload"
	"github.com/skipper-egress/skipper/internal/tracing"
	"github.com/skipper-egress/skipper/routing"
	"github.com/skipper-egress/skipper/secrets"
)

// drainTimeout bounds how long in-flight requests may take to finish after shutdown begins.
const drainTimeout = 30 * time.Second

// transportOptions are the backend transport's settings from the command line; the forward
// proxy's <dynamic> routes use them too.
func transportOptions(cfg Config) (proxy.TransportOptions, error) {
	roots, err := proxy.SystemRootsWith(cfg.BackendCAFile)
	if err != nil {
		return proxy.TransportOptions{}, fmt.Errorf("-backend-ca-file: %w", err)
	}
	return proxy.TransportOptions{
		DialTimeout:           cfg.TimeoutBackend,
		TLSHandshakeTimeout:   cfg.TLSTimeoutBackend,
		ResponseHeaderTimeout: cfg.ResponseHeaderTimeoutBackend,
		ExpectContinueTimeout: cfg.ExpectContinueTimeoutBackend,
		IdleConnsPerHost:      cfg.IdleConnsNum,
		MaxIdleConns:          cfg.MaxIdleConnsBackend,
		CloseIdleConnsPeriod:  cfg.CloseIdleConnsPeriod,
		RootCAs:               roots,

		MaxResponseHeaderBytes: cfg.MaxResponseHeaderBytes,
	}, nil
}

// newProxy builds the request handler from the command line. Validate has checked the forwarded
// headers flags.
func newProxy(cfg Config, router *routing.Router, transport http.RoundTripper, fwd *proxy.Forwarder,
	breakers *circuit.Registry, bindings *secrets.Bindings, m *metrics.Metrics, log logrus.FieldLogger, accessOut io.Writer,
	auditLog *audit.Log, tracer *tracing.Tracer) *proxy.Proxy {
	opts := proxy.Options{
		Forward:             fwd,
		Breakers:            breakers,
		Bindings:            bindings,
		ForwardReportOnly:   cfg.ForwardReportOnly,
		Router:              router,
		Transport:           transport,
		Log:                 log,
		CredentialsFailOpen: cfg.CredentialsFailOpen,
		PreserveHost:        cfg.ProxyPreserveHost,
		NormalizeHost:       cfg.NormalizeHost,
		NoRouteStatus:       cfg.DefaultHTTPStatus,
		MaxLoopbacks:        maxLoopbacks(cfg.MaxLoopbacks),
		Metrics:             m,
		AccessLogJSON:       cfg.AccessLogJSON,
		AccessLogDisabled:   cfg.AccessLogDisabled,
		AccessLog:           accessOut,
		Audit:               auditLog,

		MaskEchoedCredentials: cfg.MaskEchoedCredentials,
	}
	opts.ForwardedHeaders, _ = cfg.forwardedHeaders()
	if tracer != nil { // not a nil *Tracer in the interface: the proxy checks for nil
		opts.Tracer = tracer
	}
	if cfg.ForwardReportOnly {
		log.Warn("-forward-report-only: forward-proxy requests that no route allows are sent on without credentials, and logged as would-be denials")
	}
	return proxy.New(opts)
}

// newServer builds the HTTP server. It speaks HTTP/1.1, and HTTP/2 to clients that choose it
// in a TLS handshake. The handler's ConnContext gives HTTP/1.1 requests over the TLS its
// Listener terminates their TLS state.
func newServer(cfg Config, handler *proxy.Proxy, log *logrus.Logger) *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	return &http.Server{
		Handler:           handler,
		ConnContext:       handler.ConnContext,
		Protocols:         &protocols,
		ReadTimeout:       cfg.ReadTimeoutServer,
		ReadHeaderTimeout: cfg.ReadHeaderTimeoutServer,
		WriteTimeout:      cfg.WriteTimeoutServer,
		IdleTimeout:       cfg.IdleTimeoutServer,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          logging.StdLogger(log, logrus.WarnLevel),
	}
}

// newClientCert loads the -client-tls-cert and -client-tls-key pairs, which every https backend
// is shown, through a secrets store of their own: it watches the files as the credentials store
// does, and rescans them every -client-tls-cert-refresh-interval. It fails, naming the files,
// when a pair does not load; it returns nils when there are none.
func newClientCert(cfg Config, log logrus.FieldLogger) (*secrets.Store, filters.ClientCertifier, error) {
	if len(cfg.ClientTLSCert) == 0 {
		return nil, nil, nil
	}
	paths := append(slices.Clone(cfg.ClientTLSCert), cfg.ClientTLSKey...)
	store, err := secrets.NewStore(secrets.Options{Paths: paths, UpdateInterval: cfg.ClientTLSCertRefresh, Log: log})
	if err != nil {
		return nil, nil, fmt.Errorf("-client-tls-cert: %w", err)
	}
	src, err := filters.NewClientCertSource(store, "-client-tls-cert", cfg.ClientTLSCert, cfg.ClientTLSKey, log)
	if err != nil {
		return nil, nil, err
	}
	if _, err := src.ClientIdentity(); err != nil {
		return nil, nil, err
	}
	return store, src, nil
}

// newCerts loads the -tls-cert and -tls-key pairs; nil when there are none.
func newCerts(cfg Config, log logrus.FieldLogger) (*tlsreload.Reloader, error) {
	if len(cfg.TLSCert) == 0 {
		return nil, nil
	}
	certs, err := tlsreload.New(tlsreload.Options{CertFiles: cfg.TLSCert, KeyFiles: cfg.TLSKey, Log: log})
	if err != nil {
		return nil, fmt.Errorf("-tls-cert: %w", err)
	}
	return certs, nil
}

// listen opens the listening socket, with TLS when certs is set. The number of client
// connections is limited as conns says, outside TLS, so that handshakes count; request framing
// is checked on every connection. The server must report connection states to the returned
// connlimit.Listener.
func listen(cfg Config, p *proxy.Proxy, certs *tlsreload.Reloader, conns connlimit.Options) (net.Listener, *connlimit.Listener, error) {
	ln, err := listenOn("address", cfg.Address)
	if err != nil {
		return nil, nil, err
	}
	limited := connlimit.New(ln, conns)
	opts := proxy.ListenerOptions{MaxHeaderBytes: cfg.MaxHeaderBytes, HandshakeTimeout: cfg.ReadHeaderTimeoutServer}
	if certs != nil {
		opts.TLS = &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
	}
	return p.Listener(limited, opts), limited, nil
}

// stopper shuts the server down on a signal.
type stopper struct {
	server *http.Server
	// wait is how long to keep serving after SIGTERM before shutting down.
	wait time.Duration
	// onDrain is called first thing on a stop signal, to fail the readiness check.
	onDrain func()
	// stopAccepting closes the server's listener before Shutdown does and has every answer
	// from then on ask its client to close the connection, so that the open connections drain
	// while no new one comes; conns tells when none is left. With either nil, Shutdown follows
	// the wait at once.
	stopAccepting func() error
	conns         *connCounter
	log           logrus.FieldLogger
}

// stop shuts the server down after sig: it calls onDrain and, on SIGTERM (SIGINT is someone at
// a terminal), keeps serving for the wait, then stops accepting connections and gives those
// still open up to keepAliveDrain to carry one more request each, answered with Connection:
// close. Only then does it close the connections still idle and wait up to drainTimeout for
// in-flight requests to finish. So a client that keeps sending on its keep-alive connection gets
// whole answers and the request to close, never an EOF; when it connects again it is refused
// before it sent anything. Another signal from more at any point closes every connection at
// once.
func (s stopper) stop(sig os.Signal, more <-chan os.Signal) error {
	s.onDrain()
	if sig == syscall.SIGTERM && s.wait > 0 {
		s.log.Infof("%s: draining, still serving for %s before shutting down", sig, s.wait)
		if again := s.pause(s.wait, nil, more); again != nil {
			return s.closeNow(again)
		}
	}
	if sig == syscall.SIGTERM && s.stopAccepting != nil && s.conns != nil {
		if err := s.stopAccepting(); err != nil {
			s.log.WithError(err).Warn("Closing the listener")
		}
		if again := s.pause(keepAliveDrain, s.conns.none(), more); again != nil {
			return s.closeNow(again)
		}
	}
	s.log.Info("Shutting down, waiting for in-flight requests")
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.server.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			s.log.WithError(err).Warn("Closing connections that did not finish in time")
			return s.server.Close()
		}
		return nil
	case again := <-more:
		cancel()
		<-done
		return s.closeNow(again)
	}
}

// pause waits for d to pass or done to be closed (nil: never), and returns nil; or it returns
// the signal that came from more first.
func (s stopper) pause(d time.Duration, done <-chan struct{}, more <-chan os.Signal) os.Signal {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-done:
	case again := <-more:
		return again
	}
	return nil
}

// closeNow closes every connection at once, after a second signal.
func (s stopper) closeNow(again os.Signal) error {
	s.log.Warnf("%s again: closing all connections now", again)
	return s.server.Close()
}

// maxLoopbacks turns the flag into proxy.Options.MaxLoopbacks, where zero means the default and a
// negative number means none: -max-loopbacks=0 allows no loopback.
func maxLoopbacks(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
