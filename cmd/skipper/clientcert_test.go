package main

import (
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestClientTLSCert runs skipper with -client-tls-cert against a backend that requires a client
// certificate: every https backend is shown it, and a rotated one replaces it.
func TestClientTLSCert(t *testing.T) {
	ca := proxytest.NewCA(t)
	backend := proxytest.NewMTLSBackend(t, ca)
	dir := t.TempDir()
	roots := filepath.Join(dir, "backend-ca.pem")
	writeFile(t, roots, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: backend.Certificate().Raw})))
	cert, key, serialA := ca.WriteClientCert(t, dir, "client", "a")
	p := start(t, fmt.Sprintf(`-inline-routes=* -> "%s"`, backend.URL), "-backend-ca-file="+roots,
		"-client-tls-cert="+cert, "-client-tls-key="+key, "-client-tls-cert-refresh-interval=1h")

	serial := func() string {
		res, err := http.Get("http://" + p.addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("got %d %s, want 200", res.StatusCode, b)
		}
		return string(b)
	}
	if got := serial(); got != serialA {
		t.Fatalf("the backend saw certificate %q, want %q", got, serialA)
	}
	_, _, serialB := ca.WriteClientCert(t, dir, "client", "b")
	poll.Until(t, 5*time.Second, "the rotated certificate presented", func() bool { return serial() == serialB })
}

func TestClientTLSCertStartupErrors(t *testing.T) {
	ca := proxytest.NewCA(t)
	dir := t.TempDir()
	cert, key, _ := ca.WriteClientCert(t, dir, "client", "a")
	tests := []struct {
		name    string
		args    []string
		wantErr []string
	}{
		{"missing key file", []string{"-client-tls-cert=" + cert, "-client-tls-key=" + filepath.Join(dir, "nope.key")},
			[]string{"-client-tls-cert", filepath.Join(dir, "nope.key"), "not found"}},
		{"key for certificate", []string{"-client-tls-cert=" + key, "-client-tls-key=" + cert},
			[]string{"-client-tls-cert", key + " and " + cert, "not a certificate and matching key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			args := append([]string{"-address=127.0.0.1:0", "-inline-routes=* -> <shunt>"}, tc.args...)
			if code := run(args, &stdout, &stderr); code != exitError {
				t.Errorf("got exit code %d, want %d", code, exitError)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q does not contain %q", stderr.String(), want)
				}
			}
			if strings.Contains(stderr.String(), "PRIVATE KEY") {
				t.Errorf("stderr holds key material: %q", stderr.String())
			}
		})
	}
}
