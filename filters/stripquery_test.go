package filters_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestStripQueryBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewStripQuery(), []argsCase{
		{"number", []any{1.0}, "stripQuery: argument 1 (preserve as headers) must be a string, got float64"},
	})
}

func TestStripQuery(t *testing.T) {
	tests := []struct {
		name string
		args []any
		url  string
		want map[string][]string // X-Query-Param-* headers after the filter
	}{
		{"no argument", nil, "http://h/p?a=1&b=2", nil},
		{"not true", []any{"false"}, "http://h/p?a=1", nil},
		{"extra arguments ignored", []any{"true", "x"}, "http://h/p?a=1", nil},
		{"empty query", []any{"true"}, "http://h/p?", nil},
		{"keep", []any{"true"}, "http://h/p?bar=baz", map[string][]string{"X-Query-Param-Bar": {"baz"}}},
		{"keep any case", []any{"TRUE"}, "http://h/p?bar", map[string][]string{"X-Query-Param-Bar": {""}}},
		{"keep every value", []any{"true"}, "http://h/p?a=1&a=2",
			map[string][]string{"X-Query-Param-A": {"1", "2"}}},
		{"dash kept", []any{"true"}, "http://h/p?a-b=1", map[string][]string{"X-Query-Param-A-B": {"1"}}},
		{"space dropped", []any{"true"}, "http://h/p?a%20b=1", map[string][]string{"X-Query-Param-Ab": {"1"}}},
		{"non-ASCII quoted", []any{"true"}, "http://h/p?%E9%A6%AC%E9%B9%BF=1",
			map[string][]string{"X-Query-Param-U99acu9e7f": {"1"}}},
		{"newline value dropped", []any{"true"}, "http://h/p?a=x%0d%0aX-Evil:%201&b=2",
			map[string][]string{"X-Query-Param-B": {"2"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, filters.NewStripQuery(), tc.args...)
			r := filtertest.Request(t, "GET", tc.url)
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: %v", err)
			}
			if got := r.URL.String(); got != "http://h/p" {
				t.Errorf("got URL %q, want %q", got, "http://h/p")
			}
			got := map[string][]string{}
			for k, v := range r.Header {
				got[k] = v
			}
			if len(got) != len(tc.want) {
				t.Errorf("got headers %q, want %q", got, tc.want)
			}
			for k, v := range tc.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("got %s %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestStripQueryThroughProxy checks that the backend gets no query, and the parameters as
// headers when asked.
func TestStripQueryThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok")) //nolint:errcheck // the test reads what arrives
	})
	p := proxytest.New(t, fmt.Sprintf(`
		strip: Host("strip.test") -> stripQuery() -> "http://%[1]s";
		keep: Host("keep.test") -> stripQuery("true") -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	for _, tc := range []struct {
		host string
		want []string
	}{{"strip.test", nil}, {"keep.test", []string{"v w", "2"}}} {
		t.Run(tc.host, func(t *testing.T) {
			res, body := p.Do(t, "GET", tc.host, "/p?id=v+w&id=2")
			if res.StatusCode != http.StatusOK || body != "ok" {
				t.Fatalf("got %d %q, want 200 \"ok\"", res.StatusCode, body)
			}
			got := backend.Last(t)
			if got.RequestURI != "/p" {
				t.Errorf("backend got %q, want /p", got.RequestURI)
			}
			if v := got.Header["X-Query-Param-Id"]; !slices.Equal(v, tc.want) {
				t.Errorf("backend got X-Query-Param-Id %q, want %q", v, tc.want)
			}
		})
	}
}
