package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

func TestDropRequestHeaderBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewDropRequestHeader(), []argsCase{
		{"none", nil, "dropRequestHeader: want 1 string argument (header name), got 0"},
		{"two", []any{"X-A", "X-B"}, "dropRequestHeader: want 1 string argument (header name), got 2"},
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
