package filters_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestCatalogueThroughProxy runs the header, path and query filters in the real proxy against
// a loopback backend, and checks what the backend received and what the client got back.
func TestCatalogueThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", `"v7"`)
		w.Header().Set("X-Debug", "internal")
		w.Header().Add("X-Multi", "r1")
		w.Write([]byte("ok")) //nolint:errcheck // the test reads what arrives
	})
	b := backend.Addr()
	p := proxytest.New(t, fmt.Sprintf(`
		hdr: Host("hdr.test")
			-> setRequestHeader("X-Team", "team-${request.header.X-Src}")
			-> setRequestHeader("X-Missing", "${request.header.X-None}")
			-> appendRequestHeader("X-Multi", "${request.method}")
			-> copyRequestHeader("X-Src", "X-Copy")
			-> dropRequestHeader("X-Drop")
			-> setRequestHeader("X-Host", "${request.host}")
			-> setResponseHeader("X-Path", "${request.path}?${request.query.q}")
			-> setResponseHeader("X-Order", "first")
			-> setResponseHeader("X-Order", "second")
			-> appendResponseHeader("X-Multi", "r2")
			-> copyResponseHeader("Etag", "X-Etag")
			-> dropResponseHeader("X-Debug")
			-> "http://%[1]s";
		path: Host("^path[.]test$")
			-> comment("strip /api, set k, drop the token")
			-> modPath("^/api", "")
			-> setQuery("k", "${request.header.X-K}")
			-> dropQuery("token")
			-> "http://%[1]s";
		setpath: Host("setpath.test") -> setPath("/v2/users/${request.query.id}") -> "http://%[1]s";`, b),
		proxytest.Options{})

	tests := []struct {
		name, host, path string
		header           []string
		wantURI          string
		wantSent         map[string][]string // request headers at the backend; nil: absent
		wantBack         map[string][]string // response headers at the client; nil: absent
	}{
		{
			name: "header filters", host: "hdr.test", path: "/x?q=1",
			header:  []string{"X-Src", "core", "X-Multi", "a", "X-Drop", "gone"},
			wantURI: "/x?q=1",
			wantSent: map[string][]string{"X-Team": {"team-core"}, "X-Missing": nil, "X-Multi": {"a", "GET"},
				"X-Copy": {"core"}, "X-Drop": nil, "X-Host": {"hdr.test"}},
			wantBack: map[string][]string{"X-Path": {"/x?1"}, "X-Order": {"first"}, "X-Multi": {"r1", "r2"},
				"X-Etag": {`"v7"`}, "Etag": {`"v7"`}, "X-Debug": nil},
		},
		{
			name: "unresolved placeholders leave headers unset", host: "hdr.test", path: "/x",
			wantURI:  "/x",
			wantSent: map[string][]string{"X-Team": nil, "X-Copy": nil, "X-Multi": {"GET"}},
			wantBack: map[string][]string{"X-Path": nil, "X-Order": {"first"}},
		},
		{
			name: "path and query filters", host: "path.test", path: "/api/v1/repos?token=t&b=2&a=1",
			header: []string{"X-K", "v w"}, wantURI: "/v1/repos?a=1&b=2&k=v+w",
		},
		{
			name: "setPath", host: "setpath.test", path: "/old?id=42", wantURI: "/v2/users/42?id=42",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := p.Do(t, "GET", tc.host, tc.path, tc.header...)
			if res.StatusCode != http.StatusOK || body != "ok" {
				t.Fatalf("got %d %q, want 200 \"ok\"", res.StatusCode, body)
			}
			got := backend.Last(t)
			if got.RequestURI != tc.wantURI {
				t.Errorf("backend got %q, want %q", got.RequestURI, tc.wantURI)
			}
			for name, want := range tc.wantSent {
				if v := got.Header[name]; !slices.Equal(v, want) {
					t.Errorf("backend got %s %q, want %q", name, v, want)
				}
			}
			for name, want := range tc.wantBack {
				if v := res.Header[name]; !slices.Equal(v, want) {
					t.Errorf("client got %s %q, want %q", name, v, want)
				}
			}
		})
	}
}
