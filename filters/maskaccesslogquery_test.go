package filters_test

import (
	"fmt"
	"hash/fnv"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestMaskAccessLogQueryBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewMaskAccessLogQuery(), []argsCase{
		{"none", nil, "maskAccessLogQuery: want 1 or more query parameter names, got 0"},
		{"number", []any{"a", 1.0}, "maskAccessLogQuery: argument 2 (query parameter) must be a non-empty string, got 1"},
	})
}

// TestMaskAccessLogQueryThroughProxy checks that the access log shows hashes of the masked
// values, also behind a <loopback>, while the backend gets the query as sent.
func TestMaskAccessLogQueryThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		mask: Host("mask.test") -> maskAccessLogQuery("token", "api key") -> "http://%[1]s";
		loop: Host("loop.test") -> maskAccessLogQuery("token") -> setRequestHeader("Host", "plain.test") -> <loopback>;
		plain: Host("plain.test") -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	hash := func(v string) string {
		h := fnv.New64a()
		h.Write([]byte(v))
		return strconv.FormatUint(h.Sum64(), 16)
	}
	for _, tc := range []struct{ host, target, logged string }{
		{"mask.test", "/a?token=s3cret-1&x=1&api+key=s3cret-2", "/a?token=" + hash("s3cret-1") + "&x=1&api+key=" + hash("s3cret-2") + " HTTP/1.1"},
		{"loop.test", "/b?x=2&token=s3cret-3", "/b?x=2&token=" + hash("s3cret-3") + " HTTP/1.1"},
		{"plain.test", "/c?token=visible", "/c?token=visible HTTP/1.1"},
	} {
		p.Handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://"+tc.host+tc.target, nil))
		if got := backend.Last(t).RequestURI; got != tc.target {
			t.Errorf("%s: backend got %s, want %s", tc.host, got, tc.target)
		}
		if !strings.Contains(p.Log(), tc.logged) {
			t.Errorf("%s: access log lacks %q:\n%s", tc.host, tc.logged, p.Log())
		}
	}
	if strings.Contains(p.Log(), "s3cret") {
		t.Errorf("a masked value reached the log:\n%s", p.Log())
	}
}
