package h1_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/skipper-egress/skipper/internal/h1"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

// BenchmarkRoundTrip compares this package's client with net/http's on the same loopback
// backend: a GET with a few headers and a small answer, from parallel callers.
func BenchmarkRoundTrip(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	benchRoundTrips(b, backend.URL, 0, []benchClient{
		{"h1", h1.New(h1.Options{}), 1},
		{"net-http", &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}, 1},
	})
}

// benchClient is a client under benchmark, and the HTTP major version it must answer with.
type benchClient struct {
	name  string
	rt    http.RoundTripper
	proto int
}

// benchRoundTrips runs a GET with a few headers and a small answer against url through each
// client, from parallel callers (parallelism callers per CPU; zero for the default).
func benchRoundTrips(b *testing.B, url string, parallelism int, clients []benchClient) {
	for _, c := range clients {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			if parallelism > 0 {
				b.SetParallelism(parallelism)
			}
			b.RunParallel(func(pb *testing.PB) {
				req, _ := http.NewRequest(http.MethodGet, url+"/path?q=1", nil)
				req.Header.Set("Authorization", "Bearer token")
				req.Header.Set("Accept", "application/json")
				for pb.Next() {
					res, err := c.rt.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					if res.ProtoMajor != c.proto {
						b.Fatalf("%s: answered over %s", c.name, res.Proto)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
			})
		})
	}
}

// BenchmarkRoundTripTLS compares, against one https backend that offers HTTP/2 and HTTP/1.1 as
// most do, this package's HTTP/1.1 pool with net/http's client over HTTP/2 (one connection for
// all callers, the proxy's choice before) and over HTTP/1.1. SetParallelism(25) makes fifty
// callers on two cores, as the load test's fifty connections. The server's CPU is part of each
// figure, as a backend's is part of what a proxy costs the machine.
func BenchmarkRoundTripTLS(b *testing.B) {
	cert, roots := proxytest.NewCert(b, "127.0.0.1")
	backend := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	backend.EnableHTTP2 = true
	backend.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	backend.StartTLS()
	defer backend.Close()
	conf := &tls.Config{RootCAs: roots}
	h2 := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true, TLSClientConfig: conf.Clone(), ForceAttemptHTTP2: true}
	http1 := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true, TLSClientConfig: conf.Clone(),
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}} // non-nil and empty: no HTTP/2
	benchRoundTrips(b, backend.URL, 25, []benchClient{
		{"h1", h1.New(h1.Options{TLSClientConfig: conf}), 1},
		{"net-http-h2", h2, 2},
		{"net-http-http1", http1, 1},
	})
}
