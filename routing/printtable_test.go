package routing

import (
	"reflect"
	"testing"
)

// checkTableRoundTrip asserts that PrintTable, pretty or not, reads back into defs with their
// predicates in Skipper's order and without "*" or Any().
func checkTableRoundTrip(t *testing.T, defs []*RouteDef) {
	t.Helper()
	want := withoutPos(defs)
	for _, d := range want {
		var b []Call
		for _, c := range d.Predicates {
			if (c.Name != predAny && c.Name != predAnyOld) || len(c.Args) != 0 {
				b = append(b, c)
			}
		}
		if len(b) == 0 {
			b = []Call{{Name: predAny}}
		}
		var sorted []Call
		for r := 0; r <= len(tablePredicateRank); r++ {
			for _, c := range b {
				rank, ok := tablePredicateRank[c.Name]
				if !ok {
					rank = len(tablePredicateRank)
				}
				if rank == r {
					sorted = append(sorted, c)
				}
			}
		}
		d.Predicates = sorted
	}
	for _, pretty := range []bool{false, true} {
		printed := PrintTable(defs, pretty)
		again, err := Parse("", printed)
		if err != nil {
			t.Fatalf("PrintTable(pretty %v) does not parse: %v\nprinted:\n%s", pretty, err, printed)
		}
		if !reflect.DeepEqual(withoutPos(again), want) {
			t.Fatalf("PrintTable(pretty %v) changed the routes\nprinted:\n%s\nreprinted:\n%s", pretty, printed, Print(again))
		}
	}
}

func TestPrintTable(t *testing.T) {
	src := `a: Any() && Method("GET") && PathRegexp("^/a/b") && Host(/^api[.]test$/) && Path("/x") ->
	  setPath("/y") -> "https://a.test";
	b: * -> <shunt>;
	c: HeaderRegexp("X-A", "a/b\\d") && Header("X-B", "1") && Host("") -> modPath(/\/x/, "y") -> <loopback>;`
	defs, err := Parse("t.eskip", src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[bool]string{
		false: `a: Path("/x") && Host(/^api[.]test$/) && PathRegexp(/^\/a\/b/) && Method("GET") -> setPath("/y") -> "https://a.test";
b: * -> <shunt>;
c: Host("") && Header("X-B", "1") && HeaderRegexp("X-A", /a\/b\d/) -> modPath("/x", "y") -> <loopback>;
`,
		true: `a: Path("/x") && Host(/^api[.]test$/) && PathRegexp(/^\/a\/b/) && Method("GET")
  -> setPath("/y")
  -> "https://a.test";

b: *
  -> <shunt>;

c: Host("") && Header("X-B", "1") && HeaderRegexp("X-A", /a\/b\d/)
  -> modPath("/x", "y")
  -> <loopback>;
`,
	}
	for pretty, w := range want {
		if got := PrintTable(defs, pretty); got != w {
			t.Errorf("PrintTable(pretty %v):\n%s\nwant:\n%s", pretty, got, w)
		}
	}
	checkTableRoundTrip(t, defs)
	if got, want := PrintTable(defs[1:2:2], false), "b: * -> <shunt>;\n"; got != want {
		t.Errorf("one named route: got %q, want %q", got, want)
	}
	if got := PrintTable(nil, true); got != "" {
		t.Errorf("no routes: got %q, want nothing", got)
	}
}
