package routing

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestRoundTripFixtures(t *testing.T) {
	for _, file := range fixtures(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			defs, err := Parse(file, string(src))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			checkRoundTrip(t, defs)
		})
	}
}

// checkRoundTrip asserts that Parse(Print(defs)) gives defs back, and that printing is stable.
func checkRoundTrip(t *testing.T, defs []*RouteDef) {
	t.Helper()
	printed := Print(defs)
	again, err := Parse("", printed)
	if err != nil {
		t.Fatalf("parsing the printed routes: %v\nprinted:\n%s", err, printed)
	}
	if !reflect.DeepEqual(withoutPos(again), withoutPos(defs)) {
		t.Fatalf("round trip changed the routes:\nprinted:\n%s\nreprinted:\n%s", printed, Print(again))
	}
	if p2 := Print(again); p2 != printed {
		t.Fatalf("printing is not stable:\nfirst:\n%s\nsecond:\n%s", printed, p2)
	}
}

func TestPrint(t *testing.T) {
	tests := []struct {
		name string
		defs []*RouteDef
		want string
	}{
		{"no routes", nil, ""},
		{
			"unnamed route", []*RouteDef{{
				Predicates: []Call{{Name: "Host", Args: []any{"api.github.com"}}},
				Filters:    []Call{{Name: "bearerinjector", Args: []any{"/secrets/github"}}},
				Backend:    netBackend("https://api.github.com"),
			}},
			"Host(\"api.github.com\") -> bearerinjector(\"/secrets/github\") -> \"https://api.github.com\"\n",
		},
		{
			"named routes", []*RouteDef{
				{ID: "a", Predicates: anyPred(), Backend: shunt()},
				{ID: "b", Predicates: []Call{{Name: "True"}, {Name: "Weight", Args: []any{2.5}}}, Backend: BackendDef{Type: BackendLoopback}},
				{ID: "c", Predicates: anyPred(), Backend: BackendDef{Type: BackendDynamic}},
			},
			"a: * -> <shunt>;\nb: True() && Weight(2.5) -> <loopback>;\nc: * -> <dynamic>;\n",
		},
		{
			"load balancers", []*RouteDef{
				{ID: "a", Predicates: anyPred(), Backend: BackendDef{Type: BackendLB, Endpoints: []string{"http://a", "http://b"}}},
				{ID: "b", Predicates: anyPred(), Backend: BackendDef{Type: BackendLB, Algorithm: "random", Endpoints: []string{"http://a"}}},
			},
			"a: * -> <\"http://a\", \"http://b\">;\nb: * -> <random, \"http://a\">;\n",
		},
		{
			"escapes and numbers", []*RouteDef{{
				ID:         "e",
				Predicates: []Call{{Name: "PathRegexp", Args: []any{`^/a\.b$`}}},
				Filters:    []Call{{Name: "f", Args: []any{"q\"b\\\a\b\f\n\r\t\v`", -3.0, 0.5, 1e21, 123456789.125, 7}}},
				Backend:    shunt(),
			}},
			"e: PathRegexp(\"^/a\\\\.b$\") -> f(\"q\\\"b\\\\\\a\\b\\f\\n\\r\\t\\v`\", -3, 0.5, 1000000000000000000000, 123456789.125, 7) -> <shunt>;\n",
		},
		{"no predicates", []*RouteDef{{ID: "n", Backend: shunt()}}, "n: * -> <shunt>;\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Print(tc.defs)
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if len(tc.defs) > 0 && len(tc.defs[0].Predicates) > 0 {
				checkRoundTrip(t, mustParse(t, got))
			}
		})
	}
}

func TestRouteDefString(t *testing.T) {
	d := &RouteDef{ID: "gh", Predicates: []Call{{Name: "Path", Args: []any{"/x"}}, {Name: "*"}}, Backend: netBackend("http://a")}
	if got, want := d.String(), `gh: Path("/x") && * -> "http://a"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := (Call{Name: "status", Args: []any{404.0}}).String(), "status(404)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := (BackendDef{Type: BackendShunt}).String(), "<shunt>"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func mustParse(t *testing.T, src string) []*RouteDef {
	t.Helper()
	defs, err := Parse("", src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return defs
}
