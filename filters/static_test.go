package filters_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestStaticBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewStatic(), []argsCase{
		{"one", []any{"/"}, "static: want 2 string arguments (path prefix, directory), got 1"},
		{"number", []any{"/", 1.0}, "static: argument 2 (directory) must be a string, got float64"},
		{"empty directory", []any{"/", ""}, "static: argument 2 (directory) must not be empty"},
	})
}

// writeFiles writes each name (slash-separated, under dir) with its content.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStaticThroughProxy serves files from a directory, and tries every way out of it: "..",
// encoded or not, and symbolic links to a file and a directory outside.
func TestStaticThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	writeFiles(t, dir, map[string]string{
		"secret.txt":         "static-canary-outside",
		"www/a.txt":          "file a",
		"www/sub/index.html": "<p>index of sub</p>",
		"www/list/b.txt":     "file b",
	})
	for link, target := range map[string]string{
		"www/out.txt":   filepath.Join(dir, "secret.txt"), // absolute, out of the root
		"www/rel.txt":   "../secret.txt",                  // relative, out of the root
		"www/outdir":    dir,                              // a directory out of the root
		"www/inner.txt": "a.txt",                          // inside the root: served
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		s: * -> static("/files/", %q) -> <shunt>;
		missing: Host("missing.test") -> static("/", %q) -> <shunt>;
		after: Host("after.test") -> static("/", %[1]q) -> setRequestHeader("X-Never", "1") -> "http://%[3]s";`,
		www, filepath.Join(dir, "nowhere"), backend.Addr()), proxytest.Options{})

	tests := []struct {
		name, path string
		want       int
		body       string // the body, or for a listing a part of it
	}{
		{"file", "/files/a.txt", 200, "file a"},
		{"index", "/files/sub/", 200, "<p>index of sub</p>"},
		{"listing", "/files/list/", 200, `<a href="b.txt">b.txt</a>`},
		{"link inside", "/files/inner.txt", 200, "file a"},
		{"not there", "/files/nope.txt", 404, "404 page not found\n"},
		{"no prefix", "/other/a.txt", 404, "404 page not found\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := p.Do(t, "GET", "s.test", tc.path)
			if res.StatusCode != tc.want || !strings.Contains(body, tc.body) {
				t.Errorf("got %d %q, want %d with %q", res.StatusCode, body, tc.want, tc.body)
			}
		})
	}
	for _, path := range []string{
		"/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/%2E%2E%2Fsecret.txt",
		"/files/..%2fsecret.txt", "/files/sub/../../secret.txt", "/files/out.txt", "/files/rel.txt",
		"/files/outdir/secret.txt", "/files/outdir/", "/files/..%5csecret.txt",
	} {
		t.Run("escape "+path, func(t *testing.T) {
			res, body := p.Do(t, "GET", "s.test", path)
			if res.StatusCode == 200 || strings.Contains(body, "static-canary-outside") || strings.Contains(body, "secret.txt") {
				t.Errorf("got %d %q, want no way out of the directory", res.StatusCode, body)
			}
		})
	}

	t.Run("range", func(t *testing.T) {
		res, body := p.Do(t, "GET", "s.test", "/files/a.txt", "Range", "bytes=2-4")
		if res.StatusCode != 206 || body != "le " || res.Header.Get("Content-Range") != "bytes 2-4/6" {
			t.Errorf("got %d %q Content-Range %q, want 206 \"le \" bytes 2-4/6", res.StatusCode, body, res.Header.Get("Content-Range"))
		}
	})
	t.Run("index.html redirects", func(t *testing.T) {
		res, body := p.Do(t, "GET", "s.test", "/files/sub/index.html") // the client follows the redirect
		if res.StatusCode != 200 || res.Request.URL.Path != "/files/sub/" || body != "<p>index of sub</p>" {
			t.Errorf("got %d %q from %s, want the index from /files/sub/", res.StatusCode, body, res.Request.URL.Path)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		if res, _ := p.Do(t, "GET", "missing.test", "/a.txt"); res.StatusCode != 500 {
			t.Errorf("got %d, want 500", res.StatusCode)
		}
	})
	t.Run("answers itself", func(t *testing.T) {
		res, body := p.Do(t, "GET", "after.test", "/a.txt")
		if res.StatusCode != 200 || body != "file a" || len(backend.Received()) != 0 {
			t.Errorf("got %d %q with %d backend calls, want 200 \"file a\" and none", res.StatusCode, body, len(backend.Received()))
		}
	})
}
