package routing

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/skipper-egress/skipper/filters"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/routes")

const routesDir = "../testdata/routes"

// fixtures returns the route files in testdata/routes.
func fixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(routesDir, "*.eskip"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no route files in %s", routesDir)
	}
	return files
}

// TestCompileGolden compiles each testdata/routes/<case>.eskip and compares a dump of the
// table, the errors and the warnings with <case>.golden.
func TestCompileGolden(t *testing.T) {
	for _, file := range fixtures(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".eskip")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			defs, err := Parse(filepath.Base(file), string(src))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			log, hook := logtest.NewNullLogger()
			log.SetLevel(logrus.DebugLevel)
			tbl, errs := Compile(defs, CompileOptions{Filters: testRegistry(t), Log: log})
			got := dumpTable(tbl, errs, hook.AllEntries())

			golden := strings.TrimSuffix(file, ".eskip") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./routing -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("compiled %s differs from %s:\n--- got\n%s--- want\n%s", file, golden, got, want)
			}
		})
	}
}

// dumpTable writes a stable text form of a compiled table, its errors and log entries.
func dumpTable(tbl *Table, errs []error, entries []*logrus.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "routes: %d\n", tbl.Len())
	for i, r := range tbl.Routes() {
		fmt.Fprintf(&b, "%d. %q at %s:%d:%d\n", i+1, r.ID, r.Def.File, r.Def.Line, r.Def.Col)
		path := "-"
		if r.m.path != nil {
			path = r.m.path.String()
		}
		fmt.Fprintf(&b, "   match: path=%s weight=%d\n", path, r.m.weight)
		preds := make([]string, len(r.Def.Predicates))
		for j, c := range r.Def.Predicates {
			preds[j] = c.String()
		}
		fmt.Fprintf(&b, "   predicates: %s\n", strings.Join(preds, " && "))
		if len(r.Filters) > 0 {
			fs := make([]string, len(r.Filters))
			for j, f := range r.Filters {
				fs[j] = fmt.Sprint(f)
			}
			fmt.Fprintf(&b, "   filters: %s\n", strings.Join(fs, " -> "))
		}
		fmt.Fprintf(&b, "   backend: %s\n", dumpBackend(r.Backend))
	}
	fmt.Fprintf(&b, "errors: %d\n", len(errs))
	for _, err := range errs {
		fmt.Fprintf(&b, "   %v\n", err)
	}
	fmt.Fprintf(&b, "log: %d\n", len(entries))
	for _, e := range entries {
		keys := make([]string, 0, len(e.Data))
		for k := range e.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "   %s: %s", e.Level, e.Message)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%v", k, e.Data[k])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func dumpBackend(be Backend) string {
	switch be.Type {
	case BackendNetwork:
		return "network " + be.URL.String()
	case BackendLB:
		eps := make([]string, len(be.Endpoints))
		for i, u := range be.Endpoints {
			eps[i] = u.String()
		}
		return fmt.Sprintf("lb %s %s", be.Algorithm, strings.Join(eps, " "))
	}
	return be.Type.String()
}

func TestCompileRouteErrors(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		want   string
		target error
	}{
		{"unknown filter", `gh: * -> bearerInjector("x") -> <shunt>`, `f.eskip:1:1: route "gh": unknown filter "bearerInjector"; did you mean "bearerinjector"?`, ErrUnknownFilter},
		{"filter one edit away", `r: * -> setRequestHeadr("X-A", "1") -> <shunt>`, `f.eskip:1:1: route "r": unknown filter "setRequestHeadr"; did you mean "setRequestHeader"?`, ErrUnknownFilter},
		{"filter nothing close", `r: * -> frobnicate("x") -> <shunt>`, `f.eskip:1:1: route "r": unknown filter "frobnicate"`, ErrUnknownFilter},
		{"predicate case", `r: PathSubTree("/a") -> <shunt>`, `f.eskip:1:1: route "r": unknown predicate "PathSubTree"; did you mean "PathSubtree"?`, ErrUnknownPredicate},
		{"predicate one edit away", `r: Heder("X", "y") -> <shunt>`, `f.eskip:1:1: route "r": unknown predicate "Heder"; did you mean "Header"?`, ErrUnknownPredicate},
		{"unknown predicate", "a: * -> <shunt>;\n  b: Nope() -> <shunt>", `f.eskip:2:3: route "b": unknown predicate "Nope"`, ErrUnknownPredicate},
		{"filter arguments", `r: * -> status("x") -> <shunt>`, `f.eskip:1:1: route "r": filter "status": invalid filter arguments: status argument 1 has the wrong type`, filters.ErrInvalidArgs},
		{"backend without scheme", `r: * -> "example.org"`, `f.eskip:1:1: route "r": invalid backend "example.org": no scheme; did you mean "http://example.org"?`, ErrInvalidBackend},
		{"backend address and port", `r: * -> "127.0.0.1:8080"`, `f.eskip:1:1: route "r": invalid backend "127.0.0.1:8080": no scheme; did you mean "http://127.0.0.1:8080"?`, ErrInvalidBackend},
		{"backend name and port", `r: * -> "localhost:8080"`, `f.eskip:1:1: route "r": invalid backend "localhost:8080": no scheme; did you mean "http://localhost:8080"?`, ErrInvalidBackend},
		{"backend without scheme user info not shown", `r: * -> "u:secret@10.0.0.1:80"`, `f.eskip:1:1: route "r": invalid backend "u:xxxxx@10.0.0.1:80": no scheme; did you mean "http://u:xxxxx@10.0.0.1:80"?`, ErrInvalidBackend},
		{"backend bad port not suggested", `r: * -> "a:99999"`, `f.eskip:1:1: route "r": invalid backend "a:99999": scheme must be http, https or h2c`, ErrInvalidBackend},
		{"backend user info not shown", `r: * -> "ftp://u:secret@example.org"`, `f.eskip:1:1: route "r": invalid backend "ftp://u:xxxxx@example.org": scheme must be http, https or h2c`, ErrInvalidBackend},
		{"backend without host", `r: * -> "https:///path"`, `f.eskip:1:1: route "r": invalid backend "https:///path": no host`, ErrInvalidBackend},
		{"backend port zero", `r: * -> "http://a:0"`, `f.eskip:1:1: route "r": invalid backend "http://a:0": bad port`, ErrInvalidBackend},
		{"backend not a URL", `r: * -> "http://a b:x"`, `f.eskip:1:1: route "r": invalid backend "http://a b:x": not a URL`, ErrInvalidBackend},
		{"unnamed route", `Nope() -> <shunt>`, `f.eskip:1:1: unknown predicate "Nope"`, ErrUnknownPredicate},
		{"path and subtree", `r: Path("/a") && PathSubtree("/") -> <shunt>`, `f.eskip:1:1: route "r": only one Path or PathSubtree predicate is allowed`, nil},
		{"two subtrees", `r: PathSubtree("/a") && PathSubtree("/b") -> <shunt>`, `f.eskip:1:1: route "r": only one Path or PathSubtree predicate is allowed`, nil},
		{"bad host regexp", `r: Host("[") -> <shunt>`, "f.eskip:1:1: route \"r\": Host predicate: error parsing regexp: missing closing ]: `[`", nil},
		{"bad header regexp", `r: HeaderRegexp("X", "(") -> <shunt>`, "f.eskip:1:1: route \"r\": HeaderRegexp predicate: error parsing regexp: missing closing ): `(`", nil},
		{"weight string", `r: Weight("1") -> <shunt>`, `f.eskip:1:1: route "r": Weight predicate expects 1 number argument`, nil},
		{"weight two args", `r: Weight(1, 2) -> <shunt>`, `f.eskip:1:1: route "r": Weight predicate expects 1 number argument`, nil},
		{"any with args", `r: Any(1) -> <shunt>`, `f.eskip:1:1: route "r": Any predicate expects no arguments`, nil},
		{"HostAny empty", `r: HostAny() -> <shunt>`, `f.eskip:1:1: route "r": HostAny predicate expects at least 1 string argument`, nil},
		{"Methods number", `r: Methods("GET", 1) -> <shunt>`, `f.eskip:1:1: route "r": Methods predicate expects string arguments`, nil},
		{"Methods unknown", `r: Methods("GET", "fetch") -> <shunt>`, `f.eskip:1:1: route "r": Methods predicate: unknown method "fetch"`, nil},
		{"PathSubtree number", `r: PathSubtree(1) -> <shunt>`, `f.eskip:1:1: route "r": PathSubtree predicate expects 1 string argument`, nil},
		{"wildcard inside segment", `r: Path("/a:b") -> <shunt>`, `f.eskip:1:1: route "r": Path predicate: ":" or "*" inside a path segment`, nil},
		{"subtree wildcard not last", `r: PathSubtree("/*a/b") -> <shunt>`, `f.eskip:1:1: route "r": PathSubtree predicate: a "*" wildcard must be the last path segment`, nil},
		{"lb algorithm", `r: * -> <fastest, "http://a">`, `f.eskip:1:1: route "r": invalid backend: unknown load balancer algorithm "fastest"; the algorithms are roundRobin, random, consistentHash, powerOfRandomNChoices`, ErrInvalidBackend},
		{"lb algorithm not Skipper's", `r: * -> <leastRequests, "http://a">`, `f.eskip:1:1: route "r": invalid backend: unknown load balancer algorithm "leastRequests"; the algorithms are roundRobin, random, consistentHash, powerOfRandomNChoices`, ErrInvalidBackend},
		{"lb algorithm misspelt", `r: * -> <roundrobin, "http://a">`, `f.eskip:1:1: route "r": invalid backend: unknown load balancer algorithm "roundrobin"; did you mean "roundRobin"?`, ErrInvalidBackend},
		{"lb endpoint", `r: * -> <"http://a", "http://">`, `f.eskip:1:1: route "r": invalid backend "http://": no host`, ErrInvalidBackend},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defs, err := Parse("f.eskip", tc.src)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			tbl, errs := Compile(defs, CompileOptions{Filters: testRegistry(t)})
			if len(errs) != 1 {
				t.Fatalf("got errors %v, want exactly one", errs)
			}
			if got := errs[0].Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			var re *RouteError
			if !errors.As(errs[0], &re) {
				t.Errorf("got %T, want *RouteError", errs[0])
			}
			if tc.target != nil && !errors.Is(errs[0], tc.target) {
				t.Errorf("errors.Is(%v, %v) = false, want true", errs[0], tc.target)
			}
			for _, r := range tbl.Routes() {
				if r.Def == defs[len(defs)-1] {
					t.Errorf("bad route %q is in the table", r.ID)
				}
			}
		})
	}
}

// TestCompileRouteEveryProblem checks that a route with several problems is left out with all
// of them, in route order, each with the route's position, in one RouteError.
func TestCompileRouteEveryProblem(t *testing.T) {
	defs, err := Parse("f.eskip", "ok: * -> <shunt>;\n"+
		`  r: Nope() && Host("[") -> frobnicate() -> status("x") -> <fastest, "http://a">;`)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	tbl, errs := Compile(defs, CompileOptions{Filters: testRegistry(t)})
	if len(errs) != 1 {
		t.Fatalf("got errors %v, want one for the route", errs)
	}
	want := []string{
		`f.eskip:2:3: route "r": unknown predicate "Nope"`,
		"f.eskip:2:3: route \"r\": Host predicate: error parsing regexp: missing closing ]: `[`",
		`f.eskip:2:3: route "r": unknown filter "frobnicate"`,
		`f.eskip:2:3: route "r": filter "status": invalid filter arguments: status argument 1 has the wrong type`,
		`f.eskip:2:3: route "r": invalid backend: unknown load balancer algorithm "fastest"; the algorithms are roundRobin, random, consistentHash, powerOfRandomNChoices`,
	}
	if got := errs[0].Error(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	var re *RouteError
	if !errors.As(errs[0], &re) {
		t.Fatalf("got %T, want *RouteError", errs[0])
	}
	var got []string
	for _, p := range re.Problems() {
		got = append(got, p.Error())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, target := range []error{ErrUnknownPredicate, ErrUnknownFilter, filters.ErrInvalidArgs, ErrInvalidBackend} {
		if !errors.Is(errs[0], target) {
			t.Errorf("errors.Is(err, %v) = false", target)
		}
	}
	if tbl.Len() != 1 || tbl.Routes()[0].ID != "ok" {
		t.Errorf("table holds %d routes, want only ok", tbl.Len())
	}
}

func TestRouteErrorFormat(t *testing.T) {
	err := errors.New("boom")
	tests := []struct {
		e    RouteError
		want string
	}{
		{RouteError{File: "f", Line: 1, Col: 2, ID: "r", Err: err}, `f:1:2: route "r": boom`},
		{RouteError{Line: 1, Col: 2, ID: "r", Err: err}, `1:2: route "r": boom`},
		{RouteError{ID: "r", Err: err}, `route "r": boom`},
		{RouteError{File: "f", Err: err}, `f: boom`},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
		if !errors.Is(&tc.e, err) {
			t.Errorf("%s does not wrap its Err", tc.want)
		}
	}
}

func TestCompileBackends(t *testing.T) {
	tests := []struct {
		backend string
		want    Backend
		warns   int
	}{
		{`"http://a.test"`, Backend{Type: BackendNetwork, URL: mustURL("http://a.test:80")}, 0},
		{`"HTTPS://a.test"`, Backend{Type: BackendNetwork, URL: mustURL("https://a.test:443")}, 0},
		{`"h2c://a.test"`, Backend{Type: BackendNetwork, URL: mustURL("h2c://a.test:80")}, 0},
		{`"http://a.test:8080/"`, Backend{Type: BackendNetwork, URL: mustURL("http://a.test:8080")}, 0},
		{`"http://[::1]"`, Backend{Type: BackendNetwork, URL: mustURL("http://[::1]:80")}, 0},
		{`"https://a.test/p?q=1#f"`, Backend{Type: BackendNetwork, URL: mustURL("https://a.test:443")}, 1},
		{`"https://user:pw@a.test"`, Backend{Type: BackendNetwork, URL: mustURL("https://a.test:443")}, 1},
		{`<shunt>`, Backend{Type: BackendShunt}, 0},
		{`<loopback>`, Backend{Type: BackendLoopback}, 0},
		{`<dynamic>`, Backend{Type: BackendDynamic}, 0},
		{`<"http://a", "http://b:81/x">`, Backend{Type: BackendLB, Algorithm: "roundRobin", Endpoints: []*urlT{mustURL("http://a:80"), mustURL("http://b:81")}}, 1},
		{`<consistentHash, "https://a">`, Backend{Type: BackendLB, Algorithm: "consistentHash", Endpoints: []*urlT{mustURL("https://a:443")}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.backend, func(t *testing.T) {
			defs, err := Parse("", "r: * -> "+tc.backend)
			if err != nil {
				t.Fatal(err)
			}
			log, hook := logtest.NewNullLogger()
			tbl, errs := Compile(defs, CompileOptions{Log: log})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			got := tbl.Routes()[0].Backend
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			entries := hook.AllEntries()
			if len(entries) != tc.warns {
				t.Fatalf("got %d log entries, want %d", len(entries), tc.warns)
			}
			for _, e := range entries {
				if e.Level != logrus.WarnLevel || e.Data[fieldRoute] != "r" {
					t.Errorf("got %s entry with fields %v, want a warning naming route r", e.Level, e.Data)
				}
				if strings.Contains(e.Message+fmt.Sprint(e.Data), "pw") {
					t.Errorf("log entry shows the password: %s %v", e.Message, e.Data)
				}
			}
		})
	}
}

func TestCompileDuplicateIDs(t *testing.T) {
	defs, err := Parse("", `a: Host("1") -> <shunt>; b: Host("2") -> <shunt>; a: Host("3") -> <shunt>`)
	if err != nil {
		t.Fatal(err)
	}
	tbl, errs := Compile(defs, CompileOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, r := range tbl.Routes() {
		got = append(got, r.ID+"="+r.Def.Predicates[0].Args[0].(string))
	}
	if want := []string{"a=3", "b=2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCompileNoRegistry(t *testing.T) {
	defs, err := Parse("", `r: * -> f() -> <shunt>`)
	if err != nil {
		t.Fatal(err)
	}
	tbl, errs := Compile(defs, CompileOptions{})
	if len(errs) != 1 || !errors.Is(errs[0], ErrUnknownFilter) || tbl.Len() != 0 {
		t.Errorf("got table of %d and errors %v, want no routes and one unknown filter error", tbl.Len(), errs)
	}
}

// TestBackendPathWarningShowsPath: the warning about a backend URL's path shows the path that
// requests will not get, and names the unnamed route as metrics and error bodies do; the query
// and user info stay unshown.
func TestBackendPathWarningShowsPath(t *testing.T) {
	tests := []struct {
		route, wantRoute, wantMsg string
	}{
		{`r: * -> "https://a.test/api/v1"`, "r", `backend URL path "/api/v1" ignored: requests keep their own path`},
		{`r: * -> "https://a.test/a%2Fb/?key=pw"`, "r", `backend URL path "/a%2Fb/" and query ignored: requests keep their own path`},
		{`r: * -> "https://u:pw@a.test/v2"`, "r", `backend URL path "/v2" and user info ignored: requests keep their own path`},
		{`* -> "https://a.test/v3"`, Unnamed, `backend URL path "/v3" ignored: requests keep their own path`},
	}
	for _, tc := range tests {
		t.Run(tc.route, func(t *testing.T) {
			defs, err := Parse("", tc.route)
			if err != nil {
				t.Fatal(err)
			}
			log, hook := logtest.NewNullLogger()
			if _, errs := Compile(defs, CompileOptions{Log: log}); len(errs) > 0 {
				t.Fatal(errs)
			}
			entries := hook.AllEntries()
			if len(entries) != 1 {
				t.Fatalf("got %d log entries, want 1", len(entries))
			}
			if e := entries[0]; e.Message != tc.wantMsg || e.Data[fieldRoute] != tc.wantRoute {
				t.Errorf("got %q with route %q, want %q with route %q", e.Message, e.Data[fieldRoute], tc.wantMsg, tc.wantRoute)
			}
			if strings.Contains(entries[0].Message, "pw") {
				t.Errorf("the warning shows the password or key: %s", entries[0].Message)
			}
		})
	}
}

// TestCompileSkipperRedirects checks that the redirects Skipper's documents write load with the
// real filter: without a location, and with a scheme-only one (Skipper's HTTPS redirect).
func TestCompileSkipperRedirects(t *testing.T) {
	reg, err := filters.NewRegistry(filters.NewRedirectTo())
	if err != nil {
		t.Fatal(err)
	}
	defs, err := Parse("f.eskip", `
		redirect2: * -> redirectTo(301) -> <shunt>;
		https: Header("X-Forwarded-Proto", "http") -> redirectTo(308, "https:") -> <shunt>;`)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	tbl, errs := Compile(defs, CompileOptions{Filters: reg})
	if len(errs) > 0 || tbl.Len() != 2 {
		t.Errorf("got %d routes and errors %v, want both routes", tbl.Len(), errs)
	}
}

// TestCompileEmptyBackend checks that `-> ""` loads as Skipper loads it, as a network route
// without an address, and that the load warns about it.
func TestCompileEmptyBackend(t *testing.T) {
	defs, err := Parse("f.eskip", `empty: * -> "";`)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	log, hook := logtest.NewNullLogger()
	tbl, errs := Compile(defs, CompileOptions{Filters: testRegistry(t), Log: log})
	if len(errs) > 0 || tbl.Len() != 1 {
		t.Fatalf("got %d routes and errors %v, want the route", tbl.Len(), errs)
	}
	if b := tbl.Routes()[0].Backend; b.Type != BackendNetwork || b.URL != nil {
		t.Errorf("got backend %+v, want a network backend without URL", b)
	}
	if e := hook.LastEntry(); e == nil || e.Level != logrus.WarnLevel || !strings.Contains(e.Message, "empty backend") {
		t.Errorf("got log entry %v, want a warning about the empty backend", e)
	}
}

// TestCompileForwardBackend checks that a <forward> route goes to CompileOptions.ForwardBackend
// without its filters, which are not even built (Skipper drops them), and that without it the
// route loads with a warning and no URL, so that its requests fail as those of `-> ""`.
func TestCompileForwardBackend(t *testing.T) {
	defs, err := Parse("f.eskip", `fwd: Path("/a") -> setPath("/b") -> noSuchFilter() -> <forward>; net: * -> setPath("/b") -> "http://n"`)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	to := mustURL("http://forward.test:8080")
	log, hook := logtest.NewNullLogger()
	tbl, errs := Compile(defs, CompileOptions{Filters: testRegistry(t), Log: log, ForwardBackend: to})
	if len(errs) > 0 || tbl.Len() != 2 {
		t.Fatalf("got %d routes and errors %v, want both routes", tbl.Len(), errs)
	}
	fwd := tbl.Routes()[0]
	if b := fwd.Backend; fwd.ID != "fwd" || b.Type != BackendNetwork || b.URL.String() != "http://forward.test:8080" || b.URL == to {
		t.Errorf("got route %s with backend %+v, want a network backend with a copy of %s", fwd.ID, b, to)
	}
	if fwd.Filters != nil || fwd.Def.Backend.Type != BackendForward || len(fwd.Def.Filters) != 2 {
		t.Errorf("got filters %v, definition %s; want no filters, the definition unchanged", fwd.Filters, fwd.Def)
	}
	if len(tbl.Routes()[1].Filters) != 1 {
		t.Errorf("the network route lost its filter")
	}
	if len(hook.AllEntries()) != 0 {
		t.Errorf("got log entries %v, want none", hook.AllEntries())
	}

	tbl, errs = Compile(defs, CompileOptions{Filters: testRegistry(t), Log: log})
	if len(errs) > 0 || tbl.Len() != 2 {
		t.Fatalf("without ForwardBackend: got %d routes and errors %v, want both routes", tbl.Len(), errs)
	}
	if b := tbl.Routes()[0].Backend; b.Type != BackendNetwork || b.URL != nil {
		t.Errorf("without ForwardBackend: got backend %+v, want a network backend without URL", b)
	}
	if e := hook.LastEntry(); e == nil || e.Level != logrus.WarnLevel || !strings.Contains(e.Message, "-forward-backend-url is not set") {
		t.Errorf("got log entry %v, want a warning about the missing -forward-backend-url", e)
	}
}

func TestParseBackendURL(t *testing.T) {
	u, ignored, err := ParseBackendURL("https://u:secret@a.test/p?q=1")
	if err != nil || u.String() != "https://a.test:443" || strings.Join(ignored, ",") != `path "/p",query,user info` {
		t.Errorf("got %v %q %v, want https://a.test:443 and the path, query and user info ignored", u, ignored, err)
	}
	if _, _, err := ParseBackendURL("a.test:80"); !errors.Is(err, ErrInvalidBackend) {
		t.Errorf("got %v, want ErrInvalidBackend", err)
	}
}
