package routing

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// matchCounts matches the request n times against tbl and counts the winning route ids
// ("<nil>" for none).
func matchCounts(tbl *Table, rq request, n int) map[string]int {
	counts := map[string]int{}
	for range n {
		id := "<nil>"
		if rt := tbl.Match(rq.build()); rt != nil {
			id = rt.ID
		}
		counts[id]++
	}
	return counts
}

// TestTrafficSegmentSharesOneNumber checks that the TrafficSegment predicates of all routes a
// request is tried against see the same number: with [0, .5) and [.5, 1) one of the two routes
// always matches. Were each predicate to draw its own, a quarter of the requests would match
// neither (the chance that 400 requests all match is 0.75^400).
func TestTrafficSegmentSharesOneNumber(t *testing.T) {
	tbl := mustCompile(t, `a: TrafficSegment(0, .5) && True() -> <shunt>; b: TrafficSegment(.5, 1) -> <shunt>`)
	counts := matchCounts(tbl, request{target: "GET /"}, 400)
	if counts["<nil>"] != 0 || counts["a"] == 0 || counts["b"] == 0 {
		t.Errorf("got %v, want every request to match a or b, and both to be taken", counts)
	}
}

func TestTrafficSegmentBounds(t *testing.T) {
	tests := []struct {
		pred string
		want string
	}{
		{"TrafficSegment(0, 1)", "a"},
		{"TrafficSegment(0, 0)", "b"}, // an empty interval never matches
		{"TrafficSegment(1, 1)", "b"}, // the number is below 1
		{"TrafficSegment(0.25, 0.25)", "b"},
	}
	for _, tc := range tests {
		t.Run(tc.pred, func(t *testing.T) {
			tbl := mustCompile(t, "a: "+tc.pred+" && True() -> <shunt>; b: * -> <shunt>")
			counts := matchCounts(tbl, request{target: "GET /"}, 100)
			if counts[tc.want] != 100 {
				t.Errorf("got %v, want all 100 on %s", counts, tc.want)
			}
		})
	}
}

// TestTrafficSegmentWeight checks that TrafficSegment does not count toward the route's
// weight, as in Skipper (its weight is -1 against the 1 of every predicate): b, with one more
// predicate, wins; were TrafficSegment counted, the tie would go to a by id.
func TestTrafficSegmentWeight(t *testing.T) {
	tbl := mustCompile(t, `a: TrafficSegment(0, 1) && Header("X", "y") -> <shunt>; b: Header("X", "y") && True() -> <shunt>`)
	got := tbl.Match(request{target: "GET /", headers: map[string]string{"X": "y"}}.build())
	if got == nil || got.ID != "b" {
		t.Errorf("got %v, want b", got)
	}
}

func TestTrafficChance(t *testing.T) {
	for _, tc := range []struct {
		pred   string
		lo, hi int // the number of 1000 requests route a may take
	}{
		{"Traffic(0)", 0, 0},
		{"Traffic(1)", 1000, 1000},
		// At 1/2, fewer than 350 or more than 650 has a chance of about 1e-21.
		{"Traffic(.5)", 350, 650},
		{"Traffic(.1)", 30, 200},
	} {
		t.Run(tc.pred, func(t *testing.T) {
			tbl := mustCompile(t, "a: "+tc.pred+" -> <shunt>; b: * -> <shunt>")
			counts := matchCounts(tbl, request{target: "GET /"}, 1000)
			if counts["a"] < tc.lo || counts["a"] > tc.hi || counts["a"]+counts["b"] != 1000 {
				t.Errorf("got %v, want a between %d and %d, the rest b", counts, tc.lo, tc.hi)
			}
		})
	}
}

// TestTrafficSticky checks Skipper's sticky traffic: a request whose cookie names a traffic
// group goes by the group alone; one without the cookie goes by chance.
func TestTrafficSticky(t *testing.T) {
	tbl := mustCompile(t, `a: Traffic(0, "catalog-test", "A") -> <shunt>; b: Traffic(1, "catalog-test", "B") && True() -> <shunt>; c: * -> <shunt>`)
	for _, tc := range []struct {
		cookie, want string
	}{
		{"catalog-test=A", "a"},                 // chance 0, but the group is A
		{"x=1; catalog-test=B", "b"},            // the group is B
		{"catalog-test=C", "c"},                 // another group: neither, although b's chance is 1
		{"", "b"},                               // no cookie: b by chance 1, a never
		{"catalog-test=A; catalog-test=B", "a"}, // the first cookie of the name counts
	} {
		rq := request{target: "GET /"}
		if tc.cookie != "" {
			rq.headers = map[string]string{"Cookie": tc.cookie}
		}
		if counts := matchCounts(tbl, rq, 20); counts[tc.want] != 20 {
			t.Errorf("Cookie %q: got %v, want all on %s", tc.cookie, counts, tc.want)
		}
	}
}

func TestHeaderSHA256(t *testing.T) {
	sum := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	}
	src := `a: HeaderSHA256("x-api-key", "` + sum("first") + `", "` + strings.ToUpper(sum("second")) + `") -> <shunt>; b: * -> <shunt>`
	tbl := mustCompile(t, src)
	for _, tc := range []struct {
		values []string
		want   string
	}{
		{[]string{"first"}, "a"},
		{[]string{"second"}, "a"}, // upper-case hex is hex too
		{[]string{"third"}, "b"},
		{[]string{"firs"}, "b"},
		{nil, "b"},
		{[]string{""}, "b"},
		{[]string{"third", "first"}, "b"}, // only the first value counts, as r.Header.Get
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-Api-Key"] = tc.values
		got := tbl.Match(r)
		if got == nil || got.ID != tc.want {
			t.Errorf("X-Api-Key %q: got %v, want %s", tc.values, got, tc.want)
		}
	}
}

// TestShutdownPredicate checks Shutdown() through its hook, CompileOptions.ShuttingDown: the
// route matches once the process is shutting down, and never without the hook.
func TestShutdownPredicate(t *testing.T) {
	src := `down: Shutdown() -> <shunt>; up: * -> <shunt>`
	defs, err := Parse("", src)
	if err != nil {
		t.Fatal(err)
	}
	var shutting atomic.Bool
	tbl, errs := Compile(defs, CompileOptions{ShuttingDown: shutting.Load})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	never, errs := Compile(defs, CompileOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	req := request{target: "GET /"}
	if got := tbl.Match(req.build()); got == nil || got.ID != "up" {
		t.Errorf("serving: got %v, want up", got)
	}
	shutting.Store(true)
	if got := tbl.Match(req.build()); got == nil || got.ID != "down" {
		t.Errorf("shutting down: got %v, want down", got)
	}
	if got := never.Match(req.build()); got == nil || got.ID != "up" {
		t.Errorf("without ShuttingDown: got %v, want up", got)
	}
}

// TestStatePredicateWeights checks that Traffic, Shutdown and HeaderSHA256 count 1 toward the
// route's weight, as Skipper's plain predicates do: b has one more predicate than a and wins;
// were the predicate not counted, the tie would go to a by id.
func TestStatePredicateWeights(t *testing.T) {
	h := sha256.Sum256([]byte("k"))
	for _, pred := range []string{`Traffic(1)`, `Traffic(1, "c", "g")`, `HeaderSHA256("K", "` + hex.EncodeToString(h[:]) + `")`} {
		tbl := mustCompile(t, `a: Header("K", "k") && True() -> <shunt>; b: Header("K", "k") && True() && `+pred+` -> <shunt>`)
		got := tbl.Match(request{target: "GET /", headers: map[string]string{"K": "k"}}.build())
		if got == nil || got.ID != "b" {
			t.Errorf("%s: got %v, want b", pred, got)
		}
	}
	defs, err := Parse("", `a: True() && True() -> <shunt>; b: True() && Shutdown() -> <shunt>`)
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ := Compile(defs, CompileOptions{ShuttingDown: func() bool { return true }})
	if got := tbl.Match(request{target: "GET /"}.build()); got == nil || got.ID != "a" {
		t.Errorf("Shutdown(): got %v, want a (a tie, decided by id)", got)
	}
}

func TestStatePredicateErrors(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{`Traffic()`, "Traffic predicate expects a chance from 0 to 1, optionally followed by a cookie name and a traffic group"},
		{`Traffic(1.5)`, "Traffic predicate expects a chance"},
		{`Traffic(-0.1)`, "Traffic predicate expects a chance"},
		{`Traffic("0.5")`, "Traffic predicate expects a chance"},
		{`Traffic(.5, "cookie")`, "Traffic predicate expects a chance"},
		{`Traffic(.5, "cookie", 1)`, "Traffic predicate expects a chance"},
		{`TrafficSegment(0)`, "TrafficSegment predicate expects 2 numbers min and max, 0 <= min <= max <= 1"},
		{`TrafficSegment(.5, .4)`, "TrafficSegment predicate expects 2 numbers"},
		{`TrafficSegment(-1, .4)`, "TrafficSegment predicate expects 2 numbers"},
		{`TrafficSegment(0, 1.1)`, "TrafficSegment predicate expects 2 numbers"},
		{`TrafficSegment("0", "1")`, "TrafficSegment predicate expects 2 numbers"},
		{`Shutdown(1)`, "Shutdown predicate expects no arguments"},
		{`HeaderSHA256("X")`, "HeaderSHA256 predicate expects a header name and at least 1 hex SHA-256 hash"},
		{`HeaderSHA256("X", 1)`, "HeaderSHA256 predicate expects a header name"},
		{`HeaderSHA256("X", "abc")`, "HeaderSHA256 predicate: argument 2 is not a hex SHA-256 hash (64 hex digits)"},
		{`HeaderSHA256("X", "` + strings.Repeat("0", 64) + `", "` + strings.Repeat("g", 64) + `")`, "HeaderSHA256 predicate: argument 3 is not a hex SHA-256 hash"},
		{`Trafic(.5)`, `unknown predicate "Trafic"; did you mean "Traffic"?`},
	} {
		defs, err := Parse("", "r: "+tc.src+" -> <shunt>")
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		_, errs := Compile(defs, CompileOptions{})
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.src, errs, tc.want)
		}
	}
}
