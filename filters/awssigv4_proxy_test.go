package filters_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/skipper-egress/skipper/internal/poll"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

const (
	sigv4KeyID   = "AKIDSKIPPERTEST1"
	sigv4Secret  = "CANARY-sigv4-secret-5d2f/K7MDENG+bPxRfiCY"
	sigv4KeyID2  = "AKIDSKIPPERTEST2"
	sigv4Secret2 = "CANARY-sigv4-secret-rotated-91aa"
	sigv4Token   = "CANARY-sigv4-session-token-77c0"
)

// sigv4Files writes the key files into a new directory and returns it with their paths.
func sigv4Files(t *testing.T) (dir, id, secret, token string) {
	t.Helper()
	dir = t.TempDir()
	id, secret, token = filepath.Join(dir, "key-id"), filepath.Join(dir, "secret-key"), filepath.Join(dir, "session-token")
	writeFile(t, id, sigv4KeyID+"\n")
	writeFile(t, secret, sigv4Secret+"\n")
	writeFile(t, token, sigv4Token+"\n")
	return dir, id, secret, token
}

// sigv4Send sends a request through p; size -1 sends body with unknown length (chunked).
func sigv4Send(t *testing.T, p *proxytest.Proxy, method, host, target, body string, size int64, header ...string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
		if size < 0 {
			rd = io.MultiReader(rd) // hides the length
		}
	}
	req, err := http.NewRequest(method, p.URL+target, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	res, err := p.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestAWSSigV4FromSecretsThroughProxy signs requests in the real proxy, with keys from files,
// and has a backend that checks the signature independently of the SDK verify them.
func TestAWSSigV4FromSecretsThroughProxy(t *testing.T) {
	dir, id, secret, token := sigv4Files(t)
	keys := map[string]sigv4Key{sigv4KeyID: {secret: sigv4Secret}}
	svc := newSigv4Backend(t, "execute-api", "eu-central-1", keys)
	withToken := newSigv4Backend(t, "execute-api", "eu-central-1", map[string]sigv4Key{sigv4KeyID: {sigv4Secret, sigv4Token}})
	s3 := newSigv4Backend(t, "s3", "eu-central-1", keys)
	p := proxytest.New(t, fmt.Sprintf(`
		api:   Host("api.test")   -> awsSigv4FromSecrets("execute-api", "eu-central-1", %[1]q, %[2]q) -> "http://%[4]s";
		host:  Host("host.test")  -> awsSigv4FromSecrets("execute-api", "eu-central-1", %[1]q, %[2]q)
		                          -> setRequestHeader("Host", "final.example") -> "http://%[4]s";
		token: Host("token.test") -> awsSigv4FromSecrets("execute-api", "eu-central-1", %[1]q, %[2]q, %[3]q) -> "http://%[5]s";
		s3:    Host("s3.test")    -> awsSigv4FromSecrets("s3", "eu-central-1", %[1]q, %[2]q) -> "http://%[6]s";
		lb:    Host("lb.test")    -> awsSigv4FromSecrets("execute-api", "eu-central-1", %[1]q, %[2]q)
		                          -> <roundRobin, "http://%[7]s", "http://%[4]s">;`,
		id, secret, token, svc.Addr(), withToken.Addr(), s3.Addr(), deadAddr(t)),
		proxytest.Options{CredentialsPaths: []string{dir}, SigV4MaxBodyBytes: 1024})

	ok := func(t *testing.T, b *sigv4Backend, res *http.Response, body string) sigv4Result {
		t.Helper()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("got %d %q, want 200", res.StatusCode, body)
		}
		return b.last(t)
	}
	t.Run("GET", func(t *testing.T) {
		res, body := sigv4Send(t, p, "GET", "api.test", "/v1/items", "", 0)
		r := ok(t, svc, res, body)
		if r.payload != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
			t.Errorf("got X-Amz-Content-Sha256 %q, want the empty body's hash", r.payload)
		}
	})
	t.Run("query with special characters", func(t *testing.T) {
		res, body := sigv4Send(t, p, "GET", "api.test", "/a%20b/c~d%2Fe/%E1%88%B4?b=2&a=1&a=0&q=x%2By+z&e=%E1%88%B4&empty=&k*=(v)!", "", 0)
		r := ok(t, svc, res, body)
		if !strings.Contains(r.query, "q=x%2By%20z") {
			t.Errorf("backend got query %q, want q's value sent as x%%2By%%20z", r.query)
		}
	})
	t.Run("POST with a body", func(t *testing.T) {
		res, body := sigv4Send(t, p, "POST", "api.test", "/v1/items", `{"name":"x"}`, 12, "Content-Type", "application/json")
		r := ok(t, svc, res, body)
		if string(r.body) != `{"name":"x"}` {
			t.Errorf("backend got body %q", r.body)
		}
	})
	t.Run("body of unknown length", func(t *testing.T) {
		res, body := sigv4Send(t, p, "PUT", "api.test", "/v1/items/1", strings.Repeat("a", 1024), -1)
		if r := ok(t, svc, res, body); len(r.body) != 1024 {
			t.Errorf("backend got %d bytes, want 1024", len(r.body))
		}
	})
	t.Run("Host set by a later filter", func(t *testing.T) {
		res, body := sigv4Send(t, p, "GET", "host.test", "/", "", 0)
		if r := ok(t, svc, res, body); r.host != "final.example" {
			t.Errorf("backend got Host %q, want final.example", r.host)
		}
	})
	t.Run("session token", func(t *testing.T) {
		res, body := sigv4Send(t, p, "GET", "token.test", "/", "", 0)
		ok(t, withToken, res, body)
	})
	t.Run("load-balanced route retries with the body", func(t *testing.T) {
		before := svc.count()
		for i := range 4 {
			res, body := sigv4Send(t, p, "POST", "lb.test", "/lb", fmt.Sprintf("body %d", i), 6)
			if r := ok(t, svc, res, body); string(r.body) != fmt.Sprintf("body %d", i) {
				t.Errorf("request %d: backend got body %q", i, r.body)
			}
		}
		if got := svc.count() - before; got != 4 {
			t.Errorf("backend got %d requests, want 4", got)
		}
	})
	t.Run("client's own signature", func(t *testing.T) {
		testClientSignature(t, p, svc)
	})
	t.Run("body over the limit", func(t *testing.T) {
		testSigv4Limits(t, p, svc, s3)
	})
	t.Run("aws-chunked upload", func(t *testing.T) {
		before := s3.count()
		res, body := sigv4Send(t, p, "PUT", "s3.test", "/bucket/key", "5;chunk-signature=00\r\nhello\r\n0;chunk-signature=00\r\n\r\n", 0,
			"X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding", "aws-chunked", "X-Amz-Decoded-Content-Length", "5")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "aws-chunked") {
			t.Errorf("got %d %q, want 400 naming aws-chunked", res.StatusCode, body)
		}
		if s3.count() != before {
			t.Error("the backend was called")
		}
	})
	if strings.Contains(p.Log(), "CANARY") {
		t.Errorf("a secret value is in the log:\n%s", p.Log())
	}
}

// testClientSignature sends what an AWS SDK with placeholder keys sends: its own SigV4
// headers, a session token, and a presigned query. The backend must see only the proxy's.
func testClientSignature(t *testing.T, p *proxytest.Proxy, svc *sigv4Backend) {
	req, err := http.NewRequest("POST", p.URL+"/v1/items?X-Amz-Signature=abc&X-Amz-Credential=PLACEHOLDER&keep=1", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "api.test"
	sum := sha256.Sum256([]byte("{}"))
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	creds := aws.Credentials{AccessKeyID: "PLACEHOLDER", SecretAccessKey: "placeholder", SessionToken: "placeholder-token"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "execute-api", "eu-central-1", time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	res, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("got %d %q, want 200", res.StatusCode, body)
	}
	r := svc.last(t)
	for k, vv := range r.header {
		for _, v := range vv {
			if strings.Contains(v, "PLACEHOLDER") || strings.Contains(v, "placeholder") {
				t.Errorf("backend got the client's %s: %q", k, v)
			}
		}
	}
	if r.query != "keep=1" {
		t.Errorf("backend got query %q, want keep=1 alone", r.query)
	}
}

// testSigv4Limits: with -sigv4-max-body-bytes=1024, a larger body is 413 for a service and
// UNSIGNED-PAYLOAD for s3, whether its length is known or not.
func testSigv4Limits(t *testing.T, p *proxytest.Proxy, svc, s3 *sigv4Backend) {
	big := strings.Repeat("b", 1025)
	for _, size := range []int64{1025, -1} {
		before := svc.count()
		res, body := sigv4Send(t, p, "PUT", "api.test", "/big", big, size)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "1024") {
			t.Errorf("size %d: got %d %q, want 413 naming the limit", size, res.StatusCode, body)
		}
		if svc.count() != before {
			t.Errorf("size %d: the backend was called", size)
		}
		res, body = sigv4Send(t, p, "PUT", "s3.test", "/bucket/a%20b", big, size)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("s3, size %d: got %d %q, want 200", size, res.StatusCode, body)
		}
		if r := s3.last(t); r.payload != "UNSIGNED-PAYLOAD" || string(r.body) != big {
			t.Errorf("s3, size %d: got payload %q and %d bytes, want UNSIGNED-PAYLOAD and 1025", size, r.payload, len(r.body))
		}
		res, body = sigv4Send(t, p, "PUT", "s3.test", "/bucket/small", big[:1024], size)
		if r := s3.last(t); res.StatusCode != http.StatusOK || r.payload == "UNSIGNED-PAYLOAD" {
			t.Errorf("s3, size %d: got %d %q, payload %q; want the body's hash", size, res.StatusCode, body, r.payload)
		}
	}
}

// TestAWSSigV4FromSecretsRotation rewrites the key files: the next requests sign with the new
// key, a secret rotated under the same key ID included, and a missing file gives 503.
func TestAWSSigV4FromSecretsRotation(t *testing.T) {
	dir, id, secret, _ := sigv4Files(t)
	b := newSigv4Backend(t, "execute-api", "eu-central-1", map[string]sigv4Key{sigv4KeyID: {secret: sigv4Secret}})
	p := proxytest.New(t, fmt.Sprintf(`* -> awsSigv4FromSecrets("execute-api", "eu-central-1", %q, %q) -> "http://%s"`,
		id, secret, b.Addr()), proxytest.Options{CredentialsPaths: []string{dir}})
	signsWith := func(keyID string) func() bool {
		return func() bool {
			res, body := sigv4Send(t, p, "GET", "api.test", "/", "", 0)
			return res.StatusCode == http.StatusOK && body == keyID
		}
	}
	if !signsWith(sigv4KeyID)() {
		t.Fatalf("first request not signed with the first key: %+v", b.last(t))
	}

	// A new secret under the same key ID: the SDK caches derived keys by key ID alone.
	b.setKey(sigv4KeyID, sigv4Key{secret: sigv4Secret2})
	writeFile(t, secret, sigv4Secret2+"\n")
	poll.Until(t, 5*time.Second, "signing with the rotated secret", signsWith(sigv4KeyID))

	b.setKey(sigv4KeyID2, sigv4Key{secret: sigv4Secret})
	writeFile(t, id, sigv4KeyID2)
	writeFile(t, secret, sigv4Secret)
	poll.Until(t, 5*time.Second, "signing with the new key", signsWith(sigv4KeyID2))

	if err := os.Remove(secret); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "503 without the secret", func() bool {
		res, _ := sigv4Send(t, p, "GET", "api.test", "/", "", 0)
		return res.StatusCode == http.StatusServiceUnavailable
	})
	before := b.count()
	res, body := sigv4Send(t, p, "GET", "api.test", "/", "", 0)
	if res.StatusCode != http.StatusServiceUnavailable || strings.Contains(body, "CANARY") {
		t.Errorf("got %d %q, want 503 without a secret", res.StatusCode, body)
	}
	if b.count() != before {
		t.Error("the backend was called without a secret")
	}
	if strings.Contains(p.Log(), "CANARY") {
		t.Errorf("a secret value is in the log:\n%s", p.Log())
	}
}

// TestAWSSigV4FromSecretsFailOpen: -credentials-fail-open does not send a request unsigned,
// which AWS would only refuse: a missing key is 503 still.
func TestAWSSigV4FromSecretsFailOpen(t *testing.T) {
	dir, id, _, _ := sigv4Files(t)
	b := newSigv4Backend(t, "execute-api", "eu-central-1", map[string]sigv4Key{})
	p := proxytest.New(t, fmt.Sprintf(`* -> awsSigv4FromSecrets("execute-api", "eu-central-1", %q, "%s/missing") -> "http://%s"`,
		id, dir, b.Addr()), proxytest.Options{CredentialsPaths: []string{dir}, CredentialsFailOpen: true})
	if res, body := sigv4Send(t, p, "GET", "api.test", "/", "", 0); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("got %d %q, want 503", res.StatusCode, body)
	}
	if b.count() != 0 {
		t.Error("the backend was called")
	}
}
