package routing

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// benchShape is one kind of table for the matcher benchmarks: route i in eskip, and a
// request that only route i matches.
type benchShape struct {
	name  string
	route func(i int) string // predicates of route i
	host  func(i int) string
	path  func(i int) string
}

// benchShapes are the shapes of issue #3 (literal-host, host-path, host-alternatives), then
// shapes that show how other Host predicates scale: a path alone, an unanchored literal host
// and a general regexp.
func benchShapes() []benchShape {
	apiHost := func(i int) string { return fmt.Sprintf("api-%d.example.org", i) }
	anyPath := func(int) string { return "/v1/things" }
	return []benchShape{
		{"literal-host", func(i int) string { return fmt.Sprintf(`Host("^api-%d[.]example[.]org$")`, i) }, apiHost, anyPath},
		{"host-path", func(i int) string {
			return fmt.Sprintf(`Host("^api-%d[.]example[.]org$") && Path("/svc-%d/v1/:id")`, i/10, i%10)
		}, func(i int) string { return apiHost(i / 10) }, func(i int) string { return fmt.Sprintf("/svc-%d/v1/42", i%10) }},
		{"host-alternatives", func(i int) string { return fmt.Sprintf(`Host("^(api-%d|www-%d)[.]example[.]org$")`, i, i) },
			func(i int) string { return fmt.Sprintf("www-%d.example.org", i) }, anyPath},
		{"path", func(i int) string { return fmt.Sprintf(`Path("/svc-%d/v1/:id")`, i) },
			func(int) string { return "api.example.org" }, func(i int) string { return fmt.Sprintf("/svc-%d/v1/42", i) }},
		{"unanchored-host", func(i int) string { return fmt.Sprintf(`Host("api-%d[.]example[.]org")`, i) }, apiHost, anyPath},
		{"regexp-host", func(i int) string { return fmt.Sprintf(`Host("^(api|www)-%d[.][a-z]+[.]org$")`, i) }, apiHost, anyPath},
	}
}

// source returns n routes of the shape, ids r000000 and up, each with a filter and a
// network backend as egress routes have.
func (s benchShape) source(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "r%06d: %s -> bearerinjector(\"/secrets/%d\") -> \"https://api-%d.example.org\";\n", i, s.route(i), i, i)
	}
	return b.String()
}

// BenchmarkMatch matches against tables of 10 to 100,000 routes of each shape: "last" asks for
// the last route in precedence order, the one a linear scan finds last; "miss" for the host and
// path that route n would have, which no route matches. literal-host also runs the linear scan ("linear-last") for comparison, up to
// 10,000 routes.
func BenchmarkMatch(b *testing.B) {
	for _, s := range benchShapes() {
		for _, n := range []int{10, 1000, 10000, 100000} {
			tbl := mustCompile(b, s.source(n))
			last := fmt.Sprintf("r%06d", n-1)
			if id := tbl.Routes()[n-1].ID; id != last {
				b.Fatalf("%s: last route is %s, want %s", s.name, id, last)
			}
			hit := httptest.NewRequest(http.MethodGet, s.path(n-1), nil)
			hit.Host = s.host(n - 1)
			// Route n does not exist, but its host and path resemble the others'.
			miss := httptest.NewRequest(http.MethodGet, s.path(n), nil)
			miss.Host = s.host(n)
			run := func(name string, r *http.Request, want string, match func(*http.Request) *Route) {
				b.Run(fmt.Sprintf("%s/routes=%d/%s", s.name, n, name), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if got := routeID(match(r)); got != want {
							b.Fatalf("got route %s, want %s", got, want)
						}
					}
				})
			}
			run("last", hit, last, tbl.Match)
			run("miss", miss, "<nil>", tbl.Match)
			if s.name == "literal-host" && n <= 10000 {
				run("linear-last", hit, last, tbl.matchLinear)
			}
		}
	}
}

// BenchmarkCompile100k compiles 100,000 parsed routes of each issue #3 shape. Besides time
// and allocated bytes per compile, it reports the heap the table keeps (after GC, without the
// definitions) as table-MB.
func BenchmarkCompile100k(b *testing.B) {
	for _, s := range benchShapes()[:3] {
		b.Run(s.name, func(b *testing.B) {
			defs, err := Parse("bench.eskip", s.source(100000))
			if err != nil {
				b.Fatal(err)
			}
			opts := CompileOptions{Filters: testRegistry(b)}
			b.ReportAllocs()
			for b.Loop() {
				if tbl, errs := Compile(defs, opts); len(errs) > 0 || tbl.Len() != 100000 {
					b.Fatalf("got %d routes and errors %v", tbl.Len(), errs)
				}
			}
			// After the loop: b.Loop drops metrics reported before it.
			b.ReportMetric(heapGrowthMB(func() any {
				tbl, _ := Compile(defs, opts)
				return tbl
			}), "table-MB")
		})
	}
}

// heapGrowthMB returns by how many MB the live heap grows while build's result is kept.
func heapGrowthMB(build func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
}

// BenchmarkParse parses a document of 1,000 routes.
func BenchmarkParse(b *testing.B) {
	var src strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&src, "r%d: Host(\"^api%d[.]example[.]org$\") && PathSubtree(\"/v1\") -> bearerinjector(\"/secrets/%d\") -> \"https://api%d.example.org\";\n", i, i, i, i)
	}
	doc := src.String()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("", doc); err != nil {
			b.Fatal(err)
		}
	}
}
