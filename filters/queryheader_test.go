package filters_test

import (
	"fmt"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestQueryHeaderBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewHeaderToQuery(), []argsCase{
		{"one", []any{"X-A"}, "headerToQuery: want 2 string arguments (header name, query parameter), got 1"},
	})
	testBadArgs(t, filters.NewQueryToHeader(), []argsCase{
		{"bad header", []any{"q", "X A"}, `queryToHeader: argument 2 (header name) "X A" is not a valid header name`},
		{"format control", []any{"q", "X-A", "a\r\nb %s"}, "queryToHeader: argument 3 (format) contains control character 0x0d"},
	})
}

func TestQueryHeaderThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		qh: Host("qh.test") -> queryToHeader("access_token", "Authorization", "Bearer %%s")
			-> queryToHeader("h", "Host") -> headerToQuery("X-Team", "team") -> "http://%s";`, backend.Addr()),
		proxytest.Options{})

	p.Do(t, "GET", "qh.test", "/p?z=1&access_token=abc&h=evil.test", "X-Team", "core")
	got := backend.Last(t)
	checkHeader(t, got.Header, "Authorization", "Bearer abc")
	if want := "/p?access_token=abc&h=evil.test&team=core&z=1"; got.RequestURI != want {
		t.Errorf("backend got %s, want %s", got.RequestURI, want)
	}
	if got.Host != backend.Addr() {
		t.Errorf("backend got Host %s, want its own", got.Host)
	}

	p.Do(t, "GET", "qh.test", "/p?access_token=abc", "Authorization", "Basic mine")
	checkHeader(t, backend.Last(t).Header, "Authorization", "Basic mine")

	p.Do(t, "GET", "qh.test", "/p?access_token=a%0d%0aX-Evil:%201")
	got = backend.Last(t)
	checkHeader(t, got.Header, "Authorization")
	checkHeader(t, got.Header, "X-Evil")
	if want := "/p?access_token=a%0D%0AX-Evil%3A+1&team="; got.RequestURI != want {
		t.Errorf("backend got %s, want %s", got.RequestURI, want)
	}
}
