package filters_test

import (
	"errors"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/secrets"
)

func TestBearerInjectorBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewBearerInjector(filtertest.Secrets{}), []argsCase{
		{"none", nil, "bearerinjector: want 1 string argument (secret name), got 0"},
		{"two", []any{"/s/a", "/s/b"}, "bearerinjector: want 1 string argument (secret name), got 2"},
		{"number", []any{3.0}, "bearerinjector: argument 1 (secret name) must be a string, got float64"},
		{"nil", []any{nil}, "bearerinjector: argument 1 (secret name) must be a string, got <nil>"},
		{"empty", []any{""}, "bearerinjector: argument 1 (secret name) must not be empty"},
	})
}

func TestBearerInjectorNilSource(t *testing.T) {
	_, err := filters.NewBearerInjector(nil).Create([]any{"/s/tok"})
	if !errors.Is(err, filters.ErrCredentialUnavailable) {
		t.Fatalf("got error %v, want one wrapping ErrCredentialUnavailable", err)
	}
	if want := "bearerinjector: credential unavailable: no secret source configured"; err.Error() != want {
		t.Errorf("got error %q, want %q", err, want)
	}
}

func TestBearerInjector(t *testing.T) {
	src := filtertest.Secrets{"/s/tok": "tok-1"}
	f := filtertest.Create(t, filters.NewBearerInjector(src), "/s/tok")
	if got := filters.NewBearerInjector(src).Name(); got != "bearerinjector" {
		t.Errorf("got name %q, want bearerinjector", got)
	}

	tests := []struct {
		name    string
		headers []string
	}{
		{"no client header", nil},
		{"client bearer", []string{"Authorization", "Bearer evil"}},
		{"two client headers", []string{"Authorization", "Bearer evil", "Authorization", "Basic ZXZpbDpldmls"}},
		{"lower-case client header", []string{"authorization", "Bearer evil"}},
		{"empty client header", []string{"Authorization", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := filtertest.Request(t, "GET", "http://host1/foo", append(tc.headers, "X-Other", "kept")...)
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: %v", err)
			}
			checkHeader(t, r.Header, "Authorization", "Bearer tok-1")
			checkHeader(t, r.Header, "X-Other", "kept")
		})
	}
}

func TestBearerInjectorRotation(t *testing.T) {
	src := filtertest.Secrets{"/s/tok": "tok-1"}
	f := filtertest.Create(t, filters.NewBearerInjector(src), "/s/tok")

	steps := []struct {
		name   string
		rotate func()
		want   string // "" means the request must fail
	}{
		{"first value", func() {}, "Bearer tok-1"},
		{"rotated", func() { src.Set("/s/tok", "tok-2") }, "Bearer tok-2"},
		{"removed", func() { src.Delete("/s/tok") }, ""},
		{"back", func() { src.Set("/s/tok", "tok-3") }, "Bearer tok-3"},
	}
	for _, st := range steps {
		st.rotate()
		r := filtertest.Request(t, "GET", "http://host1/foo", "Authorization", "Bearer evil")
		err := f.Request(r)
		switch {
		case st.want == "" && !errors.Is(err, secrets.ErrNotFound):
			t.Errorf("%s: got error %v, want one wrapping secrets.ErrNotFound", st.name, err)
		case st.want != "" && err != nil:
			t.Errorf("%s: got error %v, want none", st.name, err)
		}
		if st.want == "" {
			checkHeader(t, r.Header, "Authorization")
		} else {
			checkHeader(t, r.Header, "Authorization", st.want)
		}
	}
}
