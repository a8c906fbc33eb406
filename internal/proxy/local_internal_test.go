package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

func compileTable(t *testing.T, reg *filters.Registry, routes string) *routing.Table {
	t.Helper()
	defs, err := routing.Parse("test", routes)
	if err != nil {
		t.Fatal(err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return table
}

// TestLoopbackKeepsTheRouteTable checks that a request passing a <loopback> route is matched
// again in the table it started with, not in one loaded meanwhile.
func TestLoopbackKeepsTheRouteTable(t *testing.T) {
	reg, err := filters.NewRegistry(filters.NewSetPath(), filters.NewStatus())
	if err != nil {
		t.Fatal(err)
	}
	started := compileTable(t, reg, `
		outer: Path("/outer") -> setPath("/inner") -> <loopback>;
		inner: Path("/inner") -> status(204) -> <shunt>;`)
	router := routing.NewRouter()
	router.Swap(compileTable(t, reg, `other: Path("/other") -> <shunt>`)) // loaded meanwhile
	p := New(Options{Router: router})

	r := httptest.NewRequest(http.MethodGet, "http://a.test/outer", nil)
	rec := httptest.NewRecorder()
	w := &responseRecorder{ResponseWriter: rec, table: started}
	p.serveRoute(w, r, r, started.Match(r), 0)
	if rec.Code != http.StatusNoContent {
		t.Errorf("got %d, want 204 from the inner route of the table the request started with", rec.Code)
	}
}
