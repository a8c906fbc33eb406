package filters_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestInlineContentIfStatusBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewInlineContentIfStatus(), []argsCase{
		{"one", []any{404.0}, "inlineContentIfStatus: want 2 or 3 arguments (status code, body[, content type]), got 1"},
		{"four", []any{404.0, "a", "text/plain", "x"}, ""},
		{"status string", []any{"404", "a"}, "inlineContentIfStatus: argument 1 (status code) must be a number, got string"},
		{"status 600", []any{600.0, "a"}, "inlineContentIfStatus: argument 1 (status code) must be a whole number from 100 to 599, got 600"},
		{"body number", []any{404.0, 1.0}, "inlineContentIfStatus: argument 2 (body) must be a string, got float64"},
		{"type number", []any{404.0, "a", 1.0}, "inlineContentIfStatus: argument 3 (content type) must be a string, got float64"},
		{"type control", []any{404.0, "a", "text/plain\n"}, "inlineContentIfStatus: argument 3 (content type) contains control character 0x0a"},
	})
}

func TestInlineContentIfStatusThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/octet-stream")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "\x1f\x8b backend's own 404")
		case "/streamed":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "streamed 404")
			w.(http.Flusher).Flush() // no Content-Length: chunked
		default:
			fmt.Fprint(w, "backend ok")
		}
	})
	p := proxytest.New(t, fmt.Sprintf(`
		json: Host("json.test") -> inlineContentIfStatus(404, "{\"error\":\"missing\"}", "application/json") -> "http://%[1]s";
		later: Host("later.test") -> inlineContentIfStatus(503, "down") -> status(503) -> "http://%[1]s";
		shunt: Host("shunt.test") -> inlineContentIfStatus(404, "<html>nothing</html>") -> <shunt>;`, backend.Addr()),
		proxytest.Options{})
	for _, tc := range []struct {
		host, path       string
		status           int
		body, ctype, enc string
	}{
		{"json.test", "/missing", 404, `{"error":"missing"}`, "application/json", ""},
		{"json.test", "/streamed", 404, `{"error":"missing"}`, "application/json", ""},
		{"json.test", "/ok", 200, "backend ok", "text/plain; charset=utf-8", ""},
		{"later.test", "/ok", 503, "down", "text/plain; charset=utf-8", ""},
		{"shunt.test", "/", 404, "<html>nothing</html>", "text/html; charset=utf-8", ""},
	} {
		res, body := p.Do(t, "GET", tc.host, tc.path)
		if res.StatusCode != tc.status || body != tc.body {
			t.Errorf("%s%s: got %d %q, want %d %q", tc.host, tc.path, res.StatusCode, body, tc.status, tc.body)
		}
		if got := res.Header.Get("Content-Type"); got != tc.ctype {
			t.Errorf("%s%s: got Content-Type %q, want %q", tc.host, tc.path, got, tc.ctype)
		}
		if got := res.Header.Get("Content-Encoding"); got != tc.enc {
			t.Errorf("%s%s: got Content-Encoding %q, want %q", tc.host, tc.path, got, tc.enc)
		}
		if res.ContentLength != int64(len(tc.body)) {
			t.Errorf("%s%s: got Content-Length %d, want %d", tc.host, tc.path, res.ContentLength, len(tc.body))
		}
	}
}
