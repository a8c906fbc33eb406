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
