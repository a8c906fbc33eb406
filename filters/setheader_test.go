package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

func TestSetRequestHeaderBadArgs(t *testing.T) {
	const usage = "want 2 string arguments (header name, header value)"
	testBadArgs(t, filters.NewSetRequestHeader(), []argsCase{
		{"none", nil, "setRequestHeader: " + usage + ", got 0"},
		{"one", []any{"X-A"}, "setRequestHeader: " + usage + ", got 1"},
		{"three", []any{"X-A", "b", "c"}, "setRequestHeader: " + usage + ", got 3"},
		{"number value", []any{"X-A", 1.0}, "setRequestHeader: argument 2 (header value) must be a string, got float64"},
		{"number name", []any{1.0, "v"}, ""},
		{"bad name", []any{"X(A)", "v"}, `setRequestHeader: argument 1 (header name) "X(A)" is not a valid header name`},
		{"empty name", []any{"", "v"}, ""},
		{"LF value", []any{"X-A", "v\nX-Evil: 1"}, "setRequestHeader: argument 2 (header value) contains control character 0x0a"},
		{"empty Host", []any{"Host", ""}, "setRequestHeader: argument 2 (header value) must be a host without spaces for Host"},
		{"Host with space", []any{"host", "a b"}, ""},
	})
}

func TestSetRequestHeader(t *testing.T) {
	spec := filters.NewSetRequestHeader()
	if got := spec.Name(); got != "setRequestHeader" {
		t.Errorf("got name %q, want setRequestHeader", got)
	}
	tests := []struct {
		name    string
		args    []any
		headers []string
		header  string
		want    []string
	}{
		{"new header", []any{"X-Passed-Skipper", "true"}, nil, "X-Passed-Skipper", []string{"true"}},
		{"canonical name", []any{"x-passed-skipper", "true"}, nil, "X-Passed-Skipper", []string{"true"}},
		{"replaces all instances", []any{"X-A", "new"}, []string{"X-A", "1", "x-a", "2"}, "X-A", []string{"new"}},
		{"empty value", []any{"X-A", ""}, []string{"X-A", "1"}, "X-A", []string{""}},
		{"tab and non-ASCII", []any{"X-A", "a\tü"}, nil, "X-A", []string{"a\tü"}},
		{"path parameter without a route: unset", []any{"X-Id", "${id}"}, nil, "X-Id", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, spec, tc.args...)
			r := filtertest.Request(t, "GET", "http://host1/", append(tc.headers, "X-Other", "kept")...)
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkHeader(t, r.Header, tc.header, tc.want...)
			checkHeader(t, r.Header, "X-Other", "kept")
			if r.Host != "host1" {
				t.Errorf("got Host %q, want host1 unchanged", r.Host)
			}
		})
	}
}

func TestSetRequestHeaderHost(t *testing.T) {
	for _, name := range []string{"Host", "host", "HOST"} {
		t.Run(name, func(t *testing.T) {
			f := filtertest.Create(t, filters.NewSetRequestHeader(), name, "api.example.org:8443")
			r := filtertest.Request(t, "GET", "http://backend:9090/")
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: %v", err)
			}
			if r.Host != "api.example.org:8443" {
				t.Errorf("got r.Host %q, want api.example.org:8443", r.Host)
			}
			if r.URL.Host != "backend:9090" {
				t.Errorf("got r.URL.Host %q, want backend:9090 unchanged", r.URL.Host)
			}
			if _, ok := r.Header["Host"]; ok {
				t.Errorf("got a Host entry in r.Header %v, want none", r.Header)
			}
		})
	}
}
