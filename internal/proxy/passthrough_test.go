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
