package filters_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxytest"
	"github.com/skipper-egress/skipper/internal/syncbuf"
)

func TestLogHeaderBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewLogHeader(nil), []argsCase{
		{"number", []any{1.0}, `logHeader: argument 1 must be "request" or "response", got float64`},
	})
}

// TestLogHeaderMasksCredentials checks what logHeader logs, and that no credential value is
// in it: neither the client's nor one a filter injected before logHeader ran.
func TestLogHeaderMasksCredentials(t *testing.T) {
	var buf syncbuf.Buffer
	log := logrus.New()
	log.Out = &buf
	f := filtertest.Create(t, filters.NewLogHeader(log), "request", "RESPONSE")
	in := filtertest.Request(t, "GET", "http://api.test/p?q=1",
		"Authorization", "Bearer client-secret", "X-Api-Key", "key-secret", "Cookie", "sid=cookie-secret",
		"Proxy-Authorization", "Basic proxy-secret", "X-Team", "core")
	out := in.Clone(filters.WithIncoming(in.Context(), in))
	out.Header.Set("X-Injected-Token", "injected-secret")
	out.Header.Set("X-Other", "injected-secret")
	if err := f.Request(out); err != nil {
		t.Fatalf("Request: %v", err)
	}
	res := &http.Response{Proto: "HTTP/1.1", Status: "200 OK", StatusCode: 200, Header: http.Header{
		"Set-Cookie": {"sid=set-cookie-secret"}, "X-Amz-Security-Token": {"amz-secret"}, "Etag": {`"v7"`}}}
	if err := f.(filters.ResponseFilter).Response(res); err != nil {
		t.Fatalf("Response: %v", err)
	}
	got := buf.String()
	for _, want := range []string{`GET /p?q=1 HTTP/1.1\r\nHost: api.test\r\n`, `Authorization: TRUNCATED`,
		`X-Api-Key: TRUNCATED`, `X-Team: core`, `HTTP/1.1 200 OK\r\n`, `Set-Cookie: TRUNCATED`, `Etag: \"v7\"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "secret") {
		t.Errorf("log holds a secret:\n%s", got)
	}
}

func TestLogHeaderDefaultsToRequest(t *testing.T) {
	var buf syncbuf.Buffer
	log := logrus.New()
	log.Out = &buf
	f := filtertest.Create(t, filters.NewLogHeader(log), "other")
	if err := f.Request(filtertest.Request(t, "GET", "http://h/req")); err != nil {
		t.Fatal(err)
	}
	if err := f.(filters.ResponseFilter).Response(&http.Response{Status: "200 OK", Header: http.Header{}}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, "GET /req") || strings.Contains(got, "200 OK") {
		t.Errorf("got log %q, want the request only", got)
	}
}

// TestLogHeaderThroughProxy checks that a credential the route injects before logHeader is
// not logged, while the backend still gets it.
func TestLogHeaderThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "b1")
	})
	p := proxytest.New(t, fmt.Sprintf(`
		lh: Host("lh.test") -> setRequestHeader("X-Api-Key", "route-injected-value")
			-> logHeader("request", "response") -> "http://%s";`, backend.Addr()),
		proxytest.Options{})
	r := httptest.NewRequest("GET", "/x", nil)
	r.Host = "lh.test"
	r.Header.Set("Authorization", "Bearer client-value")
	p.Handler.ServeHTTP(httptest.NewRecorder(), r)
	if got := backend.Last(t).Header.Get("X-Api-Key"); got != "route-injected-value" {
		t.Fatalf("backend got X-Api-Key %q", got)
	}
	log := p.Log()
	for _, want := range []string{"GET /x HTTP/1.1", "Authorization: TRUNCATED", "X-Backend: b1"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "route-injected-value") || strings.Contains(log, "client-value") {
		t.Errorf("log holds a credential:\n%s", log)
	}
}
