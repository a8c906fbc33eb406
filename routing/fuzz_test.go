package routing

import (
	"errors"
	"os"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that its errors carry a position, and that every
// document it accepts survives Print and Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, file := range fixtures(f) {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src))
	}
	for _, s := range []string{
		"", "* -> <shunt>", "r: * -> <shunt>;", `r: f("\q\n\"") -> <"http://a", "http://b">`,
		"r: PathRegexp(/[/]\\/\\\\/) -> <shunt>", "r: * -> f(-.5, 007, 1.25) -> <dynamic>",
		"r: * -> f(`a\\`b`) -> <loopback>", "my-route: * -> <shunt>", "r: * -> f(3.) -> <shunt>",
		`r: TrafficSegment(0, .5) && Traffic(.1, "c", "g") && Shutdown() && HeaderSHA256("X", "00") -> <shunt>`,
		"r: * -> <forward>", "r: * -> <forward", "r: * -> <forwardx>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		defs, err := Parse("", src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Col < 1 || se.Msg == "" {
				t.Fatalf("Parse(%q): got error %#v, want a *SyntaxError with a position", src, err)
			}
			return
		}
		printed := Print(defs)
		again, err := Parse("", printed)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its printed form does not parse: %v\nprinted:\n%s", src, err, printed)
		}
		if !reflect.DeepEqual(withoutPos(again), withoutPos(defs)) {
			t.Fatalf("Parse(%q): round trip changed the routes\nprinted:\n%s\nreprinted:\n%s", src, printed, Print(again))
		}
		checkTableRoundTrip(t, defs)
	})
}
