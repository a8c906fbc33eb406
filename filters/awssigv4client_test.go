package filters_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestAWSSigV4BadArgs(t *testing.T) {
	testBadArgs(t, filters.NewAWSSigV4(0), []argsCase{
		{"four", []any{"s3", "us-east-1", "false", "false"}, "awsSigv4: want 5 string arguments " +
			"(service, region, DisableHeaderHoisting, DisableURIPathEscaping, DisableSessionToken), got 4"},
		{"not a bool", []any{"s3", "us-east-1", "false", "no", "false"},
			`awsSigv4: argument 4 (DisableURIPathEscaping) must be "true" or "false", got "no"`},
		{"empty region", []any{"s3", "", "false", "false", "false"}, "awsSigv4: argument 2 (region) must not be empty"},
	})
}

// TestAWSSigV4SDKVector signs the request of the AWS SDK's own signer test (TestSignRequest in
// aws-sdk-go-v2's aws/signer/v4, which Skipper's awsSigv4 test repeats) with keys from headers,
// and compares the Authorization with the one published there.
func TestAWSSigV4SDKVector(t *testing.T) {
	f := filtertest.Create(t, filters.NewAWSSigV4(0), "dynamodb", "us-east-1", "false", "false", "false")
	r, err := http.NewRequest("POST", "https://dynamodb.us-east-1.amazonaws.com", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	r.URL.Opaque = "//example.org/bucket/key-._~,!@#$%^&*()"
	for _, kv := range [][2]string{
		{"X-Amz-Accesskey", "AKID"}, {"X-Amz-Secret", "SECRET"}, {"X-Amz-Session", "SESSION"},
		{"X-Amz-Time", time.Unix(0, 0).UTC().Format(time.RFC3339)},
		{"X-Amz-Target", "prefix.Operation"}, {"Content-Type", "application/x-amz-json-1.0"},
		{"X-Amz-Meta-Other-Header", "some-value=!@#$%^&* (+)"},
		{"X-Amz-Meta-Other-Header_With_Underscore", "some-value=!@#$%^&* (+)"},
		{"X-Amz-Meta-Other-Header_With_Underscore", "some-value=!@#$%^&* (+)"},
	} {
		r.Header.Add(kv[0], kv[1])
	}
	if err := f.(filters.EgressFilter).Egress(r); err != nil {
		t.Fatal(err)
	}
	checkHeader(t, r.Header, "Authorization", "AWS4-HMAC-SHA256 Credential=AKID/19700101/us-east-1/dynamodb/aws4_request, "+
		"SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-meta-other-header;x-amz-meta-other-header_with_underscore;"+
		"x-amz-security-token;x-amz-target, Signature=a518299330494908a70222cec6899f6f32f297f8595f6df1776d998936652ad9")
	for _, h := range []string{"X-Amz-Accesskey", "X-Amz-Secret", "X-Amz-Session", "X-Amz-Time"} {
		checkHeader(t, r.Header, h)
	}
}

// TestAWSSigV4ThroughProxy loads the route of Skipper's documentation and signs with the keys
// the client sends; they never reach the backend, and a request without them is answered 400.
func TestAWSSigV4ThroughProxy(t *testing.T) {
	b := newSigv4Backend(t, "dynamodb", "us-east-1", map[string]sigv4Key{sigv4KeyID: {sigv4Secret, sigv4Token}})
	p := proxytest.New(t, fmt.Sprintf(`editorRoute: * -> awsSigv4("dynamodb" , "us-east-1", "false", "false", "false") -> "http://%s";`,
		b.Addr()), proxytest.Options{})
	now := time.Now().UTC().Format(time.RFC3339)
	res, body := sigv4Send(t, p, "POST", "dynamodb.test", "/", `{"TableName":"t"}`, 17, "X-Amz-Target", "DynamoDB_20120810.GetItem",
		"x-amz-accesskey", sigv4KeyID, "x-amz-secret", sigv4Secret, "x-amz-session", sigv4Token, "x-amz-time", now,
		"Authorization", "AWS4-HMAC-SHA256 Credential=PLACEHOLDER/x")
	if res.StatusCode != http.StatusOK || body != sigv4KeyID {
		t.Fatalf("got %d %q, want 200 and the key ID", res.StatusCode, body)
	}
	for k := range b.last(t).header {
		if k == "X-Amz-Secret" || k == "X-Amz-Accesskey" || k == "X-Amz-Session" || k == "X-Amz-Time" {
			t.Errorf("backend got %s", k)
		}
	}
	before := b.count()
	for _, missing := range []string{"x-amz-accesskey", "x-amz-secret", "x-amz-time"} {
		h := []string{"x-amz-accesskey", sigv4KeyID, "x-amz-secret", sigv4Secret, "x-amz-time", now}
		for i := 0; i < len(h); i += 2 {
			if h[i] == missing {
				h = append(h[:i], h[i+2:]...)
				break
			}
		}
		res, body := sigv4Send(t, p, "GET", "dynamodb.test", "/", "", 0, h...)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(strings.ToLower(body), missing) {
			t.Errorf("without %s: got %d %q, want 400 naming it", missing, res.StatusCode, body)
		}
	}
	if b.count() != before {
		t.Error("the backend got a request without keys")
	}
	if strings.Contains(p.Log(), "CANARY") {
		t.Errorf("a secret value is in the log:\n%s", p.Log())
	}
}
