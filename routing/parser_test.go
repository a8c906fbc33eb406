package routing

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func shunt() BackendDef { return BackendDef{Type: BackendShunt} }

func netBackend(addr string) BackendDef { return BackendDef{Type: BackendNetwork, Address: addr} }

func anyPred() []Call { return []Call{{Name: "*"}} }

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []*RouteDef
	}{
		{"empty", "", nil},
		{"blanks", " \n\t\r\n", nil},
		{"comment only", "// nothing here\n  // nor here", nil},
		{"semicolons only", ";; ;\n;", nil},
		{"unnamed route", `* -> <shunt>`, []*RouteDef{{Predicates: anyPred(), Backend: shunt()}}},
		{"unnamed route with comments", "// before\n* -> <shunt> // after\n", []*RouteDef{{Predicates: anyPred(), Backend: shunt()}}},
		{"named route without semicolon", `r: * -> <shunt>`, []*RouteDef{{ID: "r", Predicates: anyPred(), Backend: shunt()}}},
		{"named route with semicolon", `r: * -> <shunt>;`, []*RouteDef{{ID: "r", Predicates: anyPred(), Backend: shunt()}}},
		{"forward backend", `r: * -> f() -> <forward>`, []*RouteDef{{ID: "r", Predicates: anyPred(), Filters: []Call{{Name: "f"}}, Backend: BackendDef{Type: BackendForward}}}},
		{
			"extra semicolons", ";r1: * -> <shunt>;;\n;r2: True() -> <loopback>;;",
			[]*RouteDef{
				{ID: "r1", Predicates: anyPred(), Backend: shunt()},
				{ID: "r2", Predicates: []Call{{Name: "True"}}, Backend: BackendDef{Type: BackendLoopback}},
			},
		},
		{
			"ids with digits and underscores", "_a1: * -> <dynamic>; B_2: * -> <shunt>",
			[]*RouteDef{
				{ID: "_a1", Predicates: anyPred(), Backend: BackendDef{Type: BackendDynamic}},
				{ID: "B_2", Predicates: anyPred(), Backend: shunt()},
			},
		},
		{
			"canonical egress route", `Host("api.github.com") -> bearerinjector("/secrets/github") -> "https://api.github.com"`,
			[]*RouteDef{{
				Predicates: []Call{{Name: "Host", Args: []any{"api.github.com"}}},
				Filters:    []Call{{Name: "bearerinjector", Args: []any{"/secrets/github"}}},
				Backend:    netBackend("https://api.github.com"),
			}},
		},
		{
			"predicates and filters", `r: Path("/a") && Method("GET") && Foo(1, "x", /y/) -> f() -> g("h") -> "http://b"`,
			[]*RouteDef{{
				ID: "r",
				Predicates: []Call{
					{Name: "Path", Args: []any{"/a"}},
					{Name: "Method", Args: []any{"GET"}},
					{Name: "Foo", Args: []any{1.0, "x", "y"}},
				},
				Filters: []Call{{Name: "f"}, {Name: "g", Args: []any{"h"}}},
				Backend: netBackend("http://b"),
			}},
		},
		{
			"string escapes", `r: * -> f("q\"b\\s\a\b\f\n\r\t\v\q\.\/") -> <shunt>`,
			[]*RouteDef{{ID: "r", Predicates: anyPred(), Filters: []Call{{Name: "f", Args: []any{"q\"b\\s\a\b\f\n\r\t\v\\q\\.\\/"}}}, Backend: shunt()}},
		},
		{
			"backtick escapes", "r: * -> f(`a\\`b\\\"c\\\\d\\n`) -> <shunt>",
			[]*RouteDef{{ID: "r", Predicates: anyPred(), Filters: []Call{{Name: "f", Args: []any{"a`b\\\"c\\d\n"}}}, Backend: shunt()}},
		},
		{
			"raw newline in string", "r: * -> f(\"a\nb\") -> <shunt>",
			[]*RouteDef{{ID: "r", Predicates: anyPred(), Filters: []Call{{Name: "f", Args: []any{"a\nb"}}}, Backend: shunt()}},
		},
		{
			"regexps", `r: PathRegexp(/^\/api\/[a/b]\.x\\y\n/) && Host(/[/]/) -> <shunt>`,
			[]*RouteDef{{ID: "r", Predicates: []Call{
				{Name: "PathRegexp", Args: []any{`^/api/[a/b]\.x\y\n`}},
				{Name: "Host", Args: []any{`[/]`}},
			}, Backend: shunt()}},
		},
		{
			"regexp with escaped bracket", `r: Host(/a\[\/b/) -> <shunt>`,
			[]*RouteDef{{ID: "r", Predicates: []Call{{Name: "Host", Args: []any{`a\[/b`}}}, Backend: shunt()}},
		},
		{
			"numbers", `r: * -> f(-3, .5, 007, 1.25, -0.5, -.25, 0) -> <shunt>`,
			[]*RouteDef{{ID: "r", Predicates: anyPred(), Filters: []Call{{Name: "f", Args: []any{-3.0, 0.5, 7.0, 1.25, -0.5, -0.25, 0.0}}}, Backend: shunt()}},
		},
		{
			"number next to arrow", `r: * -> f(1)->f(-1)-><shunt>`,
			[]*RouteDef{{ID: "r", Predicates: anyPred(), Filters: []Call{{Name: "f", Args: []any{1.0}}, {Name: "f", Args: []any{-1.0}}}, Backend: shunt()}},
		},
		{
			"load balancer round robin", `r: * -> <"http://a:1", "http://b">`,
			[]*RouteDef{{ID: "r", Predicates: anyPred(), Backend: BackendDef{Type: BackendLB, Endpoints: []string{"http://a:1", "http://b"}}}},
		},
		{
			"load balancer with algorithm", `r: * -> < powerOfRandomNChoices , "https://a" >`,
			[]*RouteDef{{ID: "r", Predicates: anyPred(), Backend: BackendDef{Type: BackendLB, Algorithm: "powerOfRandomNChoices", Endpoints: []string{"https://a"}}}},
		},
		{
			"unknown names parse", `r: Nope() && nope(1) -> Filter() -> <foo, "h2c://x">`,
			[]*RouteDef{{
				ID:         "r",
				Predicates: []Call{{Name: "Nope"}, {Name: "nope", Args: []any{1.0}}},
				Filters:    []Call{{Name: "Filter"}},
				Backend:    BackendDef{Type: BackendLB, Algorithm: "foo", Endpoints: []string{"h2c://x"}},
			}},
		},
		{
			"unicode whitespace", "r:\u00a0*\u0085->\v<shunt>\f",
			[]*RouteDef{{ID: "r", Predicates: anyPred(), Backend: shunt()}},
		},
		{
			"same header name in different case", `r: Header("X-A", "1") && Header("x-a", "2") -> <shunt>`,
			[]*RouteDef{{ID: "r", Predicates: []Call{
				{Name: "Header", Args: []any{"X-A", "1"}},
				{Name: "Header", Args: []any{"x-a", "2"}},
			}, Backend: shunt()}},
		},
		{
			"path and subtree parse", `r: Path("/a") && PathSubtree("/b") -> <shunt>`,
			[]*RouteDef{{ID: "r", Predicates: []Call{{Name: "Path", Args: []any{"/a"}}, {Name: "PathSubtree", Args: []any{"/b"}}}, Backend: shunt()}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("", tc.src)
			if err != nil {
				t.Fatalf("Parse(%q): got error %v, want none", tc.src, err)
			}
			if !reflect.DeepEqual(withoutPos(got), tc.want) {
				t.Errorf("Parse(%q):\ngot  %s\nwant %s", tc.src, Print(got), Print(tc.want))
				for i := range got {
					t.Logf("got[%d] = %#v", i, *got[i])
				}
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	src := "// header\n\n  a: * -> <shunt>;\n\tb: * -> <shunt>; c: Path(\"ä\") -> <shunt>;\n  ;d:\n*-><shunt>"
	defs, err := Parse("f.eskip", src)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id        string
		line, col int
	}{{"a", 3, 3}, {"b", 4, 2}, {"c", 4, 19}, {"d", 5, 4}}
	if len(defs) != len(want) {
		t.Fatalf("got %d routes, want %d", len(defs), len(want))
	}
	for i, w := range want {
		d := defs[i]
		if d.ID != w.id || d.Line != w.line || d.Col != w.col || d.File != "f.eskip" {
			t.Errorf("route %d: got %s %s:%d:%d, want %s f.eskip:%d:%d", i, d.ID, d.File, d.Line, d.Col, w.id, w.line, w.col)
		}
	}

	defs, err = Parse("", "\n   Path(\"/\") -> <shunt>")
	if err != nil {
		t.Fatal(err)
	}
	if d := defs[0]; d.Line != 2 || d.Col != 4 {
		t.Errorf("unnamed route: got %d:%d, want 2:4", d.Line, d.Col)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"unnamed route with semicolon", `* -> <shunt>;`, `1:13: expected end of input after a route without id, found ";"`},
		{"unnamed route before named", `* -> <shunt> r: * -> <shunt>`, `1:14: expected end of input after a route without id, found "r"`},
		{"two unnamed routes", "* -> <shunt>;\n* -> <shunt>", `1:13: expected end of input after a route without id, found ";"`},
		{"unnamed after named", `r: * -> <shunt>; * -> <shunt>`, `1:18: expected route id, found "*"`},
		{"hyphen in id", `my-route: * -> <shunt>`, `1:3: expected ":" after route id "my", found "-"`},
		{"hyphen in later id", "a: * -> <shunt>;\nmy-route: * -> <shunt>", `2:3: expected ":" after route id "my", found "-"`},
		{"non-ascii id", "a: * -> <shunt>;\nrüte: * -> <shunt>", `2:2: expected ":" after route id "r", found "ü"`},
		{"id without route", `r: * -> <shunt>; r2`, `1:20: expected ":" after route id "r2", found end of input`},
		{"missing semicolon", "a: * -> <shunt>\nb: * -> <shunt>", `2:1: route "a": expected ";" or end of input, found "b"`},
		{"example from the brief", "// routes\n\n// github\ngh: Host(\"gh.tests\") foo -> <shunt>", `4:22: route "gh": expected "->" or "&&", found "foo"`},
		{"predicate without parens", `r: True -> <shunt>`, `1:9: route "r": expected "(" after predicate name "True", found "->"`},
		{"filter without parens", `r: * -> foo -> <shunt>`, `1:13: route "r": expected "(" after filter name "foo", found "->"`},
		{"no predicate", `r: -> <shunt>`, `1:4: route "r": expected predicate, found "->"`},
		{"no backend", `r: * -> `, `1:9: route "r": expected filter or backend, found end of input`},
		{"filter after backend", `r: * -> <shunt> -> f()`, `1:17: route "r": expected ";" or end of input, found "->"`},
		{"missing arrow after filter", `r: * -> f() <shunt>`, `1:13: route "r": expected "->", found "<shunt>"`},
		{"single ampersand", `r: * & True() -> <shunt>`, `1:6: route "r": expected "->" or "&&", found "&"`},
		{"unterminated string", "r: * -> f(\"abc) -> <shunt>", `1:11: route "r": string starting at 1:11 is not closed`},
		{"unterminated backtick", "r: * -> f(`abc\\`) -> <shunt>", `1:11: route "r": string starting at 1:11 is not closed`},
		{"string ending in backslash", `r: * -> f("abc\`, `1:11: route "r": string starting at 1:11 is not closed`},
		{"string closed by the next one", `r: * -> setRequestHeader("X-A", "b) -> bearerinjector("/tok") -> "http://127.0.0.1:8080";`, `1:33: route "r": string starting at 1:33 is not closed`},
		{"string closed by the next one, then a name", `r: * -> f("abc) -> "http://x";`, `1:11: route "r": string starting at 1:11 is not closed`},
		{"string closed by the next argument", `r: * -> setRequestHeader("X-A, "v") -> <shunt>`, `1:26: route "r": string starting at 1:26 is not closed`},
		{"string closed on a later line", "r: Path(\"/a) -> <shunt>;\ns: * -> \"http://b\";", `1:9: route "r": string starting at 1:9 is not closed`},
		{"last string not closed", `r: * -> f("a") -> "http://b`, `1:19: route "r": string starting at 1:19 is not closed`},
		{"name touching a string", `r: * -> f("a"b) -> <shunt>`, `1:14: route "r": expected "," or ")", found "b"`},
		{"unterminated regexp", `r: * -> f(/abc) -> <shunt>`, `1:11: route "r": regexp starting at 1:11 is not closed`},
		{"regexp open class", `r: * -> f(/a[/]) -> <shunt>`, `1:11: route "r": regexp starting at 1:11 is not closed`},
		{"number with trailing dot", `r: * -> f(3.) -> <shunt>`, `1:11: route "r": invalid number "3."`},
		{"lone dot", `r: * -> f(.) -> <shunt>`, `1:11: route "r": invalid number "."`},
		{"exponent", `r: * -> f(1e5) -> <shunt>`, `1:12: route "r": expected "," or ")", found "e5"`},
		{"two dots", `r: * -> f(1.2.3) -> <shunt>`, `1:14: route "r": expected "," or ")", found number .3`},
		{"number out of range", "r: * -> f(1" + strings.Repeat("0", 400) + ") -> <shunt>", `1:11: route "r": number out of range "1000000000000000000000000000000000000000..."`},
		{"minus without number", `r: * -> f(-) -> <shunt>`, `1:11: route "r": expected argument (string, regexp or number), found "-"`},
		{"trailing comma", `r: * -> f(1,) -> <shunt>`, `1:13: route "r": expected argument (string, regexp or number), found ")"`},
		{"symbol argument", `r: * -> f(a) -> <shunt>`, `1:11: route "r": expected argument (string, regexp or number), found "a"`},
		{"unclosed arguments", `r: * -> f(1 -> <shunt>`, `1:13: route "r": expected "," or ")", found "->"`},
		{"lone slash", `r: * -> /`, `1:9: route "r": regexp starting at 1:9 is not closed`},
		{"block comment", `/* no */ r: * -> <shunt>`, `1:1: expected predicate, found regexp /* no */`},
		{"hash comment", "# no\nr: * -> <shunt>", `1:1: expected predicate, found "#"`},
		{"lb unknown backend keyword", `r: * -> <foo>`, `1:9: route "r": unknown backend <foo>: the backends in angle brackets are <shunt>, <loopback>, <dynamic>, <forward> and <algorithm, "url", ...>`},
		{"forward misspelt", `r: * -> <froward>`, `1:9: route "r": unknown backend <froward>: the backends in angle brackets are <shunt>, <loopback>, <dynamic>, <forward> and <algorithm, "url", ...>`},
		{"lb empty", `r: * -> <>`, `1:10: route "r": expected endpoint URL string, found ">"`},
		{"lb missing comma", `r: * -> <"http://a" "http://b">`, `1:21: route "r": expected "," or ">", found string "http://b"`},
		{"lb unclosed", `r: * -> <"http://a", `, `1:22: route "r": expected endpoint URL string, found end of input`},
		{"lb number", `r: * -> <random, 1>`, `1:18: route "r": expected endpoint URL string, found number 1`},
		{"spaced shunt", `r: * -> < shunt >`, `1:9: route "r": write <shunt> without blanks`},
		{"spaced forward", `r: * -> <forward >`, `1:9: route "r": write <forward> without blanks`},
		{"two Path", `r: Path("/a") && Path("/b") -> <shunt>`, `1:18: route "r": duplicate Path predicate`},
		{"two Method", `r: Method("GET") && Path("/") && Method("GET") -> <shunt>`, `1:34: route "r": duplicate Method predicate`},
		{"same Header twice", `r: Header("X-A", "1") && Header("X-A", "2") -> <shunt>`, `1:26: route "r": duplicate Header predicate for "X-A"`},
		{"Method with two args", `r: Method("A", "B") -> <shunt>`, `1:4: route "r": Method predicate expects 1 string argument`},
		{"Header with one arg", `r: Header("X") -> <shunt>`, `1:4: route "r": Header predicate expects 2 string arguments`},
		{"HeaderRegexp with number", `r: HeaderRegexp("X", 1) -> <shunt>`, `1:4: route "r": HeaderRegexp predicate expects 2 string arguments`},
		{"Path with number", `r: Path(1) -> <shunt>`, `1:4: route "r": Path predicate expects 1 string argument`},
		{"Host without args", `Host() -> <shunt>`, `1:1: Host predicate expects 1 string argument`},
		{"PathRegexp with two args", `r: PathRegexp("a", "b") -> <shunt>`, `1:4: route "r": PathRegexp predicate expects 1 string argument`},
		{"mixed lb schemes", `r: * -> <"http://a", "https://b">`, `1:22: route "r": load balancer endpoints have mixed schemes "http" and "https"`},
		{"relative lb endpoint", `r: * -> <roundRobin, "a.b/x">`, `1:22: route "r": invalid load balancer endpoint "a.b/x": no scheme; did you mean "http://a.b/x"?`},
		{"lb endpoint without scheme", `r: * -> <"127.0.0.1:8080", "127.0.0.1:8081">`, `1:10: route "r": invalid load balancer endpoint "127.0.0.1:8080": no scheme; did you mean "http://127.0.0.1:8080"?`},
		{"lb endpoint not a URL", `r: * -> <"http://a", "%">`, `1:22: route "r": invalid load balancer endpoint "%"`},
		{"rule error in later route", "a: * -> <shunt>;\nb: Path(\"/\") && Path(\"/\") -> <shunt>", `2:17: route "b": duplicate Path predicate`},
		{"syntax error wins over earlier rule error", "a: Path(\"/\") && Path(\"/\") -> <shunt>;\nb: * ->", `2:8: route "b": expected filter or backend, found end of input`},
		{"columns count runes", `r: Header("ä", "ö😀") foo`, `1:22: route "r": expected "->" or "&&", found "foo"`},
		{"long string abbreviated", `r: * -> <"` + "http://0123456789012345678901234567890123456789" + `" "x">`, `1:60: route "r": expected "," or ">", found string "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defs, err := Parse("", tc.src)
			if err == nil {
				t.Fatalf("Parse(%q): got %d routes and no error, want %s", tc.src, len(defs), tc.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): got %T, want *SyntaxError", tc.src, err)
			}
			if err.Error() != tc.want {
				t.Errorf("Parse(%q):\ngot  %s\nwant %s", tc.src, err, tc.want)
			}
			if defs != nil {
				t.Errorf("got %d routes with the error, want none", len(defs))
			}
		})
	}
}

func TestSyntaxErrorFile(t *testing.T) {
	_, err := Parse("routes.eskip", "\n\n\nr: * -> f(")
	want := `routes.eskip:4:11: route "r": expected argument (string, regexp or number), found end of input`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	var se *SyntaxError
	if !errors.As(err, &se) || se.File != "routes.eskip" || se.Line != 4 || se.Col != 11 {
		t.Errorf("got %#v, want File routes.eskip, Line 4, Col 11", se)
	}
}
