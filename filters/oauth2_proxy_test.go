package filters_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestOAuth2ThroughProxy runs oauth2ClientCredentials in the real proxy, with secrets read
// from files: concurrent requests share one token, and a failing token endpoint gives 503
// with the reason in the log and not in the response.
func TestOAuth2ThroughProxy(t *testing.T) {
	dir := t.TempDir()
	id, secret := filepath.Join(dir, "client-id"), filepath.Join(dir, "client-secret")
	for path, v := range map[string]string{id: "proxy-client", secret: canarySecret + "\n"} {
		if err := os.WriteFile(path, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	good := newTokenEndpoint(t, canaryToken+"-", 3600)
	bad := newTokenEndpoint(t, "", 0)
	bad.setAnswer(answerStatus(http.StatusUnauthorized, "application/json",
		`{"error":"invalid_client","error_description":"wrong secret `+canarySecret+`"}`))
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		good: Host("good.test") -> oauth2ClientCredentials("%s/token", %q, %q, "read write") -> "http://%s";
		bad:  Host("bad.test")  -> oauth2ClientCredentials("%s/token", %q, %q) -> "http://%s";`,
		good.URL, id, secret, backend.Addr(), bad.URL, id, secret, backend.Addr()),
		proxytest.Options{CredentialsPaths: []string{dir}})

	t.Run("concurrent requests share one token", func(t *testing.T) {
		const n = 100
		client := &http.Client{Transport: &http.Transport{}}
		defer client.CloseIdleConnections()
		var wg sync.WaitGroup
		status := make([]int, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { status[i], errs[i] = get(client, p.URL, "good.test") })
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || status[i] != http.StatusOK {
				t.Fatalf("request %d: got status %d, error %v; want 200", i, status[i], errs[i])
			}
		}
		received := backend.Received()
		if len(received) != n {
			t.Fatalf("backend got %d requests, want %d", len(received), n)
		}
		for _, r := range received {
			if got, want := r.Header["Authorization"], "Bearer "+canaryToken+"-1"; len(got) != 1 || got[0] != want {
				t.Fatalf("backend got Authorization %d values, want exactly the first token", len(got))
			}
		}
		calls := good.Calls()
		if len(calls) != 1 {
			t.Fatalf("token endpoint got %d requests, want 1", len(calls))
		}
		if c := calls[0]; c.id != "proxy-client" || c.secret != canarySecret || c.form.Get("scope") != "read write" {
			t.Errorf("token endpoint got client %q, the secret: %v, scope %q; want proxy-client, true, \"read write\"",
				c.id, c.secret == canarySecret, c.form.Get("scope"))
		}
	})

	t.Run("failing endpoint gives 503", func(t *testing.T) {
		before := len(backend.Received())
		res, body := p.Do(t, "GET", "bad.test", "/x", "Authorization", "Bearer client-own")
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("got status %d, want 503", res.StatusCode)
		}
		checkNotContains(t, "response body", body, "401", "invalid_client", "token endpoint", canarySecret)
		if got := len(backend.Received()); got != before {
			t.Errorf("backend got %d more requests, want none", got-before)
		}
		if log := p.Log(); !strings.Contains(log, "HTTP status 401 (invalid_client)") {
			t.Errorf("log does not give the reason HTTP status 401 (invalid_client):\n%s", log)
		}
	})

	checkNotContains(t, "log", p.Log(), canarySecret, canaryToken)
}

// get sends a GET for host through the proxy at proxyURL, with a client's own Authorization,
// and returns the status. It is safe to call from any goroutine.
func get(client *http.Client, proxyURL, host string) (int, error) {
	req, err := http.NewRequest("GET", proxyURL+"/x", nil)
	if err != nil {
		return 0, err
	}
	req.Host = host
	req.Header.Set("Authorization", "Bearer client-own")
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}
