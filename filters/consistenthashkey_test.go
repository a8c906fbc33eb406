package filters_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/skipper-egress/skipper/filters"
)

func TestConsistentHashKey(t *testing.T) {
	tests := []struct {
		name    string
		args    []any
		header  string // X-Tenant of the request; "" for none
		wantErr bool
		wantKey string
		wantOK  bool
	}{
		{"no args", nil, "", true, "", false},
		{"two args", []any{"a", "b"}, "", true, "", false},
		{"number", []any{1.0}, "", true, "", false},
		{"literal", []any{"fixed"}, "", false, "fixed", true},
		{"header", []any{"${request.header.X-Tenant}"}, "acme", false, "acme", true},
		{"missing header", []any{"${request.header.X-Tenant}"}, "", false, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := filters.NewConsistentHashKey().Create(tc.args)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got no error, want one")
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			r := httptest.NewRequest(http.MethodGet, "http://example.org/", nil)
			if tc.header != "" {
				r.Header.Set("X-Tenant", tc.header)
			}
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: got error %v, want none", err)
			}
			key, ok := f.(filters.HashKeyer).HashKey(r)
			if key != tc.wantKey || ok != tc.wantOK {
				t.Errorf("got key %q, %v, want %q, %v", key, ok, tc.wantKey, tc.wantOK)
			}
		})
	}
}
