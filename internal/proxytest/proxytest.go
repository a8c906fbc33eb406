// Package proxytest runs the real proxy handler in tests: routes from eskip text, the built-in
// filters over a real secrets store, and an httptest server on loopback in front of it.
package proxytest

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/filters/ratelimit"
	"github.com/skipper-egress/skipper/internal/audit"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/syncbuf"
	"github.com/skipper-egress/skipper/routing"
	"github.com/skipper-egress/skipper/secrets"
)

// Options tunes a test proxy. The zero value is a proxy with default transport settings and no
// credentials paths.
type Options struct {
	// CredentialsPaths are handed to the secrets store.
	CredentialsPaths []string
	// Transport replaces the default backend transport options.
	Transport proxy.TransportOptions
	// CredentialsFailOpen, PreserveHost, NormalizeHost and NoRouteStatus are handed to the proxy.
	CredentialsFailOpen bool
	PreserveHost        bool
	NormalizeHost       bool
	NoRouteStatus       int
	// TLS serves HTTPS with a certificate for 127.0.0.1 and localhost, offering HTTP/2 and
	// HTTP/1.1; Client trusts it.
	TLS bool
	// MaxHeaderBytes is the server's MaxHeaderBytes; zero means Go's default.
	MaxHeaderBytes int
	// Forward configures the forward proxy, which the test proxy runs as main does; see Guard
	// for an SSRF guard that never leaves loopback.
	Forward proxy.ForwardOptions
	// RateLimits hands out the rate limit filters' limiters; if nil, a registry without Redis
	// of the proxy's own.
	RateLimits *ratelimit.Registry
	// Breakers holds the circuit breakers; if nil, a registry of the proxy's own, so that
	// breaker filters work as in production.
	Breakers *circuit.Registry
	// MaxLoopbacks is handed to the proxy; zero means its default of 9.
	MaxLoopbacks int
	// ForwardedHeaders is handed to the proxy; the zero value adds none.
	ForwardedHeaders proxy.ForwardedHeaders
	// AccessLogDisabled is handed to the proxy: only enableAccessLog routes log requests.
	AccessLogDisabled bool
	// Audit, if set, is handed to the proxy and run until the test ends.
	Audit *audit.Log
	// MaskEchoedCredentials is handed to the proxy.
	MaskEchoedCredentials bool
	// Tracer is handed to the proxy, and Baggage to routing.Compile (OTelBaggage).
	Tracer  proxy.Tracer
	Baggage func(r *http.Request, key string) bool
	// FilterClock is the clock of the filters that keep time (physicsShedder); nil for time.Now.
	FilterClock func() time.Time
	// SigV4MaxBodyBytes is handed to the SigV4 filters; zero means their default.
	SigV4MaxBodyBytes int64
	// OAuth2StateDir is the token manager's StateDir (-oauth2-state-dir).
	OAuth2StateDir string
	// CredentialsBind and RequireBinding are -credentials-bind and
	// -credentials-require-binding: they and the SECRET.hosts files in the store say where
	// secrets may go, at compile time and per request, as in main.
	CredentialsBind []string
	RequireBinding  bool
	// ForwardReportOnly and WouldDeny are handed to the proxy (-forward-report-only).
	ForwardReportOnly bool
	WouldDeny         func(r *http.Request, reason string)
}

// Proxy is a running test proxy. Its server's listener is the proxy's own Listener, so request
// framing is checked as in production.
type Proxy struct {
	*httptest.Server
	Store     *secrets.Store
	Router    *routing.Router
	Handler   *proxy.Proxy
	Transport *proxy.Transport
	Forwarder *proxy.Forwarder // running until the test ends or StopForwarder
	stopFwd   func()
	log       *syncbuf.Buffer
	client    *http.Client // sends no Accept-Encoding of its own
}

// New starts a proxy serving routes, which must parse and compile without errors. Everything it
// starts is stopped when the test ends; the server's Close waits for the handlers to return.
func New(t testing.TB, routes string, opts Options) *Proxy {
	t.Helper()
	logBuf := &syncbuf.Buffer{}
	log := logrus.New()
	log.SetOutput(logBuf)
	log.SetLevel(logrus.DebugLevel)

	store, err := secrets.NewStore(secrets.Options{Paths: opts.CredentialsPaths, Log: log})
	if err != nil {
		t.Fatalf("secrets.NewStore: %v", err)
	}
	tokens, err := filters.NewTokenManager(filters.TokenManagerOptions{Secrets: store, Log: log, StateDir: opts.OAuth2StateDir})
	if err != nil {
		t.Fatalf("filters.NewTokenManager: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.Run(ctx) //nolint:errcheck // Run only returns when ctx is done
	}()
	tokensDone := make(chan struct{})
	go func() {
		defer close(tokensDone)
		tokens.Run(ctx) //nolint:errcheck // Run only returns when ctx is done
	}()

	bindings, err := secrets.NewBindings(secrets.BindingOptions{Flags: opts.CredentialsBind, Hosts: store, Require: opts.RequireBinding})
	if err != nil {
		t.Fatalf("secrets.NewBindings: %v", err)
	}
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{Secrets: store, Tokens: tokens, RateLimits: opts.RateLimits,
		SigV4MaxBodyBytes: opts.SigV4MaxBodyBytes, Log: log, Now: opts.FilterClock, Bindings: bindings})...)
	if err != nil {
		t.Fatalf("filters.NewRegistry: %v", err)
	}
	defs, err := routing.Parse("test", routes)
	if err != nil {
		t.Fatalf("parsing routes: %v", err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg, Log: log, TeeKey: filters.TeeLoopbackKey,
		Baggage: opts.Baggage, Bindings: bindings})
	if len(errs) > 0 {
		t.Fatalf("compiling routes: %v", errs)
	}
	router := routing.NewRouter()
	router.Swap(table)

	transport := proxy.NewTransport(opts.Transport)
	transportDone := make(chan struct{})
	go func() {
		defer close(transportDone)
		transport.Run(ctx) //nolint:errcheck // Run only returns when ctx is done
	}()
	fwdOpts := opts.Forward
	if fwdOpts.Log == nil {
		fwdOpts.Log = log
	}
	fwd, err := proxy.NewForwarder(fwdOpts)
	if err != nil {
		t.Fatalf("proxy.NewForwarder: %v", err)
	}
	fwdCtx, stopFwd := context.WithCancel(ctx)
	fwdDone := make(chan struct{})
	go func() {
		defer close(fwdDone)
		fwd.Run(fwdCtx) //nolint:errcheck // Run only returns when fwdCtx is done
	}()
	breakers := opts.Breakers
	if breakers == nil {
		breakers = circuit.NewRegistry(circuit.Options{})
	}
	handler := proxy.New(proxy.Options{
		Router:    router,
		Transport: transport,
		Log:       log,
		AccessLog: logBuf,

		CredentialsFailOpen: opts.CredentialsFailOpen,
		PreserveHost:        opts.PreserveHost,
		NormalizeHost:       opts.NormalizeHost,
		NoRouteStatus:       opts.NoRouteStatus,
		Forward:             fwd,
		Breakers:            breakers,
		MaxLoopbacks:        opts.MaxLoopbacks,
		ForwardedHeaders:    opts.ForwardedHeaders,
		AccessLogDisabled:   opts.AccessLogDisabled,
		Audit:               opts.Audit,
		Bindings:            bindings,
		ForwardReportOnly:   opts.ForwardReportOnly,
		WouldDeny:           opts.WouldDeny,

		MaskEchoedCredentials: opts.MaskEchoedCredentials,
		Tracer:                opts.Tracer,
	})
	auditDone := make(chan struct{})
	go func() {
		defer close(auditDone)
		opts.Audit.Run(ctx) //nolint:errcheck // Run only returns when ctx is done; nil does nothing
	}()
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.MaxHeaderBytes = opts.MaxHeaderBytes
	srv.Config.ConnContext = handler.ConnContext
	clientTransport := &http.Transport{DisableCompression: true}
	lopts := proxy.ListenerOptions{MaxHeaderBytes: opts.MaxHeaderBytes}
	if opts.TLS {
		cert, pool := NewCert(t, "127.0.0.1", "localhost")
		lopts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		clientTransport.TLSClientConfig = &tls.Config{RootCAs: pool}
		clientTransport.ForceAttemptHTTP2 = true
	}
	srv.Listener = handler.Listener(srv.Listener, lopts)
	srv.Start()
	if opts.TLS {
		srv.URL = "https://" + srv.Listener.Addr().String()
	}
	t.Cleanup(func() {
		srv.Close()
		transport.CloseIdleConnections()
		cancel()
		<-done
		<-tokensDone
		<-fwdDone
		<-auditDone
		<-transportDone
	})
	client := &http.Client{Transport: clientTransport}
	t.Cleanup(client.CloseIdleConnections)
	return &Proxy{Server: srv, Store: store, Router: router, Handler: handler, Transport: transport, Forwarder: fwd,
		stopFwd: func() { stopFwd(); <-fwdDone }, log: logBuf, client: client}
}

// StopForwarder ends the Forwarder's Run, as main does at shutdown, and returns once it has
// returned: every tunnel has ended.
func (p *Proxy) StopForwarder() { p.stopFwd() }

// Client returns a client for the proxy: it asks for no compression, and trusts the proxy's
// certificate when Options.TLS is set.
func (p *Proxy) Client() *http.Client { return p.client }

// Log returns everything logged so far: the application log and the access log.
func (p *Proxy) Log() string { return p.log.String() }

// Do sends a request for url (a path, sent to the proxy) with the given Host and headers, given
// as name, value pairs, and returns the response with its body read.
func (p *Proxy) Do(t testing.TB, method, host, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading response body: %v", err)
	}
	return res, string(body)
}
