package filters_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestModHeaderBadArgs(t *testing.T) {
	for _, spec := range []filters.Spec{filters.NewModRequestHeader(), filters.NewModResponseHeader()} {
		n := spec.Name()
		t.Run(n, func(t *testing.T) {
			testBadArgs(t, spec, []argsCase{
				{"two", []any{"X-A", "a"}, n + ": want 3 string arguments (header name, regexp, replacement), got 2"},
				{"four", []any{"X-A", "a", "b", "c"}, ""},
				{"number", []any{"X-A", "a", 1.0}, n + ": argument 3 (replacement) must be a string, got float64"},
				{"bad name", []any{"X A", "a", "b"}, n + `: argument 1 (header name) "X A" is not a valid header name`},
				{"bad regexp", []any{"X-A", "(", "b"}, n + ": argument 2 (regexp): error parsing regexp: missing closing ): `(`"},
				{"control character", []any{"X-A", "a", "b\n"}, n + ": argument 3 (replacement) contains control character 0x0a"},
			})
		})
	}
}

func TestModHeader(t *testing.T) {
	tests := []struct {
		name    string
		args    []any
		headers []string
		want    []string // the header's values after the filter; nil: absent
	}{
		{"replace", []any{"X-A", "^foo-(.*)$", "bar-$1"}, []string{"X-A", "foo-1"}, []string{"bar-1"}},
		{"every match", []any{"x-a", "o", "0"}, []string{"X-A", "foo"}, []string{"f00"}},
		{"no match keeps value", []any{"X-A", "^z", "y"}, []string{"X-A", "foo"}, []string{"foo"}},
		{"first value only", []any{"X-A", "a", "b"}, []string{"X-A", "a1", "X-A", "a2"}, []string{"b1"}},
		{"absent not added", []any{"X-A", "^$", "v"}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := filtertest.Create(t, filters.NewModRequestHeader(), tc.args...)
			r := filtertest.Request(t, "GET", "http://h/", tc.headers...)
			if err := f.Request(r); err != nil {
				t.Fatalf("Request: %v", err)
			}
			if got := r.Header["X-A"]; !slices.Equal(got, tc.want) {
				t.Errorf("request: got %q, want %q", got, tc.want)
			}

			rf := filtertest.Create(t, filters.NewModResponseHeader(), tc.args...).(filters.ResponseFilter)
			res := &http.Response{Header: http.Header{}}
			for i := 0; i < len(tc.headers); i += 2 {
				res.Header.Add(tc.headers[i], tc.headers[i+1])
			}
			if err := rf.Response(res); err != nil {
				t.Fatalf("Response: %v", err)
			}
			if got := res.Header["X-A"]; !slices.Equal(got, tc.want) {
				t.Errorf("response: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestModRequestHeaderHost(t *testing.T) {
	for _, tc := range []struct{ rx, repl, want string }{
		{`^api[.]`, "v2.", "v2.example.org"},
		{`.*`, "", "api.example.org"},      // nothing is no Host
		{`^api`, "a b", "api.example.org"}, // nor one with a space
	} {
		f := filtertest.Create(t, filters.NewModRequestHeader(), "Host", tc.rx, tc.repl)
		r := filtertest.Request(t, "GET", "http://api.example.org/")
		if err := f.Request(r); err != nil {
			t.Fatalf("Request: %v", err)
		}
		if r.Host != tc.want {
			t.Errorf("modRequestHeader(Host, %q, %q): got Host %q, want %q", tc.rx, tc.repl, r.Host, tc.want)
		}
	}
}

// TestModHeaderThroughProxy checks what the backend and the client see.
func TestModHeaderThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://internal.local/next")
		w.Write([]byte("ok")) //nolint:errcheck // the test reads what arrives
	})
	p := proxytest.New(t, fmt.Sprintf(`
		mod: Host("^mod[.]test$")
			-> modRequestHeader("X-Version", "^v(\\d+)$", "version-$1")
			-> modRequestHeader("Host", "^mod", "backend")
			-> modResponseHeader("Location", "^http://internal[.]local/", "https://mod.test/")
			-> "http://%s";`, backend.Addr()),
		proxytest.Options{})
	res, body := p.Do(t, "GET", "mod.test", "/", "X-Version", "v2")
	if res.StatusCode != http.StatusOK || body != "ok" {
		t.Fatalf("got %d %q, want 200 \"ok\"", res.StatusCode, body)
	}
	got := backend.Last(t)
	if v := got.Header.Get("X-Version"); v != "version-2" {
		t.Errorf("backend got X-Version %q, want version-2", v)
	}
	if got.Host != "backend.test" {
		t.Errorf("backend got Host %q, want backend.test", got.Host)
	}
	if v := res.Header.Get("Location"); v != "https://mod.test/next" {
		t.Errorf("client got Location %q, want https://mod.test/next", v)
	}
}
