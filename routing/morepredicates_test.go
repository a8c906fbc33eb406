package routing

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
)

// compileWith compiles src with opts (the test registry added) and fails on any error.
func compileWith(t *testing.T, src string, opts CompileOptions) *Table {
	t.Helper()
	defs, err := Parse("", src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	opts.Filters = testRegistry(t)
	tbl, errs := Compile(defs, opts)
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	return tbl
}

func matchID(tbl *Table, rq request) string {
	if rt := tbl.Match(rq.build()); rt != nil {
		return rt.ID
	}
	return "<nil>"
}

func TestIntervalPredicates(t *testing.T) {
	from := time.Date(2016, 1, 1, 10, 0, 0, 0, time.UTC) // 2016-01-01T12:00:00+02:00
	till := time.Date(2016, 2, 1, 10, 0, 0, 0, time.UTC)
	for _, pred := range []string{
		`Between("2016-01-01T12:00:00+02:00", "2016-02-01T12:00:00+02:00")`,
		`Between(1451642400, 1454320800)`,
		`Between(1451642400.9, "2016-02-01T10:00:00Z")`,
	} {
		var now time.Time
		tbl := compileWith(t, "a: "+pred+" -> <shunt>; b: * -> <shunt>", CompileOptions{Now: func() time.Time { return now }})
		for _, tc := range []struct {
			at   time.Time
			want string
		}{
			{from.Add(-time.Nanosecond), "b"},
			{from, "a"}, // the start is in
			{till.Add(-time.Nanosecond), "a"},
			{till, "b"}, // the end is out
		} {
			now = tc.at
			if got := matchID(tbl, request{target: "GET /"}); got != tc.want {
				t.Errorf("%s at %s: got %s, want %s", pred, tc.at, got, tc.want)
			}
		}
	}
	var now time.Time
	opts := CompileOptions{Now: func() time.Time { return now }}
	before := compileWith(t, `a: Before("2016-02-01T12:00:00+02:00") -> <shunt>; b: * -> <shunt>`, opts)
	after := compileWith(t, `a: After(1451642400) -> <shunt>; b: * -> <shunt>`, opts)
	for _, tc := range []struct {
		at                time.Time
		wantBefore, after string
	}{
		{from.Add(-time.Second), "a", "b"},
		{from, "a", "a"},
		{till, "b", "a"},
	} {
		now = tc.at
		if got := matchID(before, request{target: "GET /"}); got != tc.wantBefore {
			t.Errorf("Before at %s: got %s, want %s", tc.at, got, tc.wantBefore)
		}
		if got := matchID(after, request{target: "GET /"}); got != tc.after {
			t.Errorf("After at %s: got %s, want %s", tc.at, got, tc.after)
		}
	}
}

func TestContentLengthBetween(t *testing.T) {
	tbl := mustCompile(t, `a: ContentLengthBetween(10, 20) -> <shunt>; b: * -> <shunt>`)
	for _, tc := range []struct {
		length int64
		want   string
	}{{9, "b"}, {10, "a"}, {19, "a"}, {20, "b"}, {-1, "b"}} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", max(int(tc.length), 0))))
		r.ContentLength = tc.length
		if got := tbl.Match(r); got == nil || got.ID != tc.want {
			t.Errorf("Content-Length %d: got %v, want %s", tc.length, got, tc.want)
		}
	}
}

func TestForwardedPredicates(t *testing.T) {
	// Route ids in the order they are tried: all have one predicate.
	tbl := mustCompile(t, `h: ForwardedHost("^example[.]com$") -> <shunt>; p: ForwardedProtocol("https") -> <shunt>; q_any: ForwardedHost(".*") -> <shunt>; z: * -> <shunt>`)
	for _, tc := range []struct {
		forwarded []string
		want      string
	}{
		{[]string{`host=example.com;proto=http`}, "h"},
		{[]string{`for=192.0.2.1;host="example.com"`}, "h"},                   // quotes trimmed
		{[]string{`host=example.com, host=other.com;proto=https`}, "p"},       // the last host counts
		{[]string{`host=other.com;proto="https"`}, "p"},                       //
		{[]string{`Host=example.com;Proto=https`}, "q_any"},                   // names are case-sensitive: no host, no proto
		{[]string{`host=other.com`, `host=example.com;proto=https`}, "q_any"}, // only the first line counts
		{[]string{""}, "z"},
		{nil, "z"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Forwarded"] = tc.forwarded
		if got := tbl.Match(r); got == nil || got.ID != tc.want {
			t.Errorf("Forwarded %q: got %v, want %s", tc.forwarded, got, tc.want)
		}
	}
}

// padded is s in base64url with padding, which JWTs do not use.
func padded(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }

// jwt returns a token with the given JSON header and payload and a signature that decodes.
func jwt(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

func TestJWTPayloadPredicates(t *testing.T) {
	tbl := mustCompile(t, `
		all: JWTPayloadAllKV("iss", "https://accounts.google.com", "email", "a@b.c") -> <shunt>;
		any: JWTPayloadAnyKV("iss", "https://accounts.google.com", "email", "a@b.c") -> <shunt>;
		allrx: JWTPayloadAllKVRegexp("iss", "^https://", "sub", "^[0-9]+$") && True() -> <shunt>;
		anyrx: JWTPayloadAnyKVRegexp("iss", "^http://", "sub", "^x") -> <shunt>;
		none: * -> <shunt>`)
	const hdr = `{"alg":"RS256"}`
	for _, tc := range []struct {
		name, auth, want string
	}{
		{"all pairs", "Bearer " + jwt(hdr, `{"iss":"https://accounts.google.com","email":"a@b.c"}`), "all"},
		{"one pair", "Bearer " + jwt(hdr, `{"iss":"https://accounts.google.com","email":"x@b.c"}`), "any"},
		{"all regexps", "Bearer " + jwt(hdr, `{"iss":"https://x","sub":"123"}`), "allrx"},
		{"one regexp", "Bearer " + jwt(hdr, `{"iss":"http://x","sub":"123"}`), "anyrx"},
		{"number claim is no string", "Bearer " + jwt(hdr, `{"iss":"https://x","sub":123}`), "none"},
		{"lower-case bearer", "bearer " + jwt(hdr, `{"iss":"https://accounts.google.com","email":"a@b.c"}`), "none"},
		{"two parts", "Bearer " + strings.Join(strings.Split(jwt(hdr, `{"iss":"http://x"}`), ".")[:2], "."), "none"},
		{"padded base64", "Bearer " + padded(`{"alg":"none"}`) + "." + padded(`{"iss":"http://x"}`) + ".c2ln", "none"},
		{"unpadded", "Bearer " + jwt(`{"alg":"none"}`, `{"iss":"http://x"}`), "anyrx"},
		{"header not JSON", "Bearer " + jwt("x", `{"iss":"http://x"}`), "none"},
		{"no token", "", "none"},
	} {
		rq := request{target: "GET /"}
		if tc.auth != "" {
			rq.headers = map[string]string{"Authorization": tc.auth}
		}
		if got := matchID(tbl, rq); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestMorePredicateWeights checks that each of these predicates counts 1 toward the route's
// weight: b, with one more predicate than a, wins; uncounted, the tie would go to a by id.
func TestMorePredicateWeights(t *testing.T) {
	auth := "Bearer " + jwt(`{}`, `{"k":"v"}`)
	for _, pred := range []string{
		`After(0)`, `Cron("* * * * *")`, `Before("2999-01-01T00:00:00Z")`, `Between(0, "2999-01-01T00:00:00Z")`,
		`ContentLengthBetween(0, 10)`, `ForwardedProtocol("http")`, `ForwardedHost("a")`,
		`JWTPayloadAnyKV("k", "v")`, `JWTPayloadAllKV("k", "v")`, `JWTPayloadAnyKVRegexp("k", "v")`, `JWTPayloadAllKVRegexp("k", "v")`,
	} {
		tbl := mustCompile(t, `a: True() && True() -> <shunt>; b: True() && True() && `+pred+` -> <shunt>`)
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("Forwarded", "host=a;proto=http")
		if got := tbl.Match(r); got == nil || got.ID != "b" {
			t.Errorf("%s: got %v, want b", pred, got)
		}
	}
}

func TestMorePredicateErrors(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{`Between(1)`, "Between predicate expects 2 times, RFC 3339 strings or Unix seconds"},
		{`Between(2, 1)`, "Between predicate: the start must be before the end"},
		{`Between(1, 1)`, "Between predicate: the start must be before the end"},
		{`Before("2016-01-01")`, `Before predicate: "2016-01-01" is not an RFC 3339 time such as 2016-01-01T12:00:00+02:00`},
		{`After()`, "After predicate expects 1 times"},
		{`ContentLengthBetween(10, 10)`, "ContentLengthBetween predicate expects 2 numbers min and max, 0 <= min < max"},
		{`ContentLengthBetween(-1, 10)`, "ContentLengthBetween predicate expects 2 numbers"},
		{`ContentLengthBetween("0", 10)`, "ContentLengthBetween predicate expects 2 numbers"},
		{`ForwardedHost("")`, "ForwardedHost predicate expects a regexp that is not empty"},
		{`ForwardedHost("(")`, "ForwardedHost predicate: error parsing regexp"},
		{`ForwardedProtocol("ftp")`, `ForwardedProtocol predicate expects "http" or "https"`},
		{`JWTPayloadAnyKV("iss")`, "JWTPayloadAnyKV predicate expects key and value string pairs"},
		{`JWTPayloadAllKV()`, "JWTPayloadAllKV predicate expects key and value string pairs"},
		{`JWTPayloadAllKV("iss", 1)`, "JWTPayloadAllKV predicate expects key and value string pairs"},
		{`JWTPayloadAnyKVRegexp("iss", "(")`, "JWTPayloadAnyKVRegexp predicate: error parsing regexp"},
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

func TestCronPredicate(t *testing.T) {
	var now time.Time
	opts := CompileOptions{Now: func() time.Time { return now }}
	// Monday 2024-01-15 06:30 in a zone east of UTC: the mask reads the clock's own zone.
	zone := time.FixedZone("X", 5*3600)
	monday630 := time.Date(2024, 1, 15, 6, 30, 0, 0, zone)
	for _, tc := range []struct {
		expr string
		at   time.Time
		want string
	}{
		{"* * * * *", monday630, "a"},
		{"* 5-7 * * *", monday630, "a"},
		{"* 5-7 * * *", monday630.Add(2 * time.Hour), "b"},
		{"* 5-6,8,12-15 * * *", monday630.Add(2 * time.Hour), "a"},
		{"* 7-18 * * 1-5", monday630, "b"}, // 6 o'clock
		{"* * * * 1-5", monday630, "a"},
		{"* * * * 0,6", monday630, "b"},
		{"30 6 15 1 1", monday630, "a"},
		{"30 6 15 1 1", monday630.In(time.UTC), "b"}, // 01:30 UTC
		{"0-29,31-59 * * * *", monday630, "b"},
		{"  30   6 * *  * ", monday630, "a"}, // blanks between fields
		{"* 7-5 * * *", monday630, "b"},      // a backwards range holds nothing
	} {
		tbl := compileWith(t, `a: Cron("`+tc.expr+`") -> <shunt>; b: * -> <shunt>`, opts)
		now = tc.at
		if got := matchID(tbl, request{target: "GET /"}); got != tc.want {
			t.Errorf("Cron(%q) at %s: got %s, want %s", tc.expr, tc.at, got, tc.want)
		}
	}
	for _, expr := range []string{"* 5-7, * * *", "* * * *", "* * * * * *", "*/5 * * * *", "60 * * * *", "* 24 * * *",
		"* * 0 * *", "* * * 13 *", "* * * * 7", "* 1-2-3 * * *", "* -1 * * *", "* * * JAN *", "? * * * *", ""} {
		defs, err := Parse("", `r: Cron("`+expr+`") -> <shunt>`)
		if err != nil {
			t.Fatal(err)
		}
		if _, errs := Compile(defs, CompileOptions{}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "Cron predicate") {
			t.Errorf("Cron(%q): got %v, want a Cron predicate error", expr, errs)
		}
	}
}

// TestOTelBaggagePredicate checks OTelBaggage through its hook, CompileOptions.Baggage, which
// the hook here answers from a test header; without the hook it never matches.
func TestOTelBaggagePredicate(t *testing.T) {
	has := func(r *http.Request, key string) bool { return r.Header.Get("X-Test-Baggage") == key }
	src := `a: OTelBaggage("tenant") -> <shunt>; b: * -> <shunt>`
	with := compileWith(t, src, CompileOptions{Baggage: has})
	without := compileWith(t, src, CompileOptions{})
	for _, tc := range []struct {
		member, want, wantWithout string
	}{{"tenant", "a", "b"}, {"other", "b", "b"}, {"", "b", "b"}} {
		rq := request{target: "GET /", headers: map[string]string{"X-Test-Baggage": tc.member}}
		if got := matchID(with, rq); got != tc.want {
			t.Errorf("member %q: got %s, want %s", tc.member, got, tc.want)
		}
		if got := matchID(without, rq); got != tc.wantWithout {
			t.Errorf("member %q without the hook: got %s, want %s", tc.member, got, tc.wantWithout)
		}
	}
	weighted := compileWith(t, `a: True() && True() -> <shunt>; b: True() && True() && OTelBaggage("k") -> <shunt>`,
		CompileOptions{Baggage: func(*http.Request, string) bool { return true }})
	if got := matchID(weighted, request{target: "GET /"}); got != "b" {
		t.Errorf("weight: got %s, want b", got)
	}
	for _, src := range []string{`OTelBaggage()`, `OTelBaggage(1)`, `OTelBaggage("a", "b")`} {
		defs, _ := Parse("", "r: "+src+" -> <shunt>")
		if _, errs := Compile(defs, CompileOptions{}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "OTelBaggage predicate expects 1 string argument") {
			t.Errorf("%s: got %v", src, errs)
		}
	}
}

// TestTeePredicate checks Tee through its hook, CompileOptions.TeeKey, which the hook here
// answers from a test header; without the hook, or for a request no teeLoopback made, it
// never matches.
func TestTeePredicate(t *testing.T) {
	key := func(r *http.Request) string { return r.Header.Get("X-Test-Tee") }
	src := `a: Tee("shadow") && True() -> <shunt>; b: * -> <shunt>`
	with := compileWith(t, src, CompileOptions{TeeKey: key})
	without := compileWith(t, src, CompileOptions{})
	for _, tc := range []struct{ tee, want string }{{"shadow", "a"}, {"other", "b"}, {"", "b"}} {
		rq := request{target: "GET /", headers: map[string]string{"X-Test-Tee": tc.tee}}
		if got := matchID(with, rq); got != tc.want {
			t.Errorf("tee %q: got %s, want %s", tc.tee, got, tc.want)
		}
		if got := matchID(without, rq); got != "b" {
			t.Errorf("tee %q without the hook: got %s, want b", tc.tee, got)
		}
	}
	defs, _ := Parse("", `r: Tee(1) -> <shunt>`)
	if _, errs := Compile(defs, CompileOptions{}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "Tee predicate expects 1 string argument") {
		t.Errorf("Tee(1): got %v", errs)
	}
}

// TestREADMEListsPredicates checks that the README's predicate table names every predicate
// Compile knows.
func TestREADMEListsPredicates(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range predicateNames {
		if !strings.Contains(string(readme), "| `"+name+"(") && !strings.Contains(string(readme), ", `"+name+"(") && !strings.Contains(string(readme), "(`"+name+"(") {
			t.Errorf("README.md's predicate table does not list %s", name)
		}
	}
}

func TestProxyUserPredicate(t *testing.T) {
	defs, err := Parse("", `a: ProxyUser("alice") -> <shunt>; any: * -> <shunt>;`)
	if err != nil {
		t.Fatal(err)
	}
	table, errs := Compile(defs, CompileOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for user, want := range map[string]string{"alice": "a", "bob": "any", "": "any", "Alice": "any"} {
		r := httptest.NewRequest("GET", "http://x/", nil)
		if user != "" {
			r = r.WithContext(filters.WithProxyUser(r.Context(), user))
		}
		if got := table.Match(r); got == nil || got.ID != want {
			t.Errorf("user %q: matched %v, want %s", user, got, want)
		}
	}
	for _, src := range []string{`ProxyUser("")`, `ProxyUser(1)`, `ProxyUser("a", "b")`} {
		defs, _ := Parse("", `r: `+src+` -> <shunt>`)
		if _, errs := Compile(defs, CompileOptions{}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "ProxyUser predicate") {
			t.Errorf("%s: got %v, want an error naming the predicate", src, errs)
		}
	}
}
