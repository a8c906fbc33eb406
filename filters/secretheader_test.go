package filters_test

import (
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
)

func TestSetRequestHeaderFromSecretBadArgs(t *testing.T) {
	const usage = "want 2 to 4 string arguments (header name, secret name[, prefix[, suffix]])"
	testBadArgs(t, filters.NewSetRequestHeaderFromSecret(filtertest.Secrets{}), []argsCase{
		{"none", nil, "setRequestHeaderFromSecret: " + usage + ", got 0"},
		{"one", []any{"X-Key"}, "setRequestHeaderFromSecret: " + usage + ", got 1"},
		{"five", []any{"X-Key", "/s/k", "p", "s", "x"}, "setRequestHeaderFromSecret: " + usage + ", got 5"},
		{"number header", []any{1.0, "/s/k"},
			"setRequestHeaderFromSecret: argument 1 (header name) must be a string, got float64"},
		{"number secret", []any{"X-Key", 1.0},
			"setRequestHeaderFromSecret: argument 2 (secret name) must be a string, got float64"},
		{"number prefix", []any{"X-Key", "/s/k", 1.0}, ""},
		{"number suffix", []any{"X-Key", "/s/k", "p", 1.0},
			"setRequestHeaderFromSecret: argument 4 (suffix) must be a string, got float64"},
		{"space in header", []any{"X Key", "/s/k"},
			`setRequestHeaderFromSecret: argument 1 (header name) "X Key" is not a valid header name`},
		{"empty header", []any{"", "/s/k"}, ""},
		{"colon in header", []any{"X-Key:", "/s/k"}, ""},
		{"pseudo header", []any{":authority", "/s/k"}, ""},
		{"non-ASCII header", []any{"X-Kéy", "/s/k"}, ""},
		{"Host", []any{"Host", "/s/k"}, "setRequestHeaderFromSecret: argument 1 (header name) cannot be Host"},
		{"host", []any{"host", "/s/k"}, ""},
		{"empty secret", []any{"X-Key", ""},
			"setRequestHeaderFromSecret: argument 2 (secret name) must not be empty"},
		{"CRLF prefix", []any{"X-Key", "/s/k", "a\r\nX-Evil: 1"},
			"setRequestHeaderFromSecret: argument 3 (prefix) contains control character 0x0d"},
		{"NUL suffix", []any{"X-Key", "/s/k", "", "\x00"},
			"setRequestHeaderFromSecret: argument 4 (suffix) contains control character 0x00"},
	})
}

func TestSetRequestHeaderFromSecret(t *testing.T) {
	src := filtertest.Secrets{"/s/k": "val"}
	spec := filters.NewSetRequestHeaderFromSecret(src)
	if got := spec.Name(); got != "setRequestHeaderFromSecret" {
		t.Errorf("got name %q, want setRequestHeaderFromSecret", got)
	}
	tests := []struct {
		name    string
		args    []any
		headers []string
		header  string
		want    string
	}{
		{"plain", []any{"X-Key", "/s/k"}, nil, "X-Key", "val"},
		{"prefix", []any{"Authorization", "/s/k", "Token "}, nil, "Authorization", "Token val"},
		{"prefix and suffix", []any{"Cookie", "/s/k", "session=", "; Secure"}, nil, "Cookie", "session=val; Secure"},
		{"empty prefix and suffix", []any{"X-Key", "/s/k", "", ""}, nil, "X-Key", "val"},
		{"canonical name", []any{"x-api-KEY", "/s/k"}, nil, "X-Api-Key", "val"},
		{"overwrites client header", []any{"x-api-key", "/s/k"},
			[]string{"X-API-KEY", "evil", "x-api-key", "evil2"}, "X-Api-Key", "val"},
		{"overwrites client bearer", []any{"Authorization", "/s/k", "Bearer "},
			[]string{"Authorization", "Bearer evil"}, "Authorization", "Bearer val"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, spec, tc.args...)
			r := filtertest.Request(t, "GET", "http://host1/foo", append(tc.headers, "X-Other", "kept")...)
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkHeader(t, r.Header, tc.header, tc.want)
			checkHeader(t, r.Header, "X-Other", "kept")
			if len(r.Header) != 2 {
				t.Errorf("got headers %v, want only %s and X-Other", r.Header, tc.header)
			}
		})
	}
}

func TestSetRequestHeaderFromSecretRotation(t *testing.T) {
	src := filtertest.Secrets{"/s/k": "one"}
	f := filtertest.Create(t, filters.NewSetRequestHeaderFromSecret(src), "X-Key", "/s/k", "[", "]")
	for _, v := range []string{"one", "two", "three"} {
		src.Set("/s/k", v)
		r := filtertest.Request(t, "GET", "http://host1/", "X-Key", "evil")
		if err := f.Request(r); err != nil {
			t.Fatalf("value %s: Request: %v", v, err)
		}
		checkHeader(t, r.Header, "X-Key", "["+v+"]")
	}
}
