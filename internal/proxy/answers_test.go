package proxy_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestLocalAnswerFields checks the fields of the answers skipper makes itself, as Skipper sends
// them: answers that route filters make carry only what their filters set (no
// X-Content-Type-Options), a <shunt> or a redirect has neither body nor Content-Type nor
// "Content-Length: 0" (its head is flushed, so HTTP/1.1 frames it chunked), inlineContent
// states its length; the proxy's own errors are text/plain with nosniff.
func TestLocalAnswerFields(t *testing.T) {
	p := proxytest.New(t, `
		shunt: Path("/shunt") -> <shunt>;
		status: Path("/status") -> status(418) -> <shunt>;
		inline: Path("/inline") -> inlineContent("{\"a\":1}") -> <shunt>;
		redirect: Path("/redirect") -> redirectTo(301, "https://b.test") -> <shunt>;
	`, proxytest.Options{})
	tests := []struct {
		path, wantType, wantBody string
		wantStatus               int
		wantLength               int64 // -1: no Content-Length, chunked
		wantNosniff              bool
	}{
		{path: "/shunt", wantStatus: 404, wantLength: -1},
		{path: "/status", wantStatus: 418, wantLength: -1},
		{path: "/inline", wantStatus: 200, wantType: "text/plain; charset=utf-8", wantBody: `{"a":1}`, wantLength: 7},
		{path: "/redirect", wantStatus: 301, wantLength: -1},
		{path: "/nowhere", wantStatus: 404, wantType: "text/plain; charset=utf-8", wantBody: "Not Found\n",
			wantLength: 10, wantNosniff: true},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			res, body := doNoRedirect(t, p, tc.path)
			if res.StatusCode != tc.wantStatus || body != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if got, ok := res.Header["Content-Type"]; tc.wantType == "" && ok || tc.wantType != "" && res.Header.Get("Content-Type") != tc.wantType {
				t.Errorf("got Content-Type %q, want %q", got, tc.wantType)
			}
			if got := res.Header.Get("X-Content-Type-Options") == "nosniff"; got != tc.wantNosniff {
				t.Errorf("got X-Content-Type-Options %q, want nosniff %v", res.Header.Get("X-Content-Type-Options"), tc.wantNosniff)
			}
			if res.ContentLength != tc.wantLength {
				t.Errorf("got Content-Length %d, want %d", res.ContentLength, tc.wantLength)
			}
			if tc.wantLength == -1 && !slices.Equal(res.TransferEncoding, []string{"chunked"}) {
				t.Errorf("got Transfer-Encoding %q, want chunked", res.TransferEncoding)
			}
		})
	}
}

// TestInvalidQuery checks that a query that does not parse is answered 400 "Invalid query", as
// Skipper's -validate-query does, and never reaches the backend, while a good one passes byte
// for byte.
func TestInvalidQuery(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`r: * -> %q;`, backend.URL), proxytest.Options{})
	for _, q := range []string{";x=1", "a=%zz", "a=b;c=d", "a=1&b=%", "%zz=1"} {
		res, body := p.Do(t, http.MethodGet, "a.test", "/x?"+q)
		if res.StatusCode != http.StatusBadRequest || body != "Invalid query\n" {
			t.Errorf("?%s: got %d %q, want 400 %q", q, res.StatusCode, body, "Invalid query\n")
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("?%s: got X-Content-Type-Options %q, want nosniff", q, got)
		}
		if got := res.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
			t.Errorf("?%s: got Content-Type %q, want text/plain", q, got)
		}
	}
	if n := len(backend.Received()); n != 0 {
		t.Fatalf("backend got %d requests with invalid queries, want none", n)
	}
	const good = "a=%20b&c=+&d&e=%C3%A9"
	if res, _ := p.Do(t, http.MethodGet, "a.test", "/x?"+good); res.StatusCode != http.StatusOK {
		t.Fatalf("?%s: got %d, want 200", good, res.StatusCode)
	}
	if got := backend.Last(t).RequestURI; got != "/x?"+good {
		t.Errorf("backend got %q, want %q", got, "/x?"+good)
	}
}
