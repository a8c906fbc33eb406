package routing

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// request describes a test request: "METHOD target" plus optional host and headers.
type request struct {
	target  string // "GET /path" or "GET http://host/path"
	host    string // Host header; httptest's default is example.com
	headers map[string]string
	remote  string // RemoteAddr; httptest's default is 192.0.2.1:1234
}

func (rq request) build() *http.Request {
	method, target, _ := strings.Cut(rq.target, " ")
	r := httptest.NewRequest(method, target, nil)
	if rq.host != "" {
		r.Host = rq.host
	}
	for k, v := range rq.headers {
		r.Header.Set(k, v)
	}
	if rq.remote != "" {
		r.RemoteAddr = rq.remote
	}
	return r
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		routes string
		req    request
		want   string // route id, or "<nil>"
	}{
		// Host.
		{"host regexp is unanchored", `a: Host("host1") -> <shunt>`, request{target: "GET /", host: "myhost10:9090"}, "a"},
		{"host is case sensitive", `a: Host("Host1") -> <shunt>`, request{target: "GET /", host: "host1"}, "<nil>"},
		{"host includes port", `a: Host("^a[.]test$") -> <shunt>`, request{target: "GET /", host: "a.test:8080"}, "<nil>"},
		{"host predicates are ANDed", `a: Host("a") && Host("b") -> <shunt>`, request{target: "GET /", host: "ab"}, "a"},
		{"host predicates are ANDed, one fails", `a: Host("a") && Host("c") -> <shunt>`, request{target: "GET /", host: "ab"}, "<nil>"},
		{"host wildcard", `a: Host("*.example.org") -> <shunt>`, request{target: "GET /", host: "api-v2.example.org"}, "a"},
		{"absolute form uses URI host", `a: Host("^uri[.]test$") -> <shunt>`, request{target: "GET http://uri.test/x"}, "a"},
		{"HostAny exact", `a: HostAny("a.test", "b.test:8080") -> <shunt>`, request{target: "GET /", host: "b.test:8080"}, "a"},
		{"HostAny no substring", `a: HostAny("a.test") -> <shunt>`, request{target: "GET /", host: "a.test:80"}, "<nil>"},
		{"anchored host without port", `a: Host("^a[.]test$") -> <shunt>`, request{target: "GET /", host: "a.test"}, "a"},
		{"optional port, none given", `a: Host("^a[.]test(:\\d+)?$") -> <shunt>`, request{target: "GET /", host: "a.test"}, "a"},
		{"optional port given", `a: Host("^a[.]test(:\\d+)?$") -> <shunt>`, request{target: "GET /", host: "a.test:9090"}, "a"},
		{"optional port, empty", `a: Host("^a[.]test(:\\d+)?$") -> <shunt>`, request{target: "GET /", host: "a.test:"}, "<nil>"},
		{"host with port only", `a: Host("^a[.]test:8080$") -> <shunt>`, request{target: "GET /", host: "a.test"}, "<nil>"},
		{"host with port only, given", `a: Host("^a[.]test:8080$") -> <shunt>`, request{target: "GET /", host: "a.test:8080"}, "a"},
		{"host alternatives", `a: Host("^(api|www)[.]test$") -> <shunt>`, request{target: "GET /", host: "www.test"}, "a"},
		{"host alternatives, other host", `a: Host("^(api|www)[.]test$") -> <shunt>`, request{target: "GET /", host: "wwwapi.test"}, "<nil>"},
		{"port and portless routes", `a: Host("^a[.]test$") -> <shunt>; b: Host("^a[.]test:8080$") -> <shunt>`, request{target: "GET /", host: "a.test:8080"}, "b"},
		// Method, Header.
		{"method", `a: Method("POST") -> <shunt>; b: * -> <shunt>`, request{target: "POST /"}, "a"},
		{"method mismatch", `a: Method("POST") -> <shunt>; b: * -> <shunt>`, request{target: "GET /"}, "b"},
		{"methods list", `a: Methods("get", "put") -> <shunt>`, request{target: "PUT /"}, "a"},
		{"header exact", `a: Header("x-team", "pay") -> <shunt>`, request{target: "GET /", headers: map[string]string{"X-Team": "pay"}}, "a"},
		{"header exact differs", `a: Header("X-Team", "pay") -> <shunt>`, request{target: "GET /", headers: map[string]string{"X-Team": "payments"}}, "<nil>"},
		{"Header Host never matches", `a: Header("Host", "example.com") -> <shunt>`, request{target: "GET /"}, "<nil>"},
		{"header regexp", `a: HeaderRegexp("Accept", "json") -> <shunt>`, request{target: "GET /", headers: map[string]string{"Accept": "application/json"}}, "a"},
		{"path regexp on cleaned path", `a: PathRegexp("^/a/c$") -> <shunt>`, request{target: "GET /a/b/../c"}, "a"},
		{"False never matches", `a: False() -> <shunt>`, request{target: "GET /"}, "<nil>"},
		// Paths.
		{"exact path", `a: Path("/foo") -> <shunt>`, request{target: "GET /foo"}, "a"},
		{"exact path no trailing slash", `a: Path("/foo") -> <shunt>`, request{target: "GET /foo/"}, "<nil>"},
		{"exact path with trailing slash", `a: Path("/foo/") -> <shunt>`, request{target: "GET /foo/"}, "a"},
		{"subtree matches itself", `a: PathSubtree("/foo") -> <shunt>`, request{target: "GET /foo"}, "a"},
		{"subtree matches slash", `a: PathSubtree("/foo") -> <shunt>`, request{target: "GET /foo/"}, "a"},
		{"subtree matches below", `a: PathSubtree("/foo") -> <shunt>`, request{target: "GET /foo/bar/baz"}, "a"},
		{"subtree is not a prefix", `a: PathSubtree("/foo") -> <shunt>`, request{target: "GET /foobar"}, "<nil>"},
		{"subtree root", `a: PathSubtree("/") -> <shunt>`, request{target: "GET /anything/at/all"}, "a"},
		{"param", `a: Path("/u/:id") -> <shunt>`, request{target: "GET /u/42"}, "a"},
		{"param needs a segment", `a: Path("/u/:id") -> <shunt>`, request{target: "GET /u/"}, "<nil>"},
		{"catch-all", `a: Path("/f/*rest") -> <shunt>`, request{target: "GET /f/a/b"}, "a"},
		{"catch-all needs a remainder", `a: Path("/f/*rest") -> <shunt>`, request{target: "GET /f/"}, "<nil>"},
		{"dot segments cleaned", `a: Path("/a/c") -> <shunt>`, request{target: "GET /a/./b/../c"}, "a"},
		{"final dot leaves a slash", `a: Path("/a/b") -> <shunt>`, request{target: "GET /a/b/."}, "<nil>"},
		{"final dot matches trailing slash", `a: Path("/a/b/") -> <shunt>`, request{target: "GET /a/b/."}, "a"},
		{"double slash cleaned", `a: Path("/a/b") -> <shunt>`, request{target: "GET //a//b"}, "a"},
		{"encoded slash decoded", `a: Path("/a/b") -> <shunt>`, request{target: "GET /a%2Fb"}, "a"},
		{"query ignored", `a: Path("/a") -> <shunt>`, request{target: "GET /a?x=1"}, "a"},
		// Precedence.
		{"path route beats more predicates", `p: Path("/x") -> <shunt>; h: Host("example") && Method("GET") && True() -> <shunt>`, request{target: "GET /x"}, "p"},
		{"non-path route when path fails", `p: Path("/x") -> <shunt>; h: Host("example") -> <shunt>`, request{target: "GET /y"}, "h"},
		{"exact beats subtree of equal weight", `s: PathSubtree("/foo") -> <shunt>; e: Path("/foo") -> <shunt>`, request{target: "GET /foo"}, "e"},
		{"subtree with more predicates beats exact", `s: PathSubtree("/foo") && True() && True() -> <shunt>; e: Path("/foo") -> <shunt>`, request{target: "GET /foo"}, "s"},
		{"catch-all and subtree share by weight", `c: Path("/foo/*r") -> <shunt>; s: PathSubtree("/foo") && True() -> <shunt>`, request{target: "GET /foo/x"}, "s"},
		{"catch-all beats subtree of equal weight", `s: PathSubtree("/foo") -> <shunt>; c: Path("/foo/*r") -> <shunt>`, request{target: "GET /foo/x"}, "c"},
		{"longer subtree wins", `s: PathSubtree("/a") -> <shunt>; l: PathSubtree("/a/b") -> <shunt>`, request{target: "GET /a/b/c"}, "l"},
		{"shorter subtree elsewhere", `s: PathSubtree("/a") -> <shunt>; l: PathSubtree("/a/b") -> <shunt>`, request{target: "GET /a/c"}, "s"},
		{"static beats param", `p: Path("/u/:id") -> <shunt>; s: Path("/u/me") -> <shunt>`, request{target: "GET /u/me"}, "s"},
		{"param beats catch-all", `c: Path("/u/*rest") -> <shunt>; p: Path("/u/:id") -> <shunt>`, request{target: "GET /u/me"}, "p"},
		{"param beats subtree", `s: PathSubtree("/u") -> <shunt>; p: Path("/u/:id") -> <shunt>`, request{target: "GET /u/me"}, "p"},
		{"failed static branch falls back", `s: Path("/u/me") && Method("POST") -> <shunt>; p: Path("/u/:id") -> <shunt>`, request{target: "GET /u/me"}, "p"},
		{"static deeper beats param earlier", `a: Path("/:x/b") -> <shunt>; b: Path("/a/:y") -> <shunt>`, request{target: "GET /a/b"}, "b"},
		{"more predicates win", `a: Path("/t") -> <shunt>; b: Path("/t") && True() -> <shunt>`, request{target: "GET /t"}, "b"},
		{"weight wins", `a: Path("/t") && Weight(100) -> <shunt>; b: Path("/t") && True() && True() -> <shunt>`, request{target: "GET /t"}, "a"},
		{"weight fraction dropped", `a: Weight(1.9) -> <shunt>; b: True() -> <shunt>`, request{target: "GET /"}, "a"},
		{"star counts nothing", `a: * -> <shunt>; b: True() -> <shunt>`, request{target: "GET /"}, "b"},
		{"tie broken by id", `b: Method("GET") -> <shunt>; a: Host("example") -> <shunt>`, request{target: "GET /"}, "a"},
		{"tie broken by id, other order", `a: Host("example") -> <shunt>; b: Method("GET") -> <shunt>`, request{target: "GET /"}, "a"},
		{"subtree with more predicates", `a: PathSubtree("/") -> <shunt>; b: PathSubtree("/") && Header("X", "1") -> <shunt>`, request{target: "GET /z", headers: map[string]string{"X": "1"}}, "b"},
		{"no routes", ``, request{target: "GET /"}, "<nil>"},
		{"no route for host", `a: Host("^a[.]test$") -> <shunt>; b: Path("/x") -> <shunt>`, request{target: "GET /y", host: "b.test"}, "<nil>"},
		{"unnamed route", `* -> <shunt>`, request{target: "GET /"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl := mustCompile(t, tc.routes)
			r := tc.req.build()
			before := r.URL.String() + r.Host
			got := "<nil>"
			if rt := tbl.Match(r); rt != nil {
				got = rt.ID
			}
			if got != tc.want {
				t.Errorf("%s (host %s) matched %q, want %q", tc.req.target, r.Host, got, tc.want)
			}
			if after := r.URL.String() + r.Host; after != before {
				t.Errorf("Match modified the request: %s became %s", before, after)
			}
		})
	}
}

// TestMatchFixture routes requests through testdata/routes/paths.eskip.
func TestMatchFixture(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(routesDir, "paths.eskip"))
	if err != nil {
		t.Fatal(err)
	}
	tbl := mustCompile(t, string(src))
	tests := []struct{ path, want string }{
		{"/", "root"},
		{"/users", "users"},
		{"/users/", "users_slash"},
		{"/users/42", "user"},
		{"/users/me", "user_me"},
		{"/users/me/posts", "user_posts"},
		{"/users/42/comments", "everything"},
		{"/files/a/b.txt", "files"},
		{"/files/", "everything"},
		{"/api", "api"},
		{"/api/v1/x", "api"},
		{"/api/v2", "api_v2"},
		{"/api/v2/x/y", "api_v2"},
		{"/api/v3/", "api_v2_rest"},
		{"/a/c/d", "dotted"},
		{"/x/../a/c/d", "dotted"},
		{"/nothing", "everything"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			got := "<nil>"
			if rt := tbl.Match(httptest.NewRequest(http.MethodGet, tc.path, nil)); rt != nil {
				got = rt.ID
			}
			if got != tc.want {
				t.Errorf("%s matched %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

// TestMatchIndependentOfOrder compiles the same routes in every rotation and expects the same
// priority order each time.
func TestMatchIndependentOfOrder(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(routesDir, "weights.eskip"))
	if err != nil {
		t.Fatal(err)
	}
	defs := mustParse(t, string(src))
	var want string
	for i := range defs {
		rotated := append(append([]*RouteDef{}, defs[i:]...), defs[:i]...)
		tbl, errs := Compile(rotated, CompileOptions{Filters: testRegistry(t)})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		var ids []string
		for _, r := range tbl.Routes() {
			ids = append(ids, r.ID)
		}
		got := strings.Join(ids, " ")
		if i == 0 {
			want = got
		} else if got != want {
			t.Errorf("rotation %d: got order %s, want %s", i, got, want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"a", "/a"},
		{"/a/b/", "/a/b/"},
		{"//a///b", "/a/b"},
		{"/a/./b/../c/", "/a/c/"},
		{"/a/b/..", "/a"},
		{"/..", "/"},
		{"/../", "/"},
		{"/a/.b/..c", "/a/.b/..c"},
		{"/a/b/.", "/a/b/"},
		{"/a/b/./", "/a/b/"},
		{"/a/b/../.", "/a/"},
		{"/.", "/"},
		{".", "/"},
		{"a/", "/a"},
		{"ab/", "/ab/"},
		{"/a/...", "/a/..."},
	}
	for _, tc := range tests {
		if got := cleanPath(tc.in); got != tc.want {
			t.Errorf("cleanPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRouter(t *testing.T) {
	rt := NewRouter()
	if rt.Load() == nil || rt.Load().Len() != 0 {
		t.Fatalf("new router: got %v, want an empty table", rt.Load())
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if got := rt.Match(req); got != nil {
		t.Errorf("empty router matched %q", got.ID)
	}
	tbl := mustCompile(t, `a: * -> <shunt>`)
	rt.Swap(tbl)
	if got := rt.Match(req); got == nil || got.ID != "a" {
		t.Errorf("got %v, want route a", got)
	}
	rt.Swap(nil)
	if rt.Load() == nil || rt.Match(req) != nil {
		t.Errorf("after Swap(nil): got %v, want an empty table", rt.Load())
	}
	var nilTable *Table
	if nilTable.Match(req) != nil || nilTable.Len() != 0 || nilTable.Routes() != nil {
		t.Error("nil table is not empty")
	}
}

// TestRouterConcurrent swaps tables while requests match, for the race detector.
func TestRouterConcurrent(t *testing.T) {
	rt := NewRouter()
	tables := []*Table{
		mustCompile(t, `a: * -> <shunt>`),
		mustCompile(t, `b: * -> <shunt>`),
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/%d", i), nil)
				if r := rt.Match(req); r != nil && r.ID != "a" && r.ID != "b" {
					t.Errorf("matched unexpected route %q", r.ID)
					return
				}
			}
		}()
	}
	for i := 0; i < 1000; i++ {
		rt.Swap(tables[i%2])
	}
	wg.Wait()
}
