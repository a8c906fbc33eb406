// Package proxytest runs the real proxy handler in tests: routes from eskip text, the built-in
// filters over a real secrets store, and an httptest server on loopback in front of it.
package proxytest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxy"
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
	// CredentialsFailOpen is handed to the proxy.
	CredentialsFailOpen bool
}

// Proxy is a running test proxy.
type Proxy struct {
	*httptest.Server
	Store  *secrets.Store
	Router *routing.Router
	log    *syncBuffer
	client *http.Client // for Do: sends no Accept-Encoding of its own
}

// New starts a proxy serving routes, which must parse and compile without errors. Everything it
// starts is stopped when the test ends.
func New(t testing.TB, routes string, opts Options) *Proxy {
	t.Helper()
	logBuf := &syncBuffer{}
	log := logrus.New()
	log.SetOutput(logBuf)
	log.SetLevel(logrus.DebugLevel)

	store, err := secrets.NewStore(secrets.Options{Paths: opts.CredentialsPaths, Log: log})
	if err != nil {
		t.Fatalf("secrets.NewStore: %v", err)
	}
	tokens, err := filters.NewTokenManager(filters.TokenManagerOptions{Secrets: store, Log: log})
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

	reg, err := filters.NewRegistry(filters.Builtins(store, tokens)...)
	if err != nil {
		t.Fatalf("filters.NewRegistry: %v", err)
	}
	defs, err := routing.Parse("test", routes)
	if err != nil {
		t.Fatalf("parsing routes: %v", err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg, Log: log})
	if len(errs) > 0 {
		t.Fatalf("compiling routes: %v", errs)
	}
	router := routing.NewRouter()
	router.Swap(table)

	handler := proxy.New(proxy.Options{
		Router:    router,
		Transport: proxy.NewTransport(opts.Transport),
		Log:       log,
		AccessLog: logBuf,

		CredentialsFailOpen: opts.CredentialsFailOpen,
	})
	srv := httptest.NewServer(handler)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		<-tokensDone
	})
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	return &Proxy{Server: srv, Store: store, Router: router, log: logBuf, client: client}
}

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

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
