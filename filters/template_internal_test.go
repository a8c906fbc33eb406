package filters

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
)

func TestParseTemplate(t *testing.T) {
	lit := func(s string) segment { return segment{kind: segLiteral, arg: s} }
	tests := []struct {
		in   string
		want []segment // nil: no placeholders
	}{
		{"plain", nil},
		{"", nil},
		{"${id}", []segment{{kind: segPathParam, arg: "id"}}},
		{"${request.unknown}", []segment{{kind: segPathParam, arg: "request.unknown"}}}, // as in Skipper
		{"$", nil},
		{"${}", nil},
		{"${request.host", nil},
		{"${a{b}", nil},
		{"${request.header.x-team}", []segment{{kind: segRequestHeader, arg: "X-Team"}}},
		{"a-${request.method}-${request.path}?", []segment{lit("a-"), {kind: segRequestMethod}, lit("-"),
			{kind: segRequestPath}, lit("?")}},
		{"$${request.host}}", []segment{lit("$"), {kind: segRequestHost}, lit("}")}},
		{"${id}/${request.query.q}", []segment{{kind: segPathParam, arg: "id"}, lit("/"), {kind: segRequestQuery, arg: "q"}}},
		{"/${*}", []segment{lit("/"), {kind: segPathParam, arg: "*"}}},
		{"${request.cookie.sid}${response.header.etag}", []segment{{kind: segRequestCookie, arg: "sid"},
			{kind: segResponseHeader, arg: "Etag"}}},
		{"${request.rawQuery}${request.source}${request.sourceFromLast}${request.clientIP}", []segment{
			{kind: segRequestRawQuery}, {kind: segRequestSource}, {kind: segRequestSourceFromLast}, {kind: segRequestClientIP}}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := parseTemplate(tc.in)
			if !slices.Equal(got.segs, tc.want) {
				t.Errorf("got segments %+v, want %+v", got.segs, tc.want)
			}
			if got.raw != tc.in {
				t.Errorf("got raw %q, want %q", got.raw, tc.in)
			}
		})
	}
}

func TestTemplateExpand(t *testing.T) {
	r := httptest.NewRequest("PUT", "http://api.test:8080/v1/users%2F7?q=a+b&q=2&e=&bad=%zz&x=%41", nil)
	r.RemoteAddr = "192.0.2.9:5555"
	r.Header.Set("X-Team", "core")
	r.Header.Add("X-Forwarded-For", "198.51.100.1, 203.0.113.5")
	r.AddCookie(&http.Cookie{Name: "sid", Value: "s1"})
	res := &http.Response{Header: http.Header{"Etag": {`"v1"`}}, Request: r}

	tests := []struct {
		tmpl   string
		res    *http.Response
		want   string
		wantOK bool
	}{
		{"literal", nil, "literal", true},
		{"${request.header.x-team}", nil, "core", true},
		{"team=${request.header.X-Team};", nil, "team=core;", true},
		{"${request.header.X-None}", nil, "", false},
		{"a${request.header.X-None}b", nil, "ab", false},
		{"${request.method} ${request.host}", nil, "PUT api.test:8080", true},
		{"${request.path}", nil, "/v1/users/7", true},
		{"${request.rawQuery}", nil, "q=a+b&q=2&e=&bad=%zz&x=%41", true},
		{"${request.query.q}", nil, "a b", true},
		{"${request.query.x}", nil, "A", true},
		{"${request.query.e}", nil, "", false},
		{"${request.query.bad}", nil, "", false},
		{"${request.cookie.sid}", nil, "s1", true},
		{"${request.cookie.none}", nil, "", false},
		{"${request.source}", nil, "198.51.100.1", true},
		{"${request.sourceFromLast}", nil, "203.0.113.5", true},
		{"${request.clientIP}", nil, "192.0.2.9", true},
		{"${response.header.ETag}", nil, "", false},
		{"${response.header.ETag}", res, `"v1"`, true},
		{"${id}", nil, "", false}, // no Exchange, so no path parameters
	}
	for _, tc := range tests {
		t.Run(tc.tmpl, func(t *testing.T) {
			tmpl := parseTemplate(tc.tmpl)
			got, ok := tmpl.expand(r, tc.res)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
	t.Run("nil request", func(t *testing.T) {
		tmpl := parseTemplate("${request.host}")
		if got, ok := tmpl.expand(nil, nil); got != "" || ok {
			t.Errorf("got %q, %v; want \"\", false", got, ok)
		}
	})
}

func TestSource(t *testing.T) {
	tests := []struct {
		name, remote, xff string
		first, last       string
	}{
		{"remote only", "192.0.2.1:80", "", "192.0.2.1", "192.0.2.1"},
		{"IPv6 remote", "[2001:db8::1]:80", "", "2001:db8::1", "2001:db8::1"},
		{"one forwarded", "192.0.2.1:80", "198.51.100.7", "198.51.100.7", "198.51.100.7"},
		{"bad forwarded falls back", "192.0.2.1:80", "garbage", "192.0.2.1", "192.0.2.1"},
		{"mapped IPv4", "[::ffff:192.0.2.1]:80", "", "192.0.2.1", "192.0.2.1"},
		{"nothing usable", "pipe", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://h/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := source(r, false); got != tc.first {
				t.Errorf("got source %q, want %q", got, tc.first)
			}
			if got := source(r, true); got != tc.last {
				t.Errorf("got sourceFromLast %q, want %q", got, tc.last)
			}
		})
	}
}

// TestQueryValue checks queryValue against what url.ParseQuery makes of the same query.
func TestQueryValue(t *testing.T) {
	queries := []string{"", "a=1", "a=1&a=2", "a", "a=", "=x", "a%20b=c+d", "a=%zz&a=ok", "a=1;b=2&a=3",
		"&&a=x&&", "b=1&a=%E2%82%AC", "a=%"}
	for _, raw := range queries {
		want, _ := url.ParseQuery(raw)
		for _, name := range []string{"a", "b", "a b", ""} {
			if got := queryValue(raw, name); got != want.Get(name) {
				t.Errorf("queryValue(%q, %q) = %q, want %q", raw, name, got, want.Get(name))
			}
		}
	}
}
