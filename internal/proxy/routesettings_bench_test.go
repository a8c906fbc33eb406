package proxy

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/routing"
)

// BenchmarkRouteSettings is the per-request work of finding a route's settings: its client and
// backend deadlines, breaker, path parameters and consistentHash key, for a route with none of
// them and for one with all of them, behind four ordinary filters.
func BenchmarkRouteSettings(b *testing.B) {
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{})...)
	if err != nil {
		b.Fatal(err)
	}
	const common = `setRequestHeader("X-A", "1") -> setRequestHeader("X-B", "${request.path}")
		-> dropRequestHeader("X-C") -> appendRequestHeader("X-D", "1")`
	for _, bc := range []struct{ name, route string }{
		{"none", `r: * -> ` + common + ` -> "http://a.test"`},
		{"all", `r: * -> ` + common + ` -> readTimeout("10s") -> writeTimeout("10s") -> backendTimeout("10s")
			-> consecutiveBreaker(5) -> consistentHashKey("${request.header.X-K}") -> "http://a.test"`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			defs, err := routing.Parse("bench", bc.route)
			if err != nil {
				b.Fatal(err)
			}
			table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			route := table.Routes()[0]
			p := New(Options{Router: routing.NewRouter(), Breakers: circuit.NewRegistry(circuit.Options{})})
			r := httptest.NewRequest("POST", "http://a.test/x", strings.NewReader("body"))
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				setWriteDeadline(w, route)
				setReadDeadline(w, route, r) // the recorder takes no deadline: r stays as it is
				bounded, cancel := withBackendTimeout(route, r)
				cancel()
				_ = p.breaker(route, "a.test:80")
				_ = pathParams(route, r)
				_ = hashKeyOf(route, bounded)
			}
		})
	}
}
