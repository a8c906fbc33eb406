package filters_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestRepeatContentBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewRepeatContent(), []argsCase{
		{"one", []any{"x"}, "repeatContent: want 2 arguments (text, length), got 1"},
		{"empty text", []any{"", 3.0}, `repeatContent: argument 1 (text) must be a non-empty string, got ""`},
		{"negative", []any{"x", -1.0}, "repeatContent: argument 2 (length) must be a whole number of bytes, got -1"},
		{"fraction", []any{"x", 1.5}, "repeatContent: argument 2 (length) must be a whole number of bytes, got 1.5"},
		{"string length", []any{"x", "3"}, `repeatContent: argument 2 (length) must be a whole number of bytes, got "3"`},
	})
	testBadArgs(t, filters.NewRepeatContentHex(), []argsCase{
		{"odd", []any{"abc", 3.0}, "repeatContentHex: argument 1 (text) is not hexadecimal: encoding/hex: odd length hex string"},
		{"not hex", []any{"zz", 3.0}, "repeatContentHex: argument 1 (text) is not hexadecimal: encoding/hex: invalid byte: U+007A 'z'"},
	})
}

// TestRepeatContentReader checks the body against a plain repetition, at lengths around the
// proxy's copy buffer, read in odd sizes.
func TestRepeatContentReader(t *testing.T) {
	for _, unit := range []string{"x", "abc", strings.Repeat("0123456789", 7)} {
		for _, n := range []int{0, 1, 2, 69, 70, 71, 32*1024 - 1, 32*1024 + 5, 100000} {
			f := filtertest.Create(t, filters.NewRepeatContent(), unit, float64(n))
			if err := f.Request(filtertest.Request(t, "GET", "http://h/")); err == nil {
				t.Fatal("Request: got no Reply")
			}
			res := &http.Response{StatusCode: 200, Header: http.Header{}}
			if err := f.(filters.ResponseFilter).Response(res); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(oddReader{res.Body})
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Repeat(unit, n/len(unit)+1)[:n]
			if string(got) != want {
				t.Errorf("repeatContent(%q, %d): got %d bytes, differing from the repetition", unit, n, len(got))
			}
			if res.ContentLength != int64(n) || res.Header.Get("Content-Length") != fmt.Sprint(n) {
				t.Errorf("repeatContent(%q, %d): got length %d, %q", unit, n, res.ContentLength, res.Header.Get("Content-Length"))
			}
		}
	}
}

func TestRepeatContentThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		text: Host("text.test") -> repeatContent("ab", 5) -> "http://%[1]s";
		hex: Host("hex.test") -> status(201) -> repeatContentHex("00ff", 100000) -> setRequestHeader("X-Never", "run") -> "http://%[1]s";`,
		backend.Addr()), proxytest.Options{})
	res, body := p.Do(t, "GET", "text.test", "/")
	if res.StatusCode != 200 || body != "ababa" || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("repeatContent: got %d %q, Content-Type %q; want 200 \"ababa\" text/plain", res.StatusCode, body, res.Header.Get("Content-Type"))
	}
	res, body = p.Do(t, "GET", "hex.test", "/")
	if res.StatusCode != 201 || body != strings.Repeat("\x00\xff", 50000) || res.ContentLength != 100000 ||
		res.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("repeatContentHex: got %d, %d bytes (Content-Length %d), Content-Type %q; want 201 and 100000 bytes of 00ff",
			res.StatusCode, len(body), res.ContentLength, res.Header.Get("Content-Type"))
	}
	if n := len(backend.Received()); n != 0 {
		t.Errorf("the backend got %d requests, want none", n)
	}
}

// oddReader reads at most 4099 bytes at a time, so that reads end mid-unit.
type oddReader struct{ r io.Reader }

func (o oddReader) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 4099)]) }
