package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestSigV4MaxBodyBytes: -sigv4-max-body-bytes (10 MiB by default) bounds the body the SigV4
// filters hash; a larger one is answered 413 for a service other than s3.
func TestSigV4MaxBodyBytes(t *testing.T) {
	def, _, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if def.SigV4MaxBodyBytes != 10<<20 {
		t.Errorf("default -sigv4-max-body-bytes: got %d, want %d", def.SigV4MaxBodyBytes, 10<<20)
	}
	var stderr strings.Builder
	if code := run([]string{"-sigv4-max-body-bytes=0"}, &strings.Builder{}, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "-sigv4-max-body-bytes must be positive, got 0") {
		t.Errorf("-sigv4-max-body-bytes=0: got exit code %d and %q, want %d and the reason", code, stderr.String(), exitUsage)
	}

	dir := t.TempDir()
	id, key := filepath.Join(dir, "id"), filepath.Join(dir, "key")
	writeFile(t, id, "AKIDTEST")
	writeFile(t, key, "secret")
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=* -> awsSigv4FromSecrets("sqs", "us-east-1", %q, %q) -> "http://%s"`, id, key, backend.Addr()),
		"-credentials-paths="+dir, "-sigv4-max-body-bytes=16")
	for _, tc := range []struct {
		body string
		want int
	}{{strings.Repeat("x", 16), http.StatusOK}, {strings.Repeat("x", 17), http.StatusRequestEntityTooLarge}} {
		res, err := http.Post("http://"+p.addr+"/", "text/plain", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%d bytes: got %d %q, want %d", len(tc.body), res.StatusCode, b, tc.want)
		}
	}
	if got := backend.Last(t).Header.Get("Authorization"); !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		t.Errorf("backend got Authorization %q, want a signature by AKIDTEST", got)
	}
}

// TestSigV4Metrics: awsSigv4FromSecrets signs as the request leaves, so that is when its
// injection is counted: a signed request as injected, a missing key as unavailable (and a
// failure) and not also as injected, a refused body as neither.
func TestSigV4Metrics(t *testing.T) {
	dir := t.TempDir()
	id, key := filepath.Join(dir, "id"), filepath.Join(dir, "key")
	writeFile(t, id, "AKIDTEST")
	writeFile(t, key, canary+"-sigv4\n")
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=
		api:  Host("^api$") -> awsSigv4FromSecrets("sqs", "us-east-1", %q, %q) -> "http://%s";
		gone: Host("^gone$") -> awsSigv4FromSecrets("sqs", "us-east-1", %q, "%s/missing") -> "http://%s";`,
		id, key, backend.Addr(), id, dir, backend.Addr()), "-credentials-paths="+dir, "-sigv4-max-body-bytes=4")
	_, before := p.supportGet(t, "/metrics")
	for range 2 {
		if res, _ := p.get(t, "api", "/"); res.StatusCode != http.StatusOK {
			t.Fatalf("api: got %d, want 200", res.StatusCode)
		}
	}
	if res, _ := p.get(t, "gone", "/"); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("gone: got %d, want 503", res.StatusCode)
	}
	req, err := http.NewRequest("POST", "http://"+p.addr+"/", strings.NewReader("too long"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "api"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("long body: got %d, want 413", res.StatusCode)
	}
	_, after := p.supportGet(t, "/metrics")
	for _, m := range []struct {
		series string
		delta  float64
	}{
		{`skipper_credential_injections_total{filter="awsSigv4FromSecrets",outcome="injected",route="api"}`, 2},
		{`skipper_credential_injections_total{filter="awsSigv4FromSecrets",outcome="unavailable",route="gone"}`, 1},
		{`skipper_credential_injections_total{filter="awsSigv4FromSecrets",outcome="injected",route="gone"}`, 0},
		{`skipper_credential_injection_failures_total{filter="awsSigv4FromSecrets",reason="not found"}`, 1},
	} {
		b := max(metricValue(before, m.series), 0)
		if got := metricValue(after, m.series) - b; got != m.delta {
			t.Errorf("%s moved by %v, want %v", m.series, got, m.delta)
		}
	}
	if strings.Contains(after, canary) || strings.Contains(p.Log(), canary) {
		t.Error("the secret key is in /metrics or the log")
	}
}
