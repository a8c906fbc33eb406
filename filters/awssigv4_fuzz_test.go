package filters_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/httpsyntax"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// FuzzAWSSigV4 is a differential test of the signature: whatever the path, query, header value
// and body, the request awsSigv4FromSecrets signs must verify with the test backend's own
// reading of SigV4 (written from the specification, not the SDK), for s3 and another service.
// A request the filter refuses must be refused with a Reply, never sent half-signed.
func FuzzAWSSigV4(f *testing.F) {
	f.Add("/", "", "v", "", false)
	f.Add("/a%20b/c~d%2Fe/%E1%88%B4", "b=2&a=1&a=0&q=x%2By+z&empty=&k*=(v)!", "  a   b  ", "{}", false)
	f.Add("/bucket/key%21(1).txt", "uploads&partNumber=1", "x", "data", true)
	f.Add("/p", "a;b=1", "v", "", false)
	f.Add("/p", "%zz=1", "v", "", true)
	f.Add("/p", "X-Amz-Signature=1&X-Amz-Credential=A%2Fb", "v", "", false)
	src := filtertest.Secrets{"/s/id": "AKIDFUZZ", "/s/key": "fuzz-secret"}
	f.Fuzz(func(t *testing.T, path, query, value, body string, s3 bool) {
		service := "execute-api"
		if s3 {
			service = "s3"
		}
		u, err := url.Parse("http://api.test" + path + "?" + query)
		if err != nil || !strings.HasPrefix(u.EscapedPath(), "/") || httpsyntax.InvalidValueByte(value) >= 0 || len(body) > 2048 {
			return
		}
		if strings.ContainsAny(u.RequestURI(), " \t\r\n#") {
			return // not an origin-form target the proxy could have received
		}
		r := filtertest.Request(t, "PUT", u.String(), "X-Fuzz", value)
		if body != "" {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		}
		sf := filtertest.Create(t, filters.NewAWSSigV4FromSecrets(src, 1024), service, "us-east-1", "/s/id", "/s/key")
		err = sf.(filters.EgressFilter).Egress(r)
		var rep *filters.Reply
		if errors.As(err, &rep) {
			if rep.Status != http.StatusBadRequest {
				t.Fatalf("got reply %d, want 400", rep.Status)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		sent, err := io.ReadAll(orEmpty(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		for k, vv := range r.Header {
			for _, v := range vv {
				h.Add(k, strings.Trim(v, " \t")) // as written on the wire
			}
		}
		got := proxytest.Received{Method: r.Method, RequestURI: r.URL.RequestURI(), Host: r.Host, Header: h, Body: sent}
		b := &sigv4Backend{keys: map[string]sigv4Key{"AKIDFUZZ": {secret: "fuzz-secret"}}, service: service, region: "us-east-1"}
		if _, err := b.verify(got); err != nil {
			t.Fatalf("%s %s: %v", service, got.RequestURI, err)
		}
	})
}

func orEmpty(b io.ReadCloser) io.Reader {
	if b == nil {
		return strings.NewReader("")
	}
	return b
}
