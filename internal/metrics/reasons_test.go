package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/secrets"
)

// mapSource is a filters.SecretSource over fixed values and errors.
type mapSource struct {
	values map[string]string
	errs   map[string]error
}

func (s mapSource) Get(name string) (secrets.Secret, error) {
	if err, ok := s.errs[name]; ok {
		return nil, err
	}
	if v, ok := s.values[name]; ok {
		return secrets.Secret(v), nil
	}
	return nil, fmt.Errorf("secret %q: %w", name, secrets.ErrNotFound)
}

// filterError runs spec's filter with args on a request and returns its error.
func filterError(t *testing.T, spec filters.Spec, args ...any) error {
	t.Helper()
	f, err := spec.Create(args)
	if err != nil {
		t.Fatalf("%s.Create: %v", spec.Name(), err)
	}
	return f.Request(httptest.NewRequest(http.MethodGet, "http://example.org/", nil))
}

func TestFailureReason(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "present")
	if err := os.WriteFile(present, []byte(canarySecret), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := secrets.NewStore(secrets.Options{Paths: []string{dir}, NoWatch: true})
	if err != nil {
		t.Fatalf("secrets.NewStore: %v", err)
	}
	src := mapSource{
		values: map[string]string{
			"empty": "", "crlf": canarySecret + "\r\n", "user:colon": "a:b", "pass": "p",
		},
		errs: map[string]error{"broken": errors.New("backend of the source is down")},
	}
	bearer := filters.NewBearerInjector(src)
	notFound := filterError(t, filters.NewBearerInjector(store), filepath.Join(dir, "missing"))

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"missing file in a real store", notFound, ReasonNotFound},
		{"wrapped", fmt.Errorf("route gh: %w", notFound), ReasonNotFound},
		{"empty value", filterError(t, bearer, "empty"), ReasonEmptyValue},
		{"control character", filterError(t, bearer, "crlf"), ReasonControlCharacter},
		{"source failed", filterError(t, bearer, "broken"), ReasonOther},
		{"basic auth user with colon", filterError(t, filters.NewBasicAuthFromSecret(src), "user:colon", "pass"), ReasonOther},
		{"token endpoint", &filters.TokenError{TokenURL: "https://auth.example.org/token", Reason: "HTTP status 401"}, ReasonTokenEndpoint},
		{"token request without its client secret", &filters.TokenError{TokenURL: "https://auth.example.org/token", Reason: "secret", Err: notFound}, ReasonNotFound},
		{"bare not found", secrets.ErrNotFound, ReasonNotFound},
		{"unrelated", errors.New("boom"), ReasonOther},
		{"nil", nil, ReasonOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FailureReason(tc.err); got != tc.want {
				t.Errorf("FailureReason(%v): got %q, want %q", tc.err, got, tc.want)
			}
		})
	}
	if got := filterError(t, filters.NewBearerInjector(store), present); got != nil {
		t.Errorf("present secret: got %v, want no error", got)
	}
}

func TestBackendErrorKind(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"connection refused", roundTripError(t, refusedAddr(t), nil), KindDial},
		{"no response headers in time", roundTripError(t, stalledBackend(t), nil), KindTimeout},
		{"request deadline", roundTripError(t, stalledBackend(t), deadline(t, 50*time.Millisecond)), KindTimeout},
		{"closed without answering", roundTripError(t, closingBackend(t, false), nil), KindReset},
		{"reset without answering", roundTripError(t, closingBackend(t, true), nil), KindReset},
		{"unrelated", errors.New("boom"), KindOther},
		{"nil", nil, KindOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BackendErrorKind(tc.err); got != tc.want {
				t.Errorf("BackendErrorKind(%v): got %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// roundTripError sends a GET to addr with a transport that waits at most 200ms for response
// headers, and returns its error, failing the test if there is none.
func roundTripError(t *testing.T, addr string, ctx context.Context) error {
	t.Helper()
	if ctx == nil {
		ctx = context.Background()
	}
	tr := &http.Transport{ResponseHeaderTimeout: 200 * time.Millisecond, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.RoundTrip(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("round trip to %s: got status %d, want an error", addr, res.StatusCode)
	}
	return err
}

func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// refusedAddr returns a loopback address where nothing listens.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// stalledBackend returns the address of a backend that never answers before the test ends.
func stalledBackend(t *testing.T) string {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	return srv.Listener.Addr().String()
}

// closingBackend returns the address of a backend that reads the request and then closes the
// connection without answering; with rst, it resets it instead.
func closingBackend(t *testing.T, rst bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf) //nolint:errcheck // only waiting for the request to arrive
			if rst {
				c.(*net.TCPConn).SetLinger(0) //nolint:errcheck // best effort: RST instead of FIN
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}
