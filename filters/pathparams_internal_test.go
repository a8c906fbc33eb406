package filters

import (
	"net/http/httptest"
	"testing"
)

// testParams is a PathParams of fixed values.
type testParams map[string]string

func (p testParams) Get(name string) string { return p[name] }

func TestTemplatePathParams(t *testing.T) {
	r := httptest.NewRequest("GET", "http://api.test/users/42", nil)
	r = r.WithContext(NewExchange(r.Context(), r, testParams{"id": "42", "rest": "/a/b", "*": "/x"}))
	tests := []struct {
		tmpl       string
		want       string
		wantOK     bool
		wantParams bool
	}{
		{"${id}", "42", true, true},
		{"/v2/users/${id}${rest}", "/v2/users/42/a/b", true, true},
		{"${*}", "/x", true, true},
		{"${none}", "", false, true},
		{"u-${none}-${request.method}", "u--GET", false, true},
		{"${request.method}", "GET", true, false},
		{"plain", "plain", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.tmpl, func(t *testing.T) {
			tmpl := parseTemplate(tc.tmpl)
			got, ok := tmpl.expand(r, nil)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
			if tmpl.usesParams() != tc.wantParams {
				t.Errorf("got usesParams %v, want %v", tmpl.usesParams(), tc.wantParams)
			}
		})
	}
}

// TestUsesPathParams checks which filters ask the proxy for path parameters.
func TestUsesPathParams(t *testing.T) {
	tests := []struct {
		spec Spec
		args []any
		want bool
	}{
		{NewSetRequestHeader(), []any{"X-Id", "${id}"}, true},
		{NewSetRequestHeader(), []any{"X-Id", "${request.path}"}, false},
		{NewAppendRequestHeader(), []any{"X-Id", "${id}"}, true},
		{NewSetResponseHeader(), []any{"X-Id", "${id}"}, true},
		{NewAppendResponseHeader(), []any{"X-Id", "a"}, false},
		{NewSetPath(), []any{"/v2/${id}"}, true},
		{NewSetQuery(), []any{"id", "${id}"}, true},
		{NewSetQuery(), []any{"${k}"}, true},
		{NewDropQuery(), []any{"${k}"}, true},
		{NewConsistentHashKey(), []any{"${id}"}, true},
		{NewConsistentHashKey(), []any{"${request.header.X}"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.spec.Name(), func(t *testing.T) {
			f, err := tc.spec.Create(tc.args)
			if err != nil {
				t.Fatal(err)
			}
			u, ok := f.(PathParamUser)
			if !ok {
				t.Fatalf("%T does not implement PathParamUser", f)
			}
			if got := u.UsesPathParams(); got != tc.want {
				t.Errorf("%v: got UsesPathParams %v, want %v", tc.args, got, tc.want)
			}
		})
	}
}
