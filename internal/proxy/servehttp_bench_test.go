package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/routing"
)

// BenchmarkServeHTTP is the proxy's own work per request, without sockets, client or backend:
// ServeHTTP on a reused request, into a writer that keeps nothing, through a transport that
// answers at once. Unlike BenchmarkProxyLoopback, where the proxy's share is a fraction of
// ns/op, a change on the request path shows here whole.
//
//	go test ./internal/proxy -run '^$' -bench ServeHTTP -benchmem -count 6
func BenchmarkServeHTTP(b *testing.B) {
	for _, bc := range []struct{ name, route string }{
		{"plain", `r: Host("h.test") -> setRequestHeader("X-A", "1") -> "http://backend.test"`},
		{"settings", `r: Host("h.test") -> readTimeout("10s") -> writeTimeout("10s") -> backendTimeout("10s")
			-> consecutiveBreaker(5) -> setRequestHeader("X-A", "${request.path}") -> "http://backend.test"`},
		{"lb", `r: Host("h.test") -> consistentHashKey("${request.header.X-Tenant}") -> setRequestHeader("X-A", "1")
			-> <consistentHash, "http://a.test", "http://b.test", "http://c.test">`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := benchProxy(b, bc.route)
			r := httptest.NewRequest("GET", "http://h.test/foo/bar?a=1&b=2", nil)
			r.Header.Set("X-Tenant", "t1")
			r.Header.Set("User-Agent", "bench")
			w := &discardWriter{h: make(http.Header)}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.code = 0
				p.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

func benchProxy(b *testing.B, route string) *proxy.Proxy {
	b.Helper()
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{})...)
	if err != nil {
		b.Fatal(err)
	}
	defs, err := routing.Parse("bench", route)
	if err != nil {
		b.Fatal(err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	router := routing.NewRouter()
	router.Swap(table)
	return proxy.New(proxy.Options{
		Router:    router,
		Transport: answerOK{},
		Breakers:  circuit.NewRegistry(circuit.Options{}),
	})
}

// answerOK is a transport whose backend answers every request 200 "ok" at once.
type answerOK struct{}

func (answerOK) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"2"}},
		Body:          io.NopCloser(strings.NewReader("ok")),
		ContentLength: 2,
		Request:       r,
	}, nil
}

// discardWriter is a ResponseWriter that remembers the status and drops the body.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}
