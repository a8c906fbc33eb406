package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

func TestPathQueryFiltersBadArgs(t *testing.T) {
	tests := []struct {
		spec  filters.Spec
		cases []argsCase
	}{
		{filters.NewSetPath(), []argsCase{
			{"none", nil, "setPath: want 1 string argument (path), got 0"},
			{"two", []any{"/a", "/b"}, ""},
			{"number", []any{1.0}, "setPath: argument 1 (path) must be a string, got float64"},
		}},
		{filters.NewModPath(), []argsCase{
			{"none", nil, "modPath: want 2 string arguments (regexp, replacement), got 0"},
			{"one", []any{"^/a"}, ""},
			{"three", []any{"^/a", "/b", "c"}, ""},
			{"number", []any{"^/a", 1.0}, ""},
			{"bad regexp", []any{"(", "/b"}, "modPath: argument 1 (regexp): error parsing regexp: missing closing ): `(`"},
		}},
		{filters.NewSetQuery(), []argsCase{
			{"none", nil, "setQuery: want 1 to 2 string arguments (name[, value]), got 0"},
			{"three", []any{"a", "b", "c"}, ""},
			{"number value", []any{"a", 1.0}, "setQuery: argument 2 (value) must be a string, got float64"},
		}},
		{filters.NewDropQuery(), []argsCase{
			{"none", nil, "dropQuery: want 1 string argument (name), got 0"},
			{"two", []any{"a", "b"}, ""},
			{"number", []any{1.0}, ""},
		}},
		{filters.NewComment(), []argsCase{
			{"none", nil, "comment: want 1 string argument (text), got 0"},
			{"two", []any{"a", "b"}, ""},
			{"number", []any{1.0}, ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.spec.Name(), func(t *testing.T) { testBadArgs(t, tc.spec, tc.cases) })
	}
}

func TestPathQueryFilters(t *testing.T) {
	tests := []struct {
		name    string
		spec    filters.Spec
		args    []any
		url     string
		headers []string
		want    string // the request URI sent on
	}{
		{"setPath", filters.NewSetPath(), []any{"/v2/users"}, "http://h/v1/u?q=1", nil, "/v2/users?q=1"},
		{"setPath placeholders", filters.NewSetPath(), []any{"/t/${request.header.X-Team}${request.path}"},
			"http://h/v1?q=1", []string{"X-Team", "core"}, "/t/core/v1?q=1"},
		{"setPath unresolved is empty", filters.NewSetPath(), []any{"/t/${request.header.X-Team}/x"},
			"http://h/v1", nil, "/t//x"},
		{"setPath escapes", filters.NewSetPath(), []any{"/a b/${request.query.n}"}, "http://h/?n=c%2Fd", nil, "/a%20b/c/d?n=c%2Fd"},
		{"setPath drops stale RawPath", filters.NewSetPath(), []any{"/new"}, "http://h/a%2Fb", nil, "/new"},
		{"modPath", filters.NewModPath(), []any{"^/api", ""}, "http://h/api/v1?q=1", nil, "/v1?q=1"},
		{"modPath all matches", filters.NewModPath(), []any{"o", "0"}, "http://h/foo/bor", nil, "/f00/b0r"},
		{"modPath submatch", filters.NewModPath(), []any{"^/api/(.*)/v2$", "/$1"}, "http://h/api/x/y/v2", nil, "/x/y"},
		{"modPath no match keeps encoding", filters.NewModPath(), []any{"^/nomatch", "/"}, "http://h/a%2Fb", nil, "/a%2Fb"},
		{"setQuery new", filters.NewSetQuery(), []any{"k", "v w"}, "http://h/p?b=2&a=1", nil, "/p?a=1&b=2&k=v+w"},
		{"setQuery replaces", filters.NewSetQuery(), []any{"a", "3"}, "http://h/p?a=1&a=2", nil, "/p?a=3"},
		{"setQuery placeholders", filters.NewSetQuery(), []any{"${request.header.X-K}", "${request.method}"},
			"http://h/p", []string{"X-K", "key"}, "/p?key=GET"},
		{"setQuery one argument", filters.NewSetQuery(), []any{"raw=1&x"}, "http://h/p?a=1", nil, "/p?raw=1&x"},
		{"setQuery one argument unresolved", filters.NewSetQuery(), []any{"${request.header.X-None}"}, "http://h/p?a=1", nil, "/p"},
		{"dropQuery", filters.NewDropQuery(), []any{"a"}, "http://h/p?c=3&a=1&b=2&a=4", nil, "/p?b=2&c=3"},
		{"dropQuery last", filters.NewDropQuery(), []any{"a"}, "http://h/p?a=1", nil, "/p"},
		{"dropQuery absent", filters.NewDropQuery(), []any{"z"}, "http://h/p?b=1&a=2", nil, "/p?a=2&b=1"},
		{"dropQuery placeholder", filters.NewDropQuery(), []any{"${request.header.X-K}"}, "http://h/p?a=1&b=2",
			[]string{"X-K", "b"}, "/p?a=1"},
		{"comment", filters.NewComment(), []any{"nothing to see"}, "http://h/p?b=1&a=2", nil, "/p?b=1&a=2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, tc.spec, tc.args...)
			r := filtertest.Request(t, "GET", tc.url, tc.headers...)
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: %v", err)
			}
			if got := r.URL.RequestURI(); got != tc.want {
				t.Errorf("got request URI %q, want %q", got, tc.want)
			}
		})
	}
}
