package filters_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestCompressBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewCompress(), []argsCase{
		{"level 12", []any{12.0}, "compress: argument 1 (level) must be a whole number from -2 to 11, got 12"},
		{"level fraction", []any{1.5, "text/html"}, "compress: argument 1 (level) must be a whole number from -2 to 11, got 1.5"},
		{"type number", []any{"text/html", 3.0}, "compress: a media type must be a string, got float64"},
	})
}

const compressText = "the quick brown fox jumps over the lazy dog, again and again and again; "

// compressBackend answers /text, /png and /nt (no-transform) plain, and /gz, /raw (raw
// deflate), /zlib and /bad (not gzip at all) encoded.
func compressBackend(t *testing.T) *proxytest.Backend {
	text := strings.Repeat(compressText, 25)
	return proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		var enc io.WriteCloser
		switch r.URL.Path {
		case "/png":
			h.Set("Content-Type", "image/png")
		case "/nt":
			h.Set("Cache-Control", "public, no-transform")
		case "/gz":
			h.Set("Content-Encoding", "gzip")
			enc = gzip.NewWriter(w)
		case "/raw":
			h.Set("Content-Encoding", "deflate")
			enc, _ = flate.NewWriter(w, 1)
		case "/zlib":
			h.Set("Content-Encoding", "deflate")
			enc = zlib.NewWriter(w)
		case "/bad":
			h.Set("Content-Encoding", "gzip")
			io.WriteString(w, text)
			return
		}
		h.Set("Vary", "Origin")
		if enc == nil {
			io.WriteString(w, text)
			return
		}
		io.WriteString(enc, text)
		enc.Close()
	})
}

func TestCompressThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := compressBackend(t)
	p := proxytest.New(t, fmt.Sprintf(`
		c: Host("c.test") -> compress() -> "http://%[1]s";
		c9: Host("c9.test") -> compress(9, "...", "image/png") -> "http://%[1]s";
		html: Host("html.test") -> compress("text/html") -> "http://%[1]s";
		recompress: Host("re.test") -> compress() -> decompress() -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	want := strings.Repeat(compressText, 25)
	for _, tc := range []struct {
		host, path, accept, enc string
	}{
		{"c.test", "/text", "gzip", "gzip"},
		{"c.test", "/text", "gzip;q=0.5, deflate", "deflate"},
		{"c.test", "/text", "deflate, gzip", "gzip"}, // a tie goes to gzip
		{"c.test", "/text", "br, *", ""},
		{"c.test", "/text", "gzip;q=0", ""},
		{"c.test", "/text", "", ""},
		{"c.test", "/png", "gzip", ""},
		{"c.test", "/nt", "gzip", ""},
		{"c9.test", "/png", "gzip", "gzip"},
		{"c9.test", "/text", "gzip", "gzip"},
		{"html.test", "/text", "gzip", ""},
		{"re.test", "/gz", "deflate", "deflate"},
	} {
		name := fmt.Sprintf("%s%s with Accept-Encoding %q", tc.host, tc.path, tc.accept)
		var h []string
		if tc.accept != "" {
			h = []string{"Accept-Encoding", tc.accept}
		}
		res, body := p.Do(t, "GET", tc.host, tc.path, h...)
		if got := res.Header.Get("Content-Encoding"); got != tc.enc {
			t.Errorf("%s: got Content-Encoding %q, want %q", name, got, tc.enc)
			continue
		}
		if got := decode(t, tc.enc, body); got != want {
			t.Errorf("%s: decoded body differs: %d bytes, want %d", name, len(got), len(want))
		}
		if tc.enc == "" {
			if res.ContentLength != int64(len(want)) {
				t.Errorf("%s: got Content-Length %d, want %d", name, res.ContentLength, len(want))
			}
			continue
		}
		if res.ContentLength != -1 || len(body) >= len(want) {
			t.Errorf("%s: got Content-Length %d and %d bytes, want none and fewer than %d", name, res.ContentLength, len(body), len(want))
		}
		wantVary := "[Origin Accept-Encoding]"
		if tc.host == "re.test" {
			wantVary = "[Accept-Encoding]" // decompress drops the backend's, as Skipper's
		}
		if got := fmt.Sprint(res.Header.Values("Vary")); got != wantVary {
			t.Errorf("%s: got Vary %s, want %s", name, got, wantVary)
		}
	}
}

func TestDecompressThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := compressBackend(t)
	p := proxytest.New(t, fmt.Sprintf(`d: * -> decompress() -> "http://%s";`, backend.Addr()), proxytest.Options{})
	want := strings.Repeat(compressText, 25)
	for _, path := range []string{"/gz", "/raw", "/zlib", "/text"} {
		res, body := p.Do(t, "GET", "d.test", path)
		if res.StatusCode != 200 || body != want || res.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: got %d, Content-Encoding %q, %d bytes; want 200 and the plain text", path, res.StatusCode, res.Header.Get("Content-Encoding"), len(body))
		}
	}
	if res, _ := p.Do(t, "HEAD", "d.test", "/gz"); res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("HEAD /gz: got %d, Content-Encoding %q; want 200 without", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	if res, _ := p.Do(t, "GET", "d.test", "/bad"); res.StatusCode != http.StatusInternalServerError {
		t.Errorf("/bad: got %d, want 500 for a body that is not gzip", res.StatusCode)
	}
}

// decode undoes enc ("" for none) on body.
func decode(t *testing.T, enc, body string) string {
	t.Helper()
	var r io.Reader = strings.NewReader(body)
	var err error
	switch enc {
	case "gzip":
		r, err = gzip.NewReader(r)
	case "deflate":
		r, err = zlib.NewReader(r)
	}
	if err != nil {
		t.Fatalf("decoding %s: %v", enc, err)
	}
	var out bytes.Buffer
	if _, err := io.Copy(&out, r); err != nil {
		t.Fatalf("decoding %s: %v", enc, err)
	}
	return out.String()
}
