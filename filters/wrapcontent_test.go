package filters_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestWrapContentBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewWrapContent(), []argsCase{
		{"one", []any{"a"}, "wrapContent: want 2 string arguments (prefix, suffix), got 1"},
	})
	testBadArgs(t, filters.NewWrapContentHex(), []argsCase{
		{"suffix", []any{"00", "0g"}, "wrapContentHex: argument 2 (suffix) is not hexadecimal: encoding/hex: invalid byte: U+0067 'g'"},
	})
}

func TestWrapContentThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/streamed" {
			w.Write([]byte("streamed"))
			w.(http.Flusher).Flush()
			return
		}
		w.Write([]byte("ok"))
	})
	p := proxytest.New(t, fmt.Sprintf(`
		backend: Host("b.test") -> wrapContent("[", "]") -> "http://%s";
		inline: Host("i.test") -> wrapContentHex("68657861", "6d616c") -> inlineContent("deci") -> <shunt>;`, backend.Addr()),
		proxytest.Options{})
	for _, tc := range []struct {
		host, path, want string
		length           int64
	}{
		{"b.test", "/", "[ok]", 4},
		{"b.test", "/streamed", "[streamed]", -1},
		{"i.test", "/", "hexadecimal", 11},
	} {
		res, body := p.Do(t, "GET", tc.host, tc.path)
		if body != tc.want || res.ContentLength != tc.length {
			t.Errorf("%s%s: got %q (Content-Length %d), want %q (%d)", tc.host, tc.path, body, res.ContentLength, tc.want, tc.length)
		}
	}
}
