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

func TestAccessLogBadArgs(t *testing.T) {
	for _, spec := range []filters.Spec{filters.NewDisableAccessLog(), filters.NewEnableAccessLog()} {
		n := spec.Name()
		t.Run(n, func(t *testing.T) {
			testBadArgs(t, spec, []argsCase{
				{"string", []any{"4"}, n + ": argument 1 (status prefix) must be a number, got string"},
				{"second string", []any{4.0, "x"}, n + ": argument 2 (status prefix) must be a number, got string"},
			})
		})
	}
}

// TestAccessLogSwitches runs the access log filters in the real proxy handler and checks
// which requests got an access log line. The handler writes the line before ServeHTTP returns,
// so what the log holds afterwards is final.
func TestAccessLogSwitches(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("missing") {
			w.WriteHeader(http.StatusNotFound)
		}
	})
	routes := fmt.Sprintf(`
		plain: Host("plain.test") -> "http://%[1]s";
		off: Host("off.test") -> disableAccessLog() -> "http://%[1]s";
		off4x: Host("off4x.test") -> disableAccessLog(40, 301) -> "http://%[1]s";
		on: Host("on.test") -> enableAccessLog() -> "http://%[1]s";
		on404: Host("on404.test") -> enableAccessLog(404) -> "http://%[1]s";
		last: Host("last.test") -> disableAccessLog() -> enableAccessLog() -> "http://%[1]s";
		loop: Host("loop.test") -> disableAccessLog() -> setRequestHeader("Host", "plain.test") -> <loopback>;
		shunt: Host("shunt.test") -> disableAccessLog() -> status(204) -> <shunt>;`, backend.Addr())
	tests := []struct {
		host, query string
		enabled     bool // logged with the access log on
		disabled    bool // logged with -access-log-disabled
	}{
		{"plain.test", "", true, false},
		{"off.test", "", false, false},
		{"off4x.test", "", true, true}, // the route's switch holds, as in Skipper
		{"off4x.test", "missing", false, false},
		{"on.test", "", true, true},
		{"on404.test", "", false, false},
		{"on404.test", "missing", true, true},
		{"last.test", "", true, true},
		{"loop.test", "", false, false},
		{"shunt.test", "", false, false},
	}
	for _, off := range []bool{false, true} {
		p := proxytest.New(t, routes, proxytest.Options{AccessLogDisabled: off})
		for i, tc := range tests {
			name := fmt.Sprintf("%s?%s/access-log-disabled=%v", tc.host, tc.query, off)
			t.Run(name, func(t *testing.T) {
				path := fmt.Sprintf("/req-%d-%v?%s", i, off, tc.query)
				r := httptest.NewRequest("GET", "http://"+tc.host+path, nil)
				p.Handler.ServeHTTP(httptest.NewRecorder(), r)
				want := tc.enabled
				if off {
					want = tc.disabled
				}
				if got := strings.Contains(p.Log(), path+" HTTP/1.1"); got != want {
					t.Errorf("access log line for %s: got %v, want %v; log:\n%s", path, got, want, p.Log())
				}
			})
		}
	}
}

func TestAnnotate(t *testing.T) {
	testBadArgs(t, filters.NewAnnotate(), []argsCase{
		{"one", []any{"k"}, "annotate: want 2 string arguments (key, value), got 1"},
		{"number", []any{"k", 1.0}, "annotate: argument 2 (value) must be a string, got float64"},
	})
	f, err := filters.NewAnnotate().Create([]any{"oauth.disabled", "true"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	r := httptest.NewRequest("GET", "http://h/p?q=1", nil)
	if err := f.Request(r); err != nil || r.URL.String() != "http://h/p?q=1" || len(r.Header) != 0 {
		t.Errorf("annotate changed the request: err %v, URL %s, header %v", err, r.URL, r.Header)
	}
}
