package routing

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp/syntax"
	"strings"
	"testing"
)

// TestHostIndexKeys shows which Host regexps the index finds through a map of hosts, which
// through literals they must contain, and which it tries for every request.
func TestHostIndexKeys(t *testing.T) {
	tests := []struct {
		expr string
		keys []string   // exact keys; nil when not indexed by key
		lits [][]string // required literals, when not indexed by key
	}{
		{`^api-17[.]example[.]org$`, []string{"api-17.example.org"}, nil},
		{`^api-17\.example\.org:8080$`, []string{"api-17.example.org"}, nil},
		{`^(api-17|www-17)[.]example[.]org$`, []string{"api-17.example.org", "www-17.example.org"}, nil},
		{`^a[.]b(:\d+)?$`, []string{"a.b"}, nil},
		{`^a[.]b(:\d*)?$`, []string{"a.b"}, nil},
		{`^a[.]b(?::[0-9]{2,5})?$`, []string{"a.b"}, nil},
		{`^[ab][.]c$`, []string{"a.c", "b.c"}, nil},
		{`^$`, []string{""}, nil},
		{`^a$|^b:80$`, []string{"a", "b"}, nil},
		{`host1`, nil, [][]string{{"host1"}}},
		{`^api[.]github[.]com`, nil, [][]string{{"api.github.com"}}},
		{`api.github.com`, nil, [][]string{{"api", "github", "com"}}},
		{`^(api|www)-17[.][a-z]+[.]org$`, nil, [][]string{{"-17.", ".org"}}},
		{`[a-z0-9]+((-[a-z0-9]+)?)*\.example\.org`, nil, [][]string{{".example.org"}}},
		{`(a|xa)[.]test`, nil, [][]string{{"a.test"}, {"xa.test"}}},
		{`a|b+`, nil, [][]string{{"a"}, {"b"}}},
		{`(?i)^api[.]example[.]org$`, nil, [][]string{{".", "."}}},
		{`.*`, nil, nil},
		{`a|.`, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			m, err := compilePredicates([]Call{{Name: predHost, Args: []any{tc.expr}}}, predicateEnv{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.keys != nil {
				if !m.hostKeyed || !reflect.DeepEqual(m.hostKeys, tc.keys) {
					t.Errorf("got keys %q (keyed %v), want %q", m.hostKeys, m.hostKeyed, tc.keys)
				}
				return
			}
			if m.hostKeyed {
				t.Fatalf("got keys %q, want none", m.hostKeys)
			}
			if !reflect.DeepEqual(m.hostLits(), tc.lits) {
				t.Errorf("got literals %q, want %q", m.hostLits(), tc.lits)
			}
		})
	}
}

// TestHostKeysCoverMatches checks the promise behind exactKeys: any host a regexp matches has
// its hostKey among the regexp's keys.
func TestHostKeysCoverMatches(t *testing.T) {
	exprs := []string{`^a[.]b(:\d+)?$`, `^a[.]b(:\d*)?$`, `^a[.]b:\d+$`, `^a:1(:\d+)?$`, `^(a|b:1)$`, `^:(:\d+)?$`}
	hosts := []string{"a.b", "a.b:1", "a.b:", "a.b:12:3", "a:1", "a:1:2", "a", "b:1", ":", "::1", "::"}
	for _, expr := range exprs {
		tm, a, err := compileText(expr)
		if err != nil {
			t.Fatal(err)
		}
		if !a.finite {
			continue
		}
		keys, ok := exactKeys(a.items)
		if !ok {
			continue
		}
		for _, h := range hosts {
			if tm.match(h) && !contains(keys, hostKey(h)) {
				t.Errorf("%s matches %q, but its keys %q lack %q", expr, h, keys, hostKey(h))
			}
		}
	}
}

// TestMatchNoAllocs checks that matching a clean path allocates nothing, through the path tree,
// the host map and the substring index alike.
func TestMatchNoAllocs(t *testing.T) {
	var src strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&src, "h%d: Host(\"^api-%d[.]example[.]org(:\\\\d+)?$\") -> <shunt>;\n", i, i)
		fmt.Fprintf(&src, "p%d: Host(\"^api-%d[.]example[.]org$\") && Path(\"/v1/:id\") -> <shunt>;\n", i, i)
		fmt.Fprintf(&src, "u%d: Host(\"www-%d[.]example\") && Method(\"POST\") -> <shunt>;\n", i, i)
		fmt.Fprintf(&src, "s%d: PathSubtree(\"/s%d\") && QueryParam(\"q\", \"^1$\") && Source(\"10.0.0.0/8\") -> <shunt>;\n", i, i)
	}
	tbl := mustCompile(t, src.String())
	tests := []struct{ target, host, want string }{
		{"GET /x", "api-42.example.org:8443", "h42"},
		{"GET /v1/7", "api-42.example.org", "p42"},
		{"POST /", "www-42.example.org", "u42"},
		{"GET /s42/a/b?q=1", "x", "s42"},
		{"GET /nothing", "unknown.example.org", "<nil>"},
	}
	for _, tc := range tests {
		r := request{target: tc.target, host: tc.host, headers: map[string]string{headerXForwardedFor: "10.1.1.1"}}.build()
		if got := routeID(tbl.Match(r)); got != tc.want {
			t.Fatalf("%s on %s: got %s, want %s", tc.target, tc.host, got, tc.want)
		}
		if n := testing.AllocsPerRun(100, func() { tbl.Match(r) }); n != 0 {
			t.Errorf("%s on %s: %v allocations per Match, want 0", tc.target, tc.host, n)
		}
	}
}

func TestMatchParams(t *testing.T) {
	tests := []struct {
		routes, path string
		want         Params
	}{
		{`a: Path("/users/:id") -> <shunt>`, "/users/42", Params{{"id", "42"}}},
		{`a: Path("/u/:a/x/:b") -> <shunt>`, "/u/1/x/2", Params{{"a", "1"}, {"b", "2"}}},
		{`a: Path("/files/*path") -> <shunt>`, "/files/a/b", Params{{"path", "/a/b"}}},
		{`a: Path("/files/*") -> <shunt>`, "/files/a", Params{{"*", "/a"}}},
		{`a: PathSubtree("/api") -> <shunt>`, "/api/v1/x", Params{{"*", "/v1/x"}}},
		{`a: PathSubtree("/api") -> <shunt>`, "/api", Params{{"*", "/"}}},
		{`a: PathSubtree("/api") -> <shunt>`, "/api/", Params{{"*", "/"}}},
		{`a: PathSubtree("/api/*rest") -> <shunt>`, "/api/a/../b", Params{{"rest", "/b"}}},
		{`a: PathSubtree("/:v") -> <shunt>`, "/v2/x", Params{{"v", "v2"}, {"*", "/x"}}},
		{`a: PathSubtree("/") -> <shunt>`, "/", Params{{"*", "/"}}},
		{`a: Path("/static") -> <shunt>`, "/static", nil},
		{`a: Host("x") -> <shunt>`, "/anything", nil},
		{`a: Path("/static") -> <shunt>`, "/other", nil},
	}
	for _, tc := range tests {
		t.Run(tc.routes+" "+tc.path, func(t *testing.T) {
			tbl := mustCompile(t, tc.routes)
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			r.Host = "x"
			rt, got := tbl.MatchParams(r)
			if rt != tbl.Match(r) {
				t.Errorf("MatchParams found route %v, Match %v", rt, tbl.Match(r))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got params %q, want %q", got, tc.want)
			}
			for _, p := range tc.want {
				if v := got.Get(p.Name); v != p.Value {
					t.Errorf("Get(%q) = %q, want %q", p.Name, v, p.Value)
				}
			}
		})
	}
	tbl := mustCompile(t, `a: Path("/static") -> <shunt>`)
	r := httptest.NewRequest(http.MethodGet, "/static", nil)
	if n := testing.AllocsPerRun(100, func() { tbl.MatchParams(r) }); n != 0 {
		t.Errorf("MatchParams without parameters: %v allocations, want 0", n)
	}
	var router Router
	router.Swap(tbl)
	if rt, ps := router.MatchParams(r); rt == nil || ps != nil {
		t.Errorf("Router.MatchParams: got %v %v, want route a without params", rt, ps)
	}
}

// TestEnumerateRefusesLargeLanguages checks the bounds that keep analysis cheap.
func TestEnumerateRefusesLargeLanguages(t *testing.T) {
	for _, expr := range []string{`^[a-z]{2}$`, `^(a|b|c|d)(a|b|c|d)(a|b|c|d)(a|b|c|d)$`, `^a{9}$`, `^[\x00-\x{10FFFF}]$`} {
		re, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if items, ok := enumerate(re); ok {
			t.Errorf("%s: got %d strings, want the language refused as too large", expr, len(items))
		}
	}
}
