package filters_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestDropRequestHeaderBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewDropRequestHeader(), []argsCase{
		{"none", nil, "dropRequestHeader: want 1 to 2 string arguments (header name[, value]), got 0"},
		{"three", []any{"X-A", "X-B", "X-C"}, "dropRequestHeader: want 1 to 2 string arguments (header name[, value]), got 3"},
		{"number", []any{1.0}, "dropRequestHeader: argument 1 (header name) must be a string, got float64"},
		{"empty", []any{""}, `dropRequestHeader: argument 1 (header name) "" is not a valid header name`},
		{"slash", []any{"X/A"}, ""},
	})
}

func TestDropRequestHeader(t *testing.T) {
	spec := filters.NewDropRequestHeader()
	if got := spec.Name(); got != "dropRequestHeader" {
		t.Errorf("got name %q, want dropRequestHeader", got)
	}
	tests := []struct {
		name    string
		arg     string
		headers []string
		gone    string
	}{
		{"one instance", "User-Agent", []string{"User-Agent", "curl"}, "User-Agent"},
		{"all instances", "X-A", []string{"X-A", "1", "x-a", "2"}, "X-A"},
		{"any case", "authorization", []string{"Authorization", "Bearer evil"}, "Authorization"},
		{"absent", "X-Missing", nil, "X-Missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, spec, tc.arg)
			r := filtertest.Request(t, "GET", "http://host1/", append(tc.headers, "X-Other", "kept")...)
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkHeader(t, r.Header, tc.gone)
			checkHeader(t, r.Header, "X-Other", "kept")
		})
	}
}

func TestDropRequestHeaderHostKeepsHost(t *testing.T) {
	f := filtertest.Create(t, filters.NewDropRequestHeader(), "Host")
	r := filtertest.Request(t, "GET", "http://host1/")
	if err := f.Request(r); err != nil {
		t.Fatalf("Request: %v", err)
	}
	if r.Host != "host1" {
		t.Errorf("got Host %q, want host1", r.Host)
	}
}

// TestDropHeaderValueThroughProxy drops only the header values equal to the second argument.
func TestDropHeaderValueThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Res"] = []string{"a", "b", "a"}
		w.Header()["X-Only"] = []string{"a"}
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> dropRequestHeader("X-Req", "a") -> dropRequestHeader("x-only", "a")
		-> dropResponseHeader("X-Res", "a") -> dropResponseHeader("X-Only", "a") -> "http://%s"`, backend.Addr()),
		proxytest.Options{})
	res, _ := p.Do(t, "GET", "d.test", "/", "X-Req", "a", "X-Req", "b", "X-Req", "a, b", "X-Only", "a")
	got := backend.Last(t).Header
	checkHeader(t, got, "X-Req", "b", "a, b")
	checkHeader(t, got, "X-Only")
	checkHeader(t, res.Header, "X-Res", "b")
	checkHeader(t, res.Header, "X-Only")
}

func TestDropHeaderRegexpThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	testBadArgs(t, filters.NewDropRequestHeaderRegexp(), []argsCase{
		{"regexp", []any{"X-A", "("}, "dropRequestHeaderRegexp: argument 2 (regexp): error parsing regexp: missing closing ): `(`"},
	})
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Res"] = []string{"debug=1", "keep", "debug=2"}
	})
	p := proxytest.New(t, fmt.Sprintf(`* -> dropRequestHeaderRegexp("X-Req", "^tmp-") -> dropResponseHeaderRegexp("X-Res", "debug")
		-> "http://%s"`, backend.Addr()), proxytest.Options{})
	res, _ := p.Do(t, "GET", "d.test", "/", "X-Req", "tmp-1", "X-Req", "real", "X-Req", "also-tmp-2")
	checkHeader(t, backend.Last(t).Header, "X-Req", "real", "also-tmp-2")
	checkHeader(t, res.Header, "X-Res", "keep")
}

// TestDropHeaderValueRegexpThroughProxy loads the names Skipper's documentation gives the same
// filters, with its example.
func TestDropHeaderValueRegexpThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	testBadArgs(t, filters.NewDropHeaderValueRegexpSpecs()[1], []argsCase{
		{"regexp", []any{"X-A", "("}, "dropResponseHeaderValueRegexp: argument 2 (regexp): error parsing regexp: missing closing ): `(`"},
	})
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Res"] = []string{"debug=1", "keep"}
	})
	p := proxytest.New(t, fmt.Sprintf(`foo: * -> dropRequestHeaderValueRegexp("User-Agent", "^value.")
		-> dropRequestHeaderValueRegexp("X-Req", "^value.") -> dropResponseHeaderValueRegexp("X-Res", "debug")
		-> "http://%s"`, backend.Addr()), proxytest.Options{})
	res, _ := p.Do(t, "GET", "d.test", "/", "User-Agent", "other-value", "X-Req", "value1", "X-Req", "a-value")
	checkHeader(t, backend.Last(t).Header, "User-Agent", "other-value")
	checkHeader(t, backend.Last(t).Header, "X-Req", "a-value")
	checkHeader(t, res.Header, "X-Res", "keep")
}
