package filters_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestBlockContentBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewBlockContentSpecs()[0], []argsCase{
		{"none", nil, "blockContent: want at least one string"},
		{"number", []any{"a", 1.0}, "blockContent: argument 2 must be a string, got float64"},
		{"empty", []any{""}, "blockContent: argument 1 must not be empty"},
	})
	testBadArgs(t, filters.NewBlockContentSpecs()[1], []argsCase{
		{"not hex", []any{"zz"}, "blockContentHex: argument 1: encoding/hex: invalid byte: U+007A 'z'"},
		{"odd", []any{"abc"}, "blockContentHex: argument 1: encoding/hex: odd length hex string"},
	})
}

// splitBody yields its parts one read each, as a client that sends its body in pieces.
type splitBody struct{ parts []string }

func (s *splitBody) Read(p []byte) (int, error) {
	if len(s.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.parts[0])
	if s.parts[0] = s.parts[0][n:]; s.parts[0] == "" {
		s.parts = s.parts[1:]
	}
	return n, nil
}

// TestBlockContentThroughProxy sends bodies through the real proxy: one with a blocked string,
// also split across the client's writes and given in hex, is refused with 400 and the backend
// never sees a byte of the string; a clean body and a request without one pass unchanged.
func TestBlockContentThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	var mu sync.Mutex
	got := map[string][]string{} // the bodies each case's backend requests brought
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body) // a refused body ends early: keep what came
		mu.Lock()
		got[r.Header.Get("X-Case")] = append(got[r.Header.Get("X-Case")], string(b))
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(backend.Close)
	p := proxytest.New(t, fmt.Sprintf(`
		plain: Host("plain.test") -> blockContent("Malicious", "DROP TABLE") -> "%[1]s";
		hex: Host("hex.test") -> blockContentHex("4d616c6963696f7573") -> "%[1]s";`, backend.URL),
		proxytest.Options{})
	filler := strings.Repeat("x", 100000)
	tests := []struct {
		name, host string
		parts      []string
		want       int
	}{
		{"clean", "plain.test", []string{filler, "Malicio", "-us DROP", "_TABLE"}, 200},
		{"blocked", "plain.test", []string{"a Malicious body"}, 400},
		{"blocked late", "plain.test", []string{filler, "DROP TABLE users"}, 400},
		{"split", "plain.test", []string{filler + "Mal", "ici", "ous"}, 400},
		{"hex", "hex.test", []string{filler + "Malic", "ious"}, 400},
		{"no body", "plain.test", nil, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.parts != nil {
				body = &splitBody{parts: append([]string(nil), tc.parts...)}
			}
			req, err := http.NewRequest("POST", p.URL+"/", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			req.Header.Set("X-Case", tc.name)
			res, err := p.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Fatalf("got %d %q, want %d\n%s", res.StatusCode, b, tc.want, p.Log())
			}
			mu.Lock()
			defer mu.Unlock()
			whole := strings.Join(tc.parts, "")
			if tc.want == 200 {
				if g := got[tc.name]; len(g) != 1 || g[0] != whole {
					t.Errorf("backend got %d requests (%.40q...), want the body unchanged", len(g), g)
				}
				return
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || string(b) != "Bad Request\n" {
				t.Errorf("got %q, %q; want the proxy's own 400 answer", res.Header, b)
			}
			for _, g := range got[tc.name] {
				if strings.Contains(g, "DROP") || bytes.Contains([]byte(g), []byte("Mal")) {
					t.Errorf("backend saw part of the blocked string: ...%q", g[max(0, len(g)-20):])
				}
			}
		})
	}
}
