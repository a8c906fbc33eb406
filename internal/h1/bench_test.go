package h1_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/skipper-egress/skipper/internal/h1"
)

// BenchmarkRoundTrip compares this package's client with net/http's on the same loopback
// backend: a GET with a few headers and a small answer, from parallel callers.
func BenchmarkRoundTrip(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	for _, tc := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"h1", h1.New(h1.Options{})},
		{"net-http", &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req, _ := http.NewRequest(http.MethodGet, backend.URL+"/path?q=1", nil)
				req.Header.Set("Authorization", "Bearer token")
				req.Header.Set("Accept", "application/json")
				for pb.Next() {
					res, err := tc.rt.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			})
		})
	}
}
