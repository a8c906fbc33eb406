package routing

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
)

// matchLinear is the reference matcher the indexes must agree with: of the routes whose
// predicates all hold, the first in precedence order, where a PathSubtree counts as the Path
// it stands for on this request path (see effectivePattern).
func (t *Table) matchLinear(r *http.Request) *Route {
	if t == nil {
		return nil
	}
	in := newMatchInput(r)
	p := in.path
	var best *Route
	for _, rt := range t.routes {
		if rt.m.match(&in) && (best == nil || compareRoutesOn(p, rt, best) < 0) {
			best = rt
		}
	}
	return best
}

// compareRoutesOn is compareRoutes for routes that both match the cleaned path p.
func compareRoutesOn(p string, a, b *Route) int {
	if a.m.path == nil || b.m.path == nil {
		return compareRoutes(a, b)
	}
	if c := comparePaths(effectivePattern(a.m.path, p), effectivePattern(b.m.path, p)); c != 0 {
		return c
	}
	return compareInBucket(a, b)
}

// effectivePattern returns the pattern a PathSubtree that matches p competes as, as Skipper
// files it: Path("/a") on /a, Path("/a/") on /a/, Path("/a/*") below. Other patterns are
// returned as they are.
func effectivePattern(pp *pathPattern, p string) *pathPattern {
	if !pp.subtree {
		return pp
	}
	base := pp.segs[:len(pp.segs)-1]
	depth := strings.Count(p, "/") // the segments of p, counting a trailing ""
	segs := slices.Clone(base)
	switch {
	case depth == len(base):
		segs = append(segs, pathSeg{kind: segEnd})
	case depth == len(base)+1 && strings.HasSuffix(p, "/"):
		segs = append(segs, pathSeg{kind: segStatic}, pathSeg{kind: segEnd})
	default:
		segs = append(segs, pathSeg{kind: segCatchAll})
	}
	return &pathPattern{segs: segs}
}

// choices turns fuzz input into decisions; once the input is used up, every choice is 0.
type choices struct{ data []byte }

func (c *choices) intn(n int) int {
	if len(c.data) == 0 || n <= 1 {
		return 0
	}
	b := c.data[0]
	c.data = c.data[1:]
	return int(b) % n
}

func (c *choices) pick(list []string) string { return list[c.intn(len(list))] }

// The vocabularies are small, so that random routes and requests often overlap.

func genSegments() []string { return []string{"a", "b", "c", ":x", ":y", "*r", "", "*"} }

func genHostRxs() []string {
	return []string{
		`^a[.]test$`, `^b[.]test(:\d+)?$`, `^(a|b)[.]test$`, `a`, `test$`, `^a`, `[.]`,
		`^a[.]test:8080$`, `(?i)^A[.]TEST$`, `^[ab][.]test$`, `a|b`, `^$`, `.*`,
		`^(a|www)[.]t[a-z]+$`, `*.test`, `^a[.]test(:\d*)?$`, `^a[.]test:\d+$`, `b[.]t`,
		`^(a|b)[.]test(?::[0-9]+)?$`, `www|^b`, `^a[.]test$|^c[.]test$`, `[.]test:80$`,
		`^a{1,2}[.]test$`, `^(a|b)+[.]test$`, `(a|xa)[.]test`, `^a[.]te(s|x)t$`, `^x?a[.]test`,
		`(^a|b)[.]test$`, `^a[.]test(:80|:8080)?$`,
	}
}

func genHostAny() []string {
	return []string{`"a.test"`, `"b.test:8080"`, `"a.test", "b.test"`, `"c.test", "a.test:8080"`, `""`}
}

func genHosts() []string {
	return []string{"a.test", "b.test", "a.test:8080", "b.test:80", "www.test", "", "c.test",
		"a", "A.TEST", "a.test:", "xa.test", "b.test:8080", "c.test:80", "a.tests", "x.test:8080",
		"aa.test", "ab.test", "a.text"}
}

func genPaths() []string {
	return []string{"/", "/a", "/a/", "/a/b", "/b/a", "/a/b/c", "/c", "/a/x", "/x/y/z", "/a//b", "/a/./c/..", "/b/"}
}

// genPredicate returns one random predicate in eskip syntax.
func genPredicate(c *choices) string {
	switch c.intn(16) {
	case 0, 1, 2:
		return fmt.Sprintf("Host(%q)", c.pick(genHostRxs()))
	case 3:
		return "HostAny(" + c.pick(genHostAny()) + ")"
	case 4:
		return fmt.Sprintf("Method(%q)", c.pick([]string{"GET", "POST"}))
	case 5:
		return fmt.Sprintf("Weight(%d)", c.intn(4))
	case 6:
		return c.pick([]string{"True()", "*", "False()"})
	case 7:
		return fmt.Sprintf("Header(\"X-A\", %q)", c.pick([]string{"1", "2"}))
	case 8:
		return fmt.Sprintf("PathRegexp(%q)", c.pick([]string{"^/a", "b$", "/"}))
	case 9:
		return fmt.Sprintf("QueryParam(\"q\"%s)", c.pick([]string{"", `, "^1$"`}))
	case 10:
		return fmt.Sprintf("Source(%q)", c.pick([]string{"10.0.0.0/8", "192.0.2.1"}))
	case 11:
		// Always or never, so that the result stays deterministic; neither adds to the weight.
		return c.pick([]string{"TrafficSegment(0, 1)", "TrafficSegment(0, 0)"})
	case 12:
		return c.pick([]string{"ContentLengthBetween(0, 1)", `ForwardedProtocol("http")`})
	}
	seg := make([]string, 1+c.intn(3))
	for i := range seg {
		seg[i] = c.pick(genSegments())
	}
	return fmt.Sprintf("%s(%q)", c.pick([]string{"Path", "PathSubtree"}), "/"+strings.Join(seg, "/"))
}

// genRoutes returns a random eskip document of up to 24 routes with ids r0, r1, ...
func genRoutes(c *choices) string {
	var b strings.Builder
	n := c.intn(25)
	for i := 0; i < n; i++ {
		preds := make([]string, 1+c.intn(3))
		for j := range preds {
			preds[j] = genPredicate(c)
		}
		fmt.Fprintf(&b, "r%d: %s -> <shunt>;\n", c.intn(40), strings.Join(preds, " && "))
	}
	return b.String()
}

func genRequest(c *choices) *http.Request {
	method := c.pick([]string{"GET", "POST"})
	target := c.pick(genPaths()) + c.pick([]string{"", "?q=1", "?q=2"})
	r := httptest.NewRequest(method, target, nil)
	r.Host = c.pick(genHosts())
	if c.intn(2) == 1 {
		r.Header.Set("X-A", c.pick([]string{"1", "2"}))
	}
	if c.intn(2) == 1 {
		r.Header.Set("Forwarded", "proto=http")
	}
	if c.intn(2) == 1 {
		r.Header.Set(headerXForwardedFor, c.pick([]string{"10.1.2.3", "192.0.2.1, 10.0.0.1"}))
	}
	return r
}

// checkAgainstReference compiles src (skipping routes that fail) and checks that Match, on
// tables indexed with several thresholds, agrees with matchLinear for every request.
func checkAgainstReference(t *testing.T, src string, reqs []*http.Request) {
	t.Helper()
	defs, err := Parse("gen.eskip", src)
	if err != nil {
		return // the generator may produce two Path predicates in a route
	}
	tbl, _ := Compile(defs, CompileOptions{})
	tables := []*Table{tbl, indexTable(tbl.routes, 0), indexTable(tbl.routes, 2)}
	for _, r := range reqs {
		want := routeID(tbl.matchLinear(r))
		for i, x := range tables {
			if got := routeID(x.Match(r)); got != want {
				t.Fatalf("table %d: %s %s (host %q) matched %s, want %s\nroutes:\n%s",
					i, r.Method, r.URL, r.Host, got, want, src)
			}
		}
	}
}

func routeID(r *Route) string {
	if r == nil {
		return "<nil>"
	}
	return r.ID
}

// TestMatchAgreesWithReference compares the indexed matcher with the linear scan on random
// tables and on the route files in testdata/routes.
func TestMatchAgreesWithReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	iterations := 3000
	if testing.Short() {
		iterations = 300
	}
	for i := 0; i < iterations; i++ {
		data := make([]byte, 400)
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		c := &choices{data: data}
		src := genRoutes(c)
		reqs := make([]*http.Request, 20)
		for j := range reqs {
			reqs[j] = genRequest(c)
		}
		checkAgainstReference(t, src, reqs)
	}
	for _, file := range fixtures(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var reqs []*http.Request
		for _, h := range genHosts() {
			for _, p := range append(genPaths(), "/users/me", "/users/42/posts", "/api/v2/x", "/files/a") {
				r := httptest.NewRequest(http.MethodGet, p, nil)
				r.Host = h
				reqs = append(reqs, r)
			}
		}
		checkAgainstReference(t, string(src), reqs)
	}
}

// FuzzMatch builds a small table and requests from the input and checks that the indexed
// matcher agrees with the linear scan.
func FuzzMatch(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20; i++ {
		data := make([]byte, 200)
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &choices{data: data}
		src := genRoutes(c)
		reqs := make([]*http.Request, 8)
		for j := range reqs {
			reqs[j] = genRequest(c)
		}
		checkAgainstReference(t, src, reqs)
	})
}
