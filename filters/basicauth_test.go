package filters_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

func TestBasicAuthFromSecretBadArgs(t *testing.T) {
	const usage = "want 2 string arguments (user secret name, password secret name)"
	testBadArgs(t, filters.NewBasicAuthFromSecret(filtertest.Secrets{}), []argsCase{
		{"none", nil, "basicAuthFromSecret: " + usage + ", got 0"},
		{"one", []any{"/s/u"}, "basicAuthFromSecret: " + usage + ", got 1"},
		{"three", []any{"/s/u", "/s/p", "/s/x"}, "basicAuthFromSecret: " + usage + ", got 3"},
		{"number user", []any{1.0, "/s/p"},
			"basicAuthFromSecret: argument 1 (user secret name) must be a string, got float64"},
		{"number password", []any{"/s/u", 2.0}, ""},
		{"empty user", []any{"", "/s/p"}, "basicAuthFromSecret: argument 1 (user secret name) must not be empty"},
		{"empty password", []any{"/s/u", ""},
			"basicAuthFromSecret: argument 2 (password secret name) must not be empty"},
	})
}

func TestBasicAuthFromSecret(t *testing.T) {
	src := filtertest.Secrets{"/s/u": "Aladdin", "/s/p": "open sesame"}
	spec := filters.NewBasicAuthFromSecret(src)
	if got := spec.Name(); got != "basicAuthFromSecret" {
		t.Errorf("got name %q, want basicAuthFromSecret", got)
	}
	f := filtertest.Create(t, spec, "/s/u", "/s/p")

	// RFC 7617 §2's example.
	r := filtertest.Request(t, "GET", "http://host1/", "Authorization", "Bearer evil", "Authorization", "x")
	if err := f.Request(r); err != nil {
		t.Fatalf("Request: %v", err)
	}
	checkHeader(t, r.Header, "Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")

	// Rotation, and a colon in the password, which RFC 7617 allows.
	src.Set("/s/p", "new:pass")
	r = filtertest.Request(t, "GET", "http://host1/")
	if err := f.Request(r); err != nil {
		t.Fatalf("after rotation, Request: %v", err)
	}
	checkHeader(t, r.Header, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("Aladdin:new:pass")))
}

// TestBasicAuthFromSecretLengths crosses the 48-byte chunks of the encoder at every offset.
func TestBasicAuthFromSecretLengths(t *testing.T) {
	src := filtertest.Secrets{}
	f := filtertest.Create(t, filters.NewBasicAuthFromSecret(src), "/s/u", "/s/p")
	for nu := 1; nu <= 100; nu += 7 {
		for np := 1; np <= 160; np++ {
			user, password := strings.Repeat("u", nu), strings.Repeat("pé", np)[:np]
			src.Set("/s/u", user)
			src.Set("/s/p", password)
			r := filtertest.Request(t, "GET", "http://host1/")
			if err := f.Request(r); err != nil {
				t.Fatalf("user %d, password %d bytes: Request: %v", nu, np, err)
			}
			want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
			if got := r.Header.Get("Authorization"); got != want {
				t.Fatalf("user %d, password %d bytes: got %q, want %q", nu, np, got, want)
			}
		}
	}
}
