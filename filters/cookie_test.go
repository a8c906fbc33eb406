package filters_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestCookieBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewRequestCookie(), []argsCase{
		{"one", []any{"a"}, "requestCookie: want 2 arguments (name, value), got 1"},
		{"three", []any{"a", "b", 1.0}, "requestCookie: want 2 arguments (name, value), got 3"},
		{"empty name", []any{"", "b"}, `requestCookie: argument 1 (name) must be a non-empty string, got ""`},
		{"value number", []any{"a", 1.0}, "requestCookie: argument 2 (value) must be a string, got float64"},
	})
	testBadArgs(t, filters.NewResponseCookie(), []argsCase{
		{"five", []any{"a", "b", 1.0, "change-only", "x"}, `responseCookie: want 2 to 4 arguments (name, value[, max age[, "change-only"]]), got 5`},
		{"max age string", []any{"a", "b", "60"}, "responseCookie: argument 3 (max age) must be a number, got string"},
	})
	testBadArgs(t, filters.NewDropResponseCookie(), []argsCase{
		{"none", nil, "dropResponseCookie: want 1 string argument (cookie name), got 0"},
	})
}

func TestCookiesThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "tracker=x; Path=/")
		w.Header().Add("Set-Cookie", "keep=y; Path=/; HttpOnly")
	})
	p := proxytest.New(t, fmt.Sprintf(`
		req: Host("req.test") -> requestCookie("team", "core") -> dropRequestCookie("tracking") -> "http://%[1]s";
		res: Host("shop") -> responseCookie("sid", "v1", 3600) -> jsCookie("ui", "dark")
			-> dropResponseCookie("tracker") -> "http://%[1]s";
		co: Host("co.test|10.0.0.1") -> responseCookie("sid", "v1", 0, "change-only") -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})

	p.Do(t, "GET", "req.test", "/", "Cookie", "tracking=1; sid=abc", "Cookie", "tracking=2", "Cookie", "lang=en")
	checkHeader(t, backend.Last(t).Header, "Cookie", "sid=abc; lang=en; team=core")
	p.Do(t, "GET", "req.test", "/")
	checkHeader(t, backend.Last(t).Header, "Cookie", "team=core")

	res, _ := p.Do(t, "GET", "www.shop.example.test:8080", "/")
	checkHeader(t, res.Header, "Set-Cookie", "keep=y; Path=/; HttpOnly",
		"ui=dark; Path=/; Domain=shop.example.test; Secure",
		"sid=v1; Path=/; Domain=shop.example.test; Max-Age=3600; HttpOnly; Secure")

	res, _ = p.Do(t, "GET", "10.0.0.1:9090", "/", "Cookie", "sid=old")
	checkHeader(t, res.Header, "Set-Cookie", "tracker=x; Path=/", "keep=y; Path=/; HttpOnly",
		"sid=v1; Path=/; Domain=10.0.0.1; Max-Age=0; HttpOnly; Secure")

	res, _ = p.Do(t, "GET", "co.test", "/", "Cookie", "sid=v1")
	checkHeader(t, res.Header, "Set-Cookie", "tracker=x; Path=/", "keep=y; Path=/; HttpOnly")
	res, _ = p.Do(t, "GET", "co.test", "/", "Cookie", "sid=old")
	checkHeader(t, res.Header, "Set-Cookie", "tracker=x; Path=/", "keep=y; Path=/; HttpOnly",
		"sid=v1; Path=/; Domain=co.test; Max-Age=0; HttpOnly; Secure")
}
