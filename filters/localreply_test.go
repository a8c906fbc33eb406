package filters_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

func TestLocalReplyFiltersBadArgs(t *testing.T) {
	tests := []struct {
		spec  filters.Spec
		cases []argsCase
	}{
		{filters.NewStatus(), []argsCase{
			{"none", nil, "status: want 1 number argument (status code), got 0"},
			{"two", []any{200.0, 201.0}, ""},
			{"string", []any{"200"}, "status: argument 1 (status code) must be a number, got string"},
			{"fraction", []any{200.5}, "status: argument 1 (status code) must be a whole number from 100 to 999, got 200.5"},
			{"too small", []any{99.0}, ""},
			{"too large", []any{1000.0}, ""},
		}},
		{filters.NewInlineContent(), []argsCase{
			{"none", nil, "inlineContent: want 1 to 2 string arguments (body[, content type]), got 0"},
			{"three", []any{"a", "text/plain", "x"}, ""},
			{"number", []any{1.0}, ""},
			{"control character in type", []any{"a", "text/plain\n"}, ""},
		}},
		{filters.NewRedirectTo(), []argsCase{
			{"none", nil, "redirectTo: want 1 or 2 arguments (status code[, location]), got 0"},
			{"three", []any{302.0, "https:", "x"}, ""},
			{"not 3xx", []any{200.0, "http://a.test"}, "redirectTo: argument 1 (status code) must be a whole number from 300 to 399, got 200"},
			{"string code", []any{"302", "http://a.test"}, ""},
			{"number location", []any{302.0, 1.0}, "redirectTo: argument 2 (location) must be a string, got float64"},
			{"bad URL", []any{302.0, "http://a b/"}, ""},
			{"opaque", []any{302.0, "https:x"}, `redirectTo: argument 2 (location) "https:x": a path after the scheme must start with "/"`},
		}},
		{filters.NewBackendTimeout(), []argsCase{
			{"none", nil, "backendTimeout: want 1 string argument (duration), got 0"},
			{"number", []any{10.0}, ""},
			{"not a duration", []any{"10"}, `backendTimeout: argument 1 (duration) "10" is not a duration`},
			{"zero", []any{"0s"}, "backendTimeout: argument 1 (duration) must be positive, got 0s"},
			{"negative", []any{"-1s"}, ""},
		}},
		{filters.NewPreserveHost(), []argsCase{
			{"none", nil, ""},
			{"bool word", []any{"yes"}, `preserveHost: argument 1 must be "true" or "false", got "yes"`},
			{"number", []any{1.0}, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.spec.Name(), func(t *testing.T) { testBadArgs(t, tt.spec, tt.cases) })
	}
}

func TestStatusFilter(t *testing.T) {
	f := filtertest.Create(t, filters.NewStatus(), 418.0)
	res := &http.Response{StatusCode: 200, Status: "200 OK"}
	if err := f.(filters.ResponseFilter).Response(res); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 418 {
		t.Errorf("got status %d, want 418", res.StatusCode)
	}
}

func TestInlineContent(t *testing.T) {
	tests := []struct {
		name     string
		args     []any
		wantType string
	}{
		{"sniffed html", []any{"<h1>Hello</h1>"}, "text/html; charset=utf-8"},
		{"sniffed text", []any{"hello"}, "text/plain; charset=utf-8"},
		{"given", []any{"{}", "application/json"}, "application/json"},
		{"empty type sniffs", []any{"hello", ""}, "text/plain; charset=utf-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, filters.NewInlineContent(), tc.args...)
			err := f.Request(filtertest.Request(t, "GET", "http://a.test/"))
			var rep *filters.Reply
			if !errors.As(err, &rep) {
				t.Fatalf("got error %v, want a *Reply", err)
			}
			if rep.Status != 0 || rep.Body != tc.args[0] {
				t.Errorf("got status %d body %q, want 0 (the proxy fills it) and %q", rep.Status, rep.Body, tc.args[0])
			}
			checkHeader(t, rep.Header, "Content-Type", tc.wantType)
		})
	}
}

func TestRedirectTo(t *testing.T) {
	tests := []struct {
		name, location, url, want string
	}{
		{"no path keeps path and query", "http://b.test:9999", "http://a.test/foo?x=1", "http://b.test:9999/foo?x=1"},
		{"path replaces", "https://b.test/bar", "http://a.test/foo?x=1", "https://b.test/bar?x=1"},
		{"query replaces", "https://b.test/bar?y=2", "http://a.test/foo?x=1", "https://b.test/bar?y=2"},
		{"relative", "/new", "http://a.test/old", "/new"},
		{"escaped path kept", "https://b.test", "http://a.test/a%2Fb", "https://b.test/a%2Fb"},
		{"scheme only takes the host", "https:", "http://a.test:8080/foo?x=1", "https://a.test:8080/foo?x=1"},
		{"scheme and path take the host", "http:/bar", "http://a.test/foo?x=1", "http://a.test/bar?x=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, filters.NewRedirectTo(), 308.0, tc.location)
			err := f.Request(filtertest.Request(t, "GET", tc.url))
			var rep *filters.Reply
			if !errors.As(err, &rep) {
				t.Fatalf("got error %v, want a *Reply", err)
			}
			if rep.Status != 308 {
				t.Errorf("got status %d, want 308", rep.Status)
			}
			checkHeader(t, rep.Header, "Location", tc.want)
		})
	}
}

func TestRedirectToWithoutLocation(t *testing.T) {
	f := filtertest.Create(t, filters.NewRedirectTo(), 301.0)
	err := f.Request(filtertest.Request(t, "GET", "http://a.test/foo?x=1"))
	var rep *filters.Reply
	if !errors.As(err, &rep) {
		t.Fatalf("got error %v, want a *Reply", err)
	}
	if rep.Status != 301 {
		t.Errorf("got status %d, want 301", rep.Status)
	}
	checkHeader(t, rep.Header, "Location", "https://a.test/foo?x=1")
}

func TestBackendTimeoutFilter(t *testing.T) {
	f := filtertest.Create(t, filters.NewBackendTimeout(), "1m30s")
	if got := f.(filters.BackendTimeouter).BackendTimeout(); got != 90*time.Second {
		t.Errorf("got %v, want 1m30s", got)
	}
}

func TestPreserveHost(t *testing.T) {
	tests := []struct {
		arg, url, want string
	}{
		{"true", "http://backend.test:8080/", "client.test"},
		{"false", "http://backend.test:8080/", "backend.test:8080"},
		{"false", "http://backend.test:80/", "backend.test"},
		{"false", "https://backend.test:443/", "backend.test"},
	}
	for _, tc := range tests {
		t.Run(tc.arg+" "+tc.url, func(t *testing.T) {
			in := filtertest.Request(t, "GET", "http://client.test/")
			out := filtertest.Request(t, "GET", tc.url)
			out = out.WithContext(filters.WithIncoming(out.Context(), in))
			out.Host = "other.test"
			f := filtertest.Create(t, filters.NewPreserveHost(), tc.arg)
			if err := f.Request(out); err != nil {
				t.Fatal(err)
			}
			if out.Host != tc.want {
				t.Errorf("got Host %q, want %q", out.Host, tc.want)
			}
		})
	}
}
