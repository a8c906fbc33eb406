package filters_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestSedBadArgs(t *testing.T) {
	specs := map[string]filters.Spec{}
	for _, s := range filters.NewSedSpecs() {
		specs[s.Name()] = s
	}
	testBadArgs(t, specs[filters.SedName], []argsCase{
		{"one", []any{"a"}, "sed: want 2 to 4 arguments, got 1"},
		{"regexp", []any{"(", "b"}, "sed: argument 1 (pattern): error parsing regexp: missing closing ): `(`"},
		{"buffer", []any{"a", "b", 0.0}, "sed: argument 3 (max buffer) must be a positive whole number of bytes, got 0"},
		{"handling", []any{"a", "b", 10.0, "drop"}, `sed: argument 4 must be "best-effort" or "abort", got "drop"`},
	})
	testBadArgs(t, specs[filters.SedDelimName], []argsCase{
		{"empty delimiter", []any{"a", "b", ""}, "sedDelim: argument 3 (delimiter) must not be empty"},
	})
}

func TestSedThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/lines":
			io.WriteString(w, "a=1\nb=2\nc=3")
		case "/long":
			io.WriteString(w, strings.Repeat("x", 100))
		default:
			io.WriteString(w, "xaaayaz")
		}
	})
	p := proxytest.New(t, fmt.Sprintf(`
		sed: Host("sed.test") -> sed("a+", "b") -> "http://%[1]s";
		delim: Host("delim.test") -> sedDelim("^(\\w+)=(.*)$", "$2=$1", "\n") -> "http://%[1]s";
		abort: Host("abort.test") -> sed("y", "z", 10, "abort") -> "http://%[1]s";
		req: Host("req.test") -> sedRequest("secret", "public") -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	for _, tc := range []struct{ host, path, want string }{
		{"sed.test", "/", "xbybz"},
		{"delim.test", "/lines", "1=a\n2=b\n3=c"},
	} {
		res, body := p.Do(t, "GET", tc.host, tc.path)
		if body != tc.want || res.ContentLength != -1 {
			t.Errorf("%s%s: got %q (Content-Length %d), want %q without a length", tc.host, tc.path, body, res.ContentLength, tc.want)
		}
	}

	req, _ := http.NewRequest("GET", p.URL+"/long", nil)
	req.Host = "abort.test"
	if res, err := p.Client().Do(req); err == nil {
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Errorf("abort: got the whole body %q, want it cut off", body)
		}
	}

	req, _ = http.NewRequest("POST", p.URL+"/", strings.NewReader("my secret, your secret"))
	req.Host = "req.test"
	res, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := string(backend.Last(t).Body); got != "my public, your public" {
		t.Errorf("backend got body %q", got)
	}
}
