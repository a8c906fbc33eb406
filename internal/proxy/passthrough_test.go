package proxy_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestTETrailersKept: of TE, a hop-by-hop field, the backend gets "trailers" alone when the client
// offered it, as httputil.ReverseProxy passes it on, also when Connection names TE as RFC 9110
// §10.1.4 asks; gRPC servers need it. Other transfer codings stay behind.
func TestTETrailersKept(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{})
	tests := []struct {
		name   string
		header []string
		want   []string // the backend's TE
	}{
		{"trailers", []string{"Te", "trailers"}, []string{"trailers"}},
		{"among codings", []string{"Te", "gzip;q=0.5, Trailers "}, []string{"trailers"}},
		{"second field", []string{"Te", "deflate", "Te", "trailers"}, []string{"trailers"}},
		{"named by Connection", []string{"Connection", "TE", "Te", "trailers"}, []string{"trailers"}},
		{"codings only", []string{"Te", "gzip, deflate"}, nil},
		{"trailers with a weight is no trailers", []string{"Te", "trailers;q=1"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if res, _ := p.Do(t, "GET", "any", "/", tc.header...); res.StatusCode != http.StatusOK {
				t.Fatalf("got %d, want 200", res.StatusCode)
			}
			if got := backend.Last(t).Header["Te"]; !slices.Equal(got, tc.want) {
				t.Errorf("backend saw TE %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAnswerFieldsNotAdded: an answer reaches the client without fields its backend did not send,
// over HTTP/1.1 and HTTP/2 alike: no Date, no Content-Type sniffed from the body and, over HTTP/2,
// no Content-Length counted from it. Over HTTP/1.1 Content-Length or chunked is the framing of the
// client's connection, the server's choice.
func TestAnswerFieldsNotAdded(t *testing.T) {
	backend := proxytest.NewBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // net/http's way to send none
		w.Header()["Content-Type"] = nil
		switch r.URL.Path {
		case "/sized":
			w.Header().Set("Content-Length", "15")
			fmt.Fprint(w, "<html>hi</html>")
		case "/empty":
			w.(http.Flusher).Flush() // no Content-Length: chunked, and no chunk
		case "/json":
			fmt.Fprint(w, `{"a":1}`) // the example: Go would sniff text/plain
		}
	})
	for _, mode := range []string{"http", "https"} {
		t.Run(mode, func(t *testing.T) {
			p := proxytest.New(t, fmt.Sprintf(`* -> "http://%s"`, backend.Addr()), proxytest.Options{TLS: mode == "https"})
			for _, path := range []string{"/sized", "/empty", "/json"} {
				res, body := p.Do(t, "GET", "any", path)
				if res.StatusCode != http.StatusOK {
					t.Fatalf("%s: got %d %q, want 200", path, res.StatusCode, body)
				}
				for _, k := range []string{"Date", "Content-Type"} {
					if v, ok := res.Header[k]; ok {
						t.Errorf("%s over %s: the client got %s %q, which the backend did not send", path, res.Proto, k, v)
					}
				}
				cl, hasCL := res.Header["Content-Length"]
				switch {
				case path == "/sized" && (!slices.Equal(cl, []string{"15"}) || body != "<html>hi</html>"):
					t.Errorf("%s over %s: got Content-Length %q and %q, want the backend's 15 and body", path, res.Proto, cl, body)
				case path == "/json" && body != `{"a":1}`:
					t.Errorf("%s over %s: got body %q, want the backend's", path, res.Proto, body)
				case path == "/empty" && res.ProtoMajor == 2 && hasCL:
					t.Errorf("%s over HTTP/2: the client got Content-Length %q, which the backend did not send", path, cl)
				}
			}
		})
	}
}
