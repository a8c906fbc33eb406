package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestHTTPSWithHTTP2 serves HTTPS from -tls-cert and -tls-key: HTTP/2 for clients that offer it,
// a new certificate as soon as the files change, and a forced re-read on SIGHUP.
func TestHTTPSWithHTTP2(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := proxytest.WriteCert(t, dir, "site", "127.0.0.1", "v1.localhost")
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=* -> "http://%s"`, backend.Addr()), "-tls-cert="+cert, "-tls-key="+key)

	// The client trusts both the first certificate and the one that replaces it.
	cert2, key2, _ := proxytest.WriteCert(t, t.TempDir(), "site", "127.0.0.1", "v2.localhost")
	roots := x509.NewCertPool()
	for _, f := range []string{cert, cert2} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		roots.AppendCertsFromPEM(b)
	}
	// servedName makes a new connection and returns the second name of the certificate it was
	// shown, and the protocol of the answer.
	servedName := func() (string, string) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr}).Get("https://" + p.addr + "/")
		if err != nil {
			t.Fatalf("GET over TLS: %v", err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("got %d, want 200", res.StatusCode)
		}
		return res.TLS.PeerCertificates[0].DNSNames[0], res.Proto
	}
	if name, proto := servedName(); name != "v1.localhost" || proto != "HTTP/2.0" {
		t.Errorf("got certificate %s over %s, want v1.localhost over HTTP/2.0", name, proto)
	}

	copyFile(t, cert2, cert)
	copyFile(t, key2, key)
	poll.Until(t, 10*time.Second, "new certificate served", func() bool {
		name, _ := servedName()
		return name == "v2.localhost"
	})

	loaded := strings.Count(p.Log(), "TLS certificate loaded")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "certificate re-read on SIGHUP", func() bool {
		return strings.Count(p.Log(), "TLS certificate loaded") > loaded
	})
	if name, _ := servedName(); name != "v2.localhost" {
		t.Errorf("after SIGHUP: got certificate %s, want v2.localhost", name)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}

// TestSlowBackendTimesOut: a backend slower than -response-header-timeout-backend gets 504.
func TestSlowBackendTimesOut(t *testing.T) {
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers only when the proxy gives up
	})
	p := start(t, fmt.Sprintf(`-inline-routes=* -> "http://%s"`, backend.Addr()), "-response-header-timeout-backend=200ms")
	res, body := p.get(t, "any", "/")
	if res.StatusCode != http.StatusGatewayTimeout || body != "Gateway Timeout\n" {
		t.Errorf("got %d %q, want 504 \"Gateway Timeout\\n\"", res.StatusCode, body)
	}
}

// TestGracefulShutdownUnderLoad stops skipper while clients keep sending a mix of fast and slow
// (300 ms) requests: every request skipper accepted is answered 200, the others are refused at
// connect, and skipper exits 0. With -wait-for-healthcheck-interval, SIGTERM keeps serving
// that long first; SIGINT never waits.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("runs load against the binary")
	}
	slowOrFast := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(300 * time.Millisecond): // the slowness is the point, not a wait
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "ok")
	}
	tests := []struct {
		name       string
		sig        os.Signal
		wait       time.Duration
		servesOn   bool          // new requests are served for a while after the signal
		exitWithin time.Duration // from the signal
	}{
		{"SIGTERM", syscall.SIGTERM, 0, false, 10 * time.Second},
		{"SIGTERM with wait", syscall.SIGTERM, time.Second, true, 10 * time.Second},
		{"SIGINT skips the wait", os.Interrupt, 20 * time.Second, false, 10 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			backend := proxytest.NewBackend(t, slowOrFast)
			p := startNoCleanup(t, fmt.Sprintf(`-inline-routes=* -> "http://%s"`, backend.Addr()),
				fmt.Sprintf("-wait-for-healthcheck-interval=%s", tc.wait))
			load := startLoad(t, p.addr, 16)
			load.waitOK(t, 100)

			signalled := time.Now()
			if err := p.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if tc.servesOn {
				// Requests sent after the signal, on new connections, are still served.
				for range 5 {
					res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + p.addr + "/fast")
					if err != nil || res.StatusCode != http.StatusOK {
						t.Fatalf("during the wait: got %v %v, want 200", res, err)
					}
					res.Body.Close()
				}
			}
			select {
			case <-p.done:
			case <-time.After(tc.exitWithin):
				p.cmd.Process.Kill()
				t.Fatalf("skipper did not exit within %s of %s:\n%s", tc.exitWithin, tc.sig, p.Log())
			}
			took := time.Since(signalled)
			load.stop()
			if code := p.cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("exit code %d, want 0:\n%s", code, p.Log())
			}
			if tc.servesOn && took < tc.wait {
				t.Errorf("exited %s after the signal, before the %s wait was over", took, tc.wait)
			}
			if !tc.servesOn && took > 5*time.Second {
				t.Errorf("took %s to exit, want it well before the %s wait", took, tc.wait)
			}
			extra := 0
			if tc.servesOn {
				extra = 5
			}
			load.check(t, p, backend, extra)
		})
	}
}

// load is a set of client loops that send requests, each with its own id, until skipper
// refuses connections or a request fails.
type load struct {
	next     atomic.Int64
	mu       sync.Mutex
	answered map[string]bool   // ids answered 200 "ok"
	failed   map[string]string // ids that failed other than at connect, and how
	refused  int
	quit     chan struct{}
	wg       sync.WaitGroup
}

func startLoad(t *testing.T, addr string, clients int) *load {
	l := &load{answered: map[string]bool{}, failed: map[string]string{}, quit: make(chan struct{})}
	client := &http.Client{Timeout: 20 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	for i := range clients {
		l.wg.Go(func() {
			for j := 0; ; j++ {
				select {
				case <-l.quit:
					return
				default:
				}
				path := "/fast"
				if (i+j)%3 == 0 {
					path = "/slow"
				}
				if !l.send(client, "http://"+addr+path) {
					return
				}
			}
		})
	}
	t.Cleanup(l.stop)
	return l
}

// send sends one request and reports whether the loop should go on.
func (l *load) send(client *http.Client, url string) bool {
	id := fmt.Sprint(l.next.Add(1))
	res, err := client.Get(url + "?id=" + id)
	var opErr *net.OpError
	if err == nil {
		var body []byte
		body, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil && (res.StatusCode != http.StatusOK || string(body) != "ok") {
			err = fmt.Errorf("got %d %q", res.StatusCode, body)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err == nil:
		l.answered[id] = true
		return true
	case errors.As(err, &opErr) && opErr.Op == "dial":
		l.refused++ // never accepted: the listener is closed
	default:
		l.failed[id] = err.Error()
	}
	return false
}

// waitOK waits until n requests have been answered.
func (l *load) waitOK(t *testing.T, n int) {
	t.Helper()
	poll.Until(t, 20*time.Second, fmt.Sprintf("%d requests answered", n), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.answered) >= n
	})
}

func (l *load) stop() {
	select {
	case <-l.quit:
	default:
		close(l.quit)
	}
	l.wg.Wait()
}

// check holds the load to the promise of a graceful shutdown: every request that skipper took
// in and passed to the backend was answered 200, and every request skipper logged reached its
// client. (A client sees an accepted request cut short the same way as one that a closing
// keep-alive connection never delivered, and Go's client quietly retries the latter; so the
// backend's record, not the client's errors, tells which requests were accepted.)
func (l *load) check(t *testing.T, p *process, backend *proxytest.Backend, extra int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	cut := 0
	for _, r := range backend.Received() {
		_, id, _ := strings.Cut(r.RequestURI, "?id=")
		if id != "" && !l.answered[id] {
			if cut++; cut <= 3 {
				t.Errorf("request %s reached the backend but its client got no answer: %s", r.RequestURI, l.failed[id])
			}
		}
	}
	if served := strings.Count(p.Log(), `HTTP/1.1" 200 `); served != len(l.answered)+extra {
		t.Errorf("skipper logged %d answers, clients got %d", served, len(l.answered)+extra)
	}
	t.Logf("%d requests answered, %d loops refused at connect, %d requests lost before the backend", len(l.answered), l.refused, len(l.failed))
}

// startNoCleanup is start for tests that stop skipper themselves.
func startNoCleanup(t *testing.T, args ...string) *process {
	t.Helper()
	p := start(t, args...)
	p.stopped = true
	return p
}

// TestServerFlags parses a Skipper-style command line with the listener and backend flags.
func TestServerFlags(t *testing.T) {
	cfg, _, err := parseFlags([]string{
		"-tls-cert=a.crt,b.crt", "-tls-key", "a.key,b.key", "-read-timeout-server=5m", "-write-timeout-server=60s",
		"-max-header-bytes=4096", "-close-idle-conns-period=30", "-remove-hop-headers", "-normalize-host",
		"-proxy-preserve-host=true", "-default-http-status=418", "-idle-conns-num=8", "-max-idle-connection-backend=100",
		"-timeout-backend=2s", "-tls-timeout-backend=3s", "-response-header-timeout-backend=4s",
		"-expect-continue-timeout-backend=5s", "-backend-ca-file=/etc/ca.pem", "-wait-for-healthcheck-interval=45s",
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"tls-cert", cfg.TLSCert, []string{"a.crt", "b.crt"}},
		{"tls-key", cfg.TLSKey, []string{"a.key", "b.key"}},
		{"read-timeout-server", cfg.ReadTimeoutServer, 5 * time.Minute},
		{"write-timeout-server", cfg.WriteTimeoutServer, time.Minute},
		{"max-header-bytes", cfg.MaxHeaderBytes, 4096},
		{"close-idle-conns-period", cfg.CloseIdleConnsPeriod, 30 * time.Second},
		{"remove-hop-headers", cfg.RemoveHopHeaders, true},
		{"normalize-host", cfg.NormalizeHost, true},
		{"proxy-preserve-host", cfg.ProxyPreserveHost, true},
		{"default-http-status", cfg.DefaultHTTPStatus, 418},
		{"idle-conns-num", cfg.IdleConnsNum, 8},
		{"max-idle-connection-backend", cfg.MaxIdleConnsBackend, 100},
		{"timeout-backend", cfg.TimeoutBackend, 2 * time.Second},
		{"tls-timeout-backend", cfg.TLSTimeoutBackend, 3 * time.Second},
		{"response-header-timeout-backend", cfg.ResponseHeaderTimeoutBackend, 4 * time.Second},
		{"expect-continue-timeout-backend", cfg.ExpectContinueTimeoutBackend, 5 * time.Second},
		{"backend-ca-file", cfg.BackendCAFile, "/etc/ca.pem"},
		{"wait-for-healthcheck-interval", cfg.WaitForHealthcheckInterval, 45 * time.Second},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("-%s: got %v, want %v", c.name, c.got, c.want)
		}
	}

	def, _, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if def.WriteTimeoutServer != 0 || def.ReadTimeoutServer != 0 || def.WaitForHealthcheckInterval != 0 {
		t.Errorf("defaults cut streams or delay shutdown: write %s, read %s, wait %s, want 0 each",
			def.WriteTimeoutServer, def.ReadTimeoutServer, def.WaitForHealthcheckInterval)
	}
	if def.CloseIdleConnsPeriod != 20*time.Second || def.DefaultHTTPStatus != 404 || def.IdleConnsNum != 64 {
		t.Errorf("got defaults %s, %d, %d; want Skipper's 20s, 404, 64", def.CloseIdleConnsPeriod, def.DefaultHTTPStatus, def.IdleConnsNum)
	}
}

func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := proxytest.WriteCert(t, dir, "site", "a.test")
	bad := filepath.Join(dir, "bad.pem")
	writeFile(t, bad, "not a certificate\n")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing key file", []string{"-tls-cert=" + cert, "-tls-key=" + filepath.Join(dir, "nope.key")}, "-tls-cert: loading"},
		{"key for certificate", []string{"-tls-cert=" + key, "-tls-key=" + cert}, "-tls-cert: loading"},
		{"bad CA bundle", []string{"-backend-ca-file=" + bad}, "-backend-ca-file: CA bundle " + bad + " holds no PEM certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			args := append([]string{"-address=127.0.0.1:0", "-inline-routes=* -> <shunt>"}, tc.args...)
			if code := run(args, &stdout, &stderr); code != exitError {
				t.Errorf("got exit code %d, want %d", code, exitError)
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.wantErr)
			}
		})
	}
}
