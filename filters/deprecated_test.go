package filters_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestDeprecatedBadArgs(t *testing.T) {
	specs := map[string]filters.Spec{}
	for _, s := range filters.NewDeprecatedSpecs() {
		specs[s.Name()] = s
	}
	testBadArgs(t, specs[filters.RequestHeaderName], []argsCase{
		{"one", []any{"X-A"}, "requestHeader: want 2 string arguments (header name, header value), got 1"},
		{"bad name", []any{"X A", "v"}, `requestHeader: argument 1 (header name) "X A" is not a valid header name`},
	})
	testBadArgs(t, specs[filters.ResponseCopyHeaderName], []argsCase{
		{"one", []any{"X-A"}, "responseCopyHeader: want 2 string arguments (source header name, target header name), got 1"},
	})
	testBadArgs(t, specs[filters.AccessLogDisabledName], []argsCase{
		{"none", nil, `accessLogDisabled: want 1 argument, "true" or "false"`},
		{"other", []any{"yes"}, `accessLogDisabled: want 1 argument, "true" or "false"`},
		{"bool number", []any{1.0}, `accessLogDisabled: want 1 argument, "true" or "false"`},
	})
	testBadArgs(t, specs[filters.RedirectName], []argsCase{
		{"code", []any{200.0, "/x"}, "redirect: argument 1 (status code) must be a whole number from 300 to 399, got 200"},
	})
}

// TestDeprecatedThroughProxy runs each deprecated name in the real proxy handler.
func TestDeprecatedThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Res-Src", "from-backend")
		fmt.Fprint(w, "backend body")
	})
	p := proxytest.New(t, fmt.Sprintf(`
		hdr: Host("hdr.test") -> requestHeader("X-Lit", "${request.host}") -> responseHeader("X-Res", "${request.host}")
			-> requestCopyHeader("X-Src", "X-Dst") -> responseCopyHeader("X-Res-Src", "X-Res-Dst") -> "http://%[1]s";
		redir: Host("redir.test") -> redirect(302, "https://new.test/moved") -> "http://%[1]s";
		health: Host("health.test") -> healthcheck() -> <shunt>;`, backend.Addr()),
		proxytest.Options{})

	res, body := p.Do(t, "GET", "hdr.test", "/", "X-Lit", "client", "X-Src", "copied")
	if body != "backend body" {
		t.Errorf("got body %q", body)
	}
	got := backend.Last(t).Header
	checkHeader(t, got, "X-Lit", "client", "${request.host}") // added, and literal: no placeholders
	checkHeader(t, got, "X-Dst", "copied")
	checkHeader(t, res.Header, "X-Res", "${request.host}")
	checkHeader(t, res.Header, "X-Res-Dst", "from-backend")

	n := len(backend.Received())
	rec := httptest.NewRecorder() // not a client: it would follow the redirect
	p.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "http://redir.test/old?q=1", nil))
	res, body = rec.Result(), rec.Body.String()
	if len(backend.Received()) != n+1 {
		t.Errorf("redirect: the backend got %d requests, want 1: the deprecated redirect calls it", len(backend.Received())-n)
	}
	if res.StatusCode != http.StatusFound || body != "" || res.Header.Get("Location") != "https://new.test/moved?q=1" ||
		res.Header.Get("X-Res-Src") != "" {
		t.Errorf("redirect: got %d, Location %q, X-Res-Src %q, body %q; want 302 to https://new.test/moved?q=1 with nothing of the backend's answer",
			res.StatusCode, res.Header.Get("Location"), res.Header.Get("X-Res-Src"), body)
	}

	if res, _ := p.Do(t, "GET", "health.test", "/"); res.StatusCode != http.StatusOK {
		t.Errorf("healthcheck: got %d, want 200 over the shunt's 404", res.StatusCode)
	}

	for _, off := range []bool{false, true} {
		p := proxytest.New(t, fmt.Sprintf(`
			quiet: Host("quiet.test") -> accessLogDisabled("true") -> "http://%[1]s";
			loud: Host("loud.test") -> accessLogDisabled("false") -> "http://%[1]s";`, backend.Addr()),
			proxytest.Options{AccessLogDisabled: off})
		for host, want := range map[string]bool{"quiet.test": false, "loud.test": true} {
			path := fmt.Sprintf("/%s-%v", host, off)
			p.Handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://"+host+path, nil))
			if got := strings.Contains(p.Log(), path+" HTTP/1.1"); got != want {
				t.Errorf("%s with -access-log-disabled=%v: access log line %v, want %v", host, off, got, want)
			}
		}
	}
}
