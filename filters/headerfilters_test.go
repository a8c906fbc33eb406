package filters_test

import (
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

func TestHeaderFiltersBadArgs(t *testing.T) {
	twoArgs := func(name string) []argsCase {
		const usage = "want 2 string arguments (header name, header value)"
		return []argsCase{
			{"none", nil, name + ": " + usage + ", got 0"},
			{"one", []any{"X-A"}, name + ": " + usage + ", got 1"},
			{"three", []any{"X-A", "b", "c"}, ""},
			{"number value", []any{"X-A", 1.0}, name + ": argument 2 (header value) must be a string, got float64"},
			{"bad name", []any{"X A", "v"}, name + `: argument 1 (header name) "X A" is not a valid header name`},
			{"empty name", []any{"", "v"}, ""},
			{"CR in value", []any{"X-A", "a\r\nX-Evil: 1"}, name + ": argument 2 (header value) contains control character 0x0d"},
		}
	}
	copyArgs := func(name string) []argsCase {
		const usage = "want 2 string arguments (source header name, target header name)"
		return []argsCase{
			{"none", nil, name + ": " + usage + ", got 0"},
			{"one", []any{"X-A"}, name + ": " + usage + ", got 1"},
			{"three", []any{"X-A", "X-B", "X-C"}, ""},
			{"number", []any{"X-A", 2.0}, name + ": argument 2 (target header name) must be a string, got float64"},
			{"bad source", []any{"X:A", "X-B"}, name + `: argument 1 (header name) "X:A" is not a valid header name`},
			{"bad target", []any{"X-A", ""}, name + `: argument 2 (header name) "" is not a valid header name`},
		}
	}
	dropArgs := []argsCase{
		{"none", nil, "dropResponseHeader: want 1 to 2 string arguments (header name[, value]), got 0"},
		{"three", []any{"X-A", "v", "w"}, ""},
		{"number", []any{1.0}, ""},
		{"bad name", []any{"X/A"}, ""},
	}
	hostCases := []argsCase{
		{"empty Host", []any{"Host", ""}, ""},
		{"Host with tab", []any{"host", "a\tb"}, ""},
	}
	tests := []struct {
		spec  filters.Spec
		cases []argsCase
	}{
		{filters.NewSetRequestHeader(), append(twoArgs("setRequestHeader"), hostCases...)},
		{filters.NewAppendRequestHeader(), append(twoArgs("appendRequestHeader"), hostCases...)},
		{filters.NewSetResponseHeader(), twoArgs("setResponseHeader")},
		{filters.NewAppendResponseHeader(), twoArgs("appendResponseHeader")},
		{filters.NewCopyRequestHeader(), copyArgs("copyRequestHeader")},
		{filters.NewCopyResponseHeader(), copyArgs("copyResponseHeader")},
		{filters.NewDropResponseHeader(), dropArgs},
	}
	for _, tc := range tests {
		t.Run(tc.spec.Name(), func(t *testing.T) { testBadArgs(t, tc.spec, tc.cases) })
	}
}

// requestCase runs one request filter on a request with the given headers and checks a header
// and the Host afterwards.
type requestCase struct {
	name     string
	spec     filters.Spec
	args     []any
	url      string // default http://host1/path?q=v
	headers  []string
	header   string
	want     []string // nil: absent
	wantHost string   // default host1
}

func runRequestCases(t *testing.T, cases []requestCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, tc.spec, tc.args...)
			url := tc.url
			if url == "" {
				url = "http://host1/path?q=v"
			}
			r := filtertest.Request(t, "GET", url, tc.headers...)
			r.RemoteAddr = "192.0.2.1:4321"
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkHeader(t, r.Header, tc.header, tc.want...)
			wantHost := tc.wantHost
			if wantHost == "" {
				wantHost = "host1"
			}
			if r.Host != wantHost {
				t.Errorf("got Host %q, want %q", r.Host, wantHost)
			}
		})
	}
}

func TestRequestHeaderPlaceholders(t *testing.T) {
	set, app, cp := filters.NewSetRequestHeader(), filters.NewAppendRequestHeader(), filters.NewCopyRequestHeader()
	runRequestCases(t, []requestCase{
		{name: "set from header", spec: set, args: []any{"X-Team", "team-${request.header.X-Src}"},
			headers: []string{"X-Src", "core", "X-Team", "old"}, header: "X-Team", want: []string{"team-core"}},
		{name: "set unresolved keeps old", spec: set, args: []any{"X-Team", "team-${request.header.X-Src}"},
			headers: []string{"X-Team", "old"}, header: "X-Team", want: []string{"old"}},
		{name: "set unresolved adds nothing", spec: set, args: []any{"X-Team", "${request.query.none}"},
			header: "X-Team"},
		{name: "set from query", spec: set, args: []any{"X-Q", "${request.query.q}"}, header: "X-Q", want: []string{"v"}},
		{name: "set many", spec: set, args: []any{"X-Req", "${request.method} ${request.host}${request.path}?${request.rawQuery} from ${request.source}"},
			header: "X-Req", want: []string{"GET host1/path?q=v from 192.0.2.1"}},
		{name: "set from cookie", spec: set, args: []any{"X-Sid", "${request.cookie.sid}"},
			headers: []string{"Cookie", "a=1; sid=abc"}, header: "X-Sid", want: []string{"abc"}},
		{name: "set response placeholder is missing", spec: set, args: []any{"X-E", "${response.header.ETag}"}, header: "X-E"},
		{name: "set decoded LF is not sent", spec: set, args: []any{"X-Q", "${request.query.q}"},
			url: "http://host1/?q=a%0d%0aX-Evil:%201", header: "X-Q"},
		{name: "set Host from header", spec: set, args: []any{"Host", "${request.header.X-Host}"},
			headers: []string{"X-Host", "api.test:8443"}, header: "Host", wantHost: "api.test:8443"},
		{name: "set Host with space is not set", spec: set, args: []any{"Host", "${request.header.X-Host}"},
			headers: []string{"X-Host", "a b"}, header: "Host"},
		{name: "append keeps values", spec: app, args: []any{"X-A", "3"}, headers: []string{"X-A", "1", "x-a", "2"},
			header: "X-A", want: []string{"1", "2", "3"}},
		{name: "append new", spec: app, args: []any{"x-a", "${request.method}"}, header: "X-A", want: []string{"GET"}},
		{name: "append unresolved", spec: app, args: []any{"X-A", "${request.header.X-None}"},
			headers: []string{"X-A", "1"}, header: "X-A", want: []string{"1"}},
		{name: "append Host sets Host", spec: app, args: []any{"Host", "other.test"}, header: "Host", wantHost: "other.test"},
		{name: "copy", spec: cp, args: []any{"X-Src", "x-dst"}, headers: []string{"X-Src", "a", "X-Src", "b", "X-Dst", "old"},
			header: "X-Dst", want: []string{"a"}},
		{name: "copy absent source keeps target", spec: cp, args: []any{"X-Src", "X-Dst"}, headers: []string{"X-Dst", "old"},
			header: "X-Dst", want: []string{"old"}},
		{name: "copy empty source keeps target", spec: cp, args: []any{"X-Src", "X-Dst"}, headers: []string{"X-Src", ""},
			header: "X-Dst"},
		{name: "copy to Host", spec: cp, args: []any{"X-Host", "host"}, headers: []string{"X-Host", "h2.test"},
			header: "Host", wantHost: "h2.test"},
		{name: "copy from Host copies nothing", spec: cp, args: []any{"Host", "X-Host"}, header: "X-Host"},
	})
}

func TestResponseHeaderFilters(t *testing.T) {
	tests := []struct {
		name    string
		spec    filters.Spec
		args    []any
		headers http.Header
		header  string
		want    []string
	}{
		{"set", filters.NewSetResponseHeader(), []any{"x-a", "new"}, http.Header{"X-A": {"1", "2"}}, "X-A", []string{"new"}},
		{"set from response", filters.NewSetResponseHeader(), []any{"X-Tag", "tag ${response.header.etag}"},
			http.Header{"Etag": {"e1"}}, "X-Tag", []string{"tag e1"}},
		{"set from request", filters.NewSetResponseHeader(), []any{"X-Path", "${request.path}"},
			nil, "X-Path", []string{"/p"}},
		{"set unresolved", filters.NewSetResponseHeader(), []any{"X-A", "${response.header.none}"},
			http.Header{"X-A": {"1"}}, "X-A", []string{"1"}},
		{"append", filters.NewAppendResponseHeader(), []any{"X-A", "3"}, http.Header{"X-A": {"1", "2"}}, "X-A", []string{"1", "2", "3"}},
		{"append unresolved", filters.NewAppendResponseHeader(), []any{"X-A", "${request.query.none}"},
			http.Header{"X-A": {"1"}}, "X-A", []string{"1"}},
		{"drop", filters.NewDropResponseHeader(), []any{"server"}, http.Header{"Server": {"a", "b"}}, "Server", nil},
		{"drop absent", filters.NewDropResponseHeader(), []any{"Server"}, nil, "Server", nil},
		{"copy", filters.NewCopyResponseHeader(), []any{"Etag", "X-Etag"}, http.Header{"Etag": {"e1", "e2"}, "X-Etag": {"old"}},
			"X-Etag", []string{"e1"}},
		{"copy absent", filters.NewCopyResponseHeader(), []any{"Etag", "X-Etag"}, http.Header{"X-Etag": {"old"}},
			"X-Etag", []string{"old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, tc.spec, tc.args...)
			rf, ok := f.(filters.ResponseFilter)
			if !ok {
				t.Fatalf("%T is not a ResponseFilter", f)
			}
			req := filtertest.Request(t, "GET", "http://host1/p?q=v", "X-Keep", "1")
			if err := f.Request(req); err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkHeader(t, req.Header, "X-Keep", "1")
			h := tc.headers
			if h == nil {
				h = http.Header{}
			}
			h["X-Other"] = []string{"kept"}
			res := &http.Response{StatusCode: 200, Header: h, Request: req}
			if err := rf.Response(res); err != nil {
				t.Fatalf("Response: %v", err)
			}
			checkHeader(t, res.Header, tc.header, tc.want...)
			checkHeader(t, res.Header, "X-Other", "kept")
		})
	}
}
