package routing

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMatchRequestPredicates(t *testing.T) {
	type hdr = map[string]string
	tests := []struct {
		name   string
		routes string
		req    request
		want   string
	}{
		// Cookie: the first cookie of the name, as http.Request.Cookie finds it.
		{"cookie", `a: Cookie("alpha", /^enabled$/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": "beta=1; alpha=enabled"}}, "a"},
		{"cookie value differs", `a: Cookie("alpha", /^enabled$/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": "alpha=disabled"}}, "<nil>"},
		{"cookie missing", `a: Cookie("alpha", /.*/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": "beta=1"}}, "<nil>"},
		{"no cookie header", `a: Cookie("alpha", /.*/) -> <shunt>`, request{target: "GET /"}, "<nil>"},
		{"cookie quoted", `a: Cookie("alpha", /^on$/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": `alpha="on"`}}, "a"},
		{"cookie first wins", `a: Cookie("alpha", /^2$/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": "alpha=1; alpha=2"}}, "<nil>"},
		{"cookie invalid value skipped", `a: Cookie("alpha", /^2$/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": `alpha=a\b; alpha=2`}}, "a"},
		{"cookie blanks", `a: Cookie("alpha", /^1$/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": " ; alpha =1 ;"}}, "a"},
		{"cookie empty value", `a: Cookie("alpha", /^$/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": "alpha"}}, "a"},
		{"cookie name not a token", `a: Cookie("a b", /.*/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": "a b=1"}}, "<nil>"},
		{"cookie name empty", `a: Cookie("", /.*/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": "=1"}}, "<nil>"},
		// QueryParam: as url.ParseQuery parses the query.
		{"query exists", `a: QueryParam("query") -> <shunt>`, request{target: "GET /?bb=a&query=withvalue"}, "a"},
		{"query exists empty", `a: QueryParam("query") -> <shunt>`, request{target: "GET /?bb=a&query="}, "a"},
		{"query exists bare", `a: QueryParam("query") -> <shunt>`, request{target: "GET /?query"}, "a"},
		{"query missing", `a: QueryParam("query") -> <shunt>`, request{target: "GET /?queryx=1"}, "<nil>"},
		{"query regexp", `a: QueryParam("query", "^example$") -> <shunt>`, request{target: "GET /?query=testing&query=example"}, "a"},
		{"query regexp differs", `a: QueryParam("query", "^example$") -> <shunt>`, request{target: "GET /?query=examples"}, "<nil>"},
		{"query escaped name", `a: QueryParam("a b") -> <shunt>`, request{target: "GET /?a+b=1"}, "a"},
		{"query escaped name percent", `a: QueryParam("a&b") -> <shunt>`, request{target: "GET /?a%26b=1"}, "a"},
		{"query escaped value", `a: QueryParam("q", "^a b/c$") -> <shunt>`, request{target: "GET /?q=a+b%2Fc"}, "a"},
		{"query bad escape in value", `a: QueryParam("q") -> <shunt>`, request{target: "GET /?q=%zz"}, "<nil>"},
		{"query bad escape in name", `a: QueryParam("q%") -> <shunt>`, request{target: "GET /?q%=1"}, "<nil>"},
		{"query semicolon pair ignored", `a: QueryParam("q") -> <shunt>`, request{target: "GET /?q=1;x=2"}, "<nil>"},
		{"query other pairs still count", `a: QueryParam("q") -> <shunt>`, request{target: "GET /?x=1;y&q=2"}, "a"},
		{"query empty name", `a: QueryParam("") -> <shunt>`, request{target: "GET /?=1"}, "a"},
		// ClientIP: the connection's address only.
		{"client ip", `a: ClientIP("192.0.2.0/24") -> <shunt>`, request{target: "GET /"}, "a"},
		{"client ip ignores xff", `a: ClientIP("10.0.0.0/8") -> <shunt>`, request{target: "GET /", headers: hdr{"X-Forwarded-For": "10.1.1.1"}}, "<nil>"},
		{"client ip single", `a: ClientIP("10.0.0.1", "192.0.2.1") -> <shunt>`, request{target: "GET /"}, "a"},
		{"client ip v6", `a: ClientIP("2001:db8::/32") -> <shunt>`, request{target: "GET /", remote: "[2001:db8::1]:443"}, "a"},
		{"client ip v4 not in v6", `a: ClientIP("::/0") -> <shunt>`, request{target: "GET /"}, "<nil>"},
		{"client ip without port", `a: ClientIP("192.0.2.1") -> <shunt>`, request{target: "GET /", remote: "192.0.2.1"}, "<nil>"},
		// Source: the first X-Forwarded-For entry, else the remote address.
		{"source from xff", `a: Source("10.0.0.0/8") -> <shunt>`, request{target: "GET /", headers: hdr{"X-Forwarded-For": "10.1.1.1, 192.0.2.9"}}, "a"},
		{"source xff with port", `a: Source("10.0.0.0/8") -> <shunt>`, request{target: "GET /", headers: hdr{"X-Forwarded-For": "10.1.1.1:5000"}}, "a"},
		{"source xff first only", `a: Source("192.0.2.9") -> <shunt>`, request{target: "GET /", headers: hdr{"X-Forwarded-For": "10.1.1.1, 192.0.2.9"}}, "<nil>"},
		{"source remote without xff", `a: Source("192.0.2.1") -> <shunt>`, request{target: "GET /"}, "a"},
		{"source remote when xff is junk", `a: Source("192.0.2.1") -> <shunt>`, request{target: "GET /", headers: hdr{"X-Forwarded-For": "unknown"}}, "a"},
		{"source remote without port", `a: Source("192.0.2.7") -> <shunt>`, request{target: "GET /", remote: "192.0.2.7"}, "a"},
		// SourceFromLast: the last X-Forwarded-For entry.
		{"source last", `a: SourceFromLast("192.0.2.9") -> <shunt>`, request{target: "GET /", headers: hdr{"X-Forwarded-For": "10.1.1.1, 192.0.2.9"}}, "a"},
		{"source last not first", `a: SourceFromLast("10.1.1.1") -> <shunt>`, request{target: "GET /", headers: hdr{"X-Forwarded-For": "10.1.1.1, 192.0.2.9"}}, "<nil>"},
		{"source last v6 with port", `a: SourceFromLast("2001:db8::/32") -> <shunt>`, request{target: "GET /", headers: hdr{"X-Forwarded-For": "10.1.1.1, [2001:db8::5]:80"}}, "a"},
		// Weights: each counts as one predicate.
		{"cookie route wins by weight", `a: * -> <shunt>; b: Cookie("c", /1/) -> <shunt>`, request{target: "GET /", headers: hdr{"Cookie": "c=1"}}, "b"},
		{"query route wins by weight", `a: Method("GET") -> <shunt>; b: Method("GET") && QueryParam("q") -> <shunt>`, request{target: "GET /?q"}, "b"},
		{"source route loses to heavier", `a: Source("192.0.2.1") -> <shunt>; b: Weight(2) -> <shunt>`, request{target: "GET /"}, "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl := mustCompile(t, tc.routes)
			r := tc.req.build()
			got := "<nil>"
			if rt := tbl.Match(r); rt != nil {
				got = rt.ID
			}
			if got != tc.want {
				t.Errorf("%s %v matched %q, want %q", tc.req.target, tc.req.headers, got, tc.want)
			}
		})
	}
}

// TestCookieAgreesWithNetHTTP compares the Cookie predicate with http.Request.Cookie on
// awkward headers, including several Cookie lines and more cookies than net/http parses.
func TestCookieAgreesWithNetHTTP(t *testing.T) {
	many := strings.Repeat("x=1; ", stdMaxCookies) + "alpha=1"
	lines := [][]string{
		{"alpha=1"}, {"beta=2", "alpha=1"}, {`alpha="1"`}, {`alpha="1`}, {"alpha=1\x7f"},
		{"alpha=1,2"}, {"alpha = 1"}, {" alpha=1 "}, {"\talpha=1"}, {";;alpha=1;;"}, {many},
		{"alpha=", "alpha=1"}, {"Alpha=1"}, {"alpha=1 2"}, {`alpha=""`},
	}
	tbl := mustCompile(t, `a: Cookie("alpha", /^1?$/) -> <shunt>`)
	for _, l := range lines {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = l
		c, err := r.Cookie("alpha")
		want := err == nil && (c.Value == "1" || c.Value == "")
		if got := tbl.Match(r) != nil; got != want {
			t.Errorf("Cookie lines %.60q: matched %v, want %v as net/http says", l, got, want)
		}
	}
}

// TestQueryAgreesWithNetURL compares QueryParam with url.Values on awkward queries.
func TestQueryAgreesWithNetURL(t *testing.T) {
	queries := []string{"q", "q=", "q=1", "a=1&q=2", "q=%", "q=%4", "q=%41", "q%3D=1", "%71=1",
		"q+=1", "q%20=1", "q=1;", "&&q&&", "q=a+b", "=&q", strings.Repeat("x&", stdMaxQueryParams) + "q=1"}
	tbl := mustCompile(t, `a: QueryParam("q", "^(|1|2|A|a b)$") -> <shunt>`)
	for _, q := range queries {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.RawQuery = q
		want := false
		for _, v := range r.URL.Query()["q"] {
			want = want || v == "" || v == "1" || v == "2" || v == "A" || v == "a b"
		}
		if got := tbl.Match(r) != nil; got != want {
			t.Errorf("query %.60q: matched %v, want %v as net/url says", q, got, want)
		}
	}
}

func TestRequestPredicateErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`r: Cookie("a") -> <shunt>`, `1:1: route "r": Cookie predicate expects 2 string arguments`},
		{`r: Cookie("a", "(") -> <shunt>`, "1:1: route \"r\": Cookie predicate: error parsing regexp: missing closing ): `(`"},
		{`r: QueryParam() -> <shunt>`, `1:1: route "r": QueryParam predicate expects 1 or 2 string arguments`},
		{`r: QueryParam("a", "b", "c") -> <shunt>`, `1:1: route "r": QueryParam predicate expects 1 or 2 string arguments`},
		{`r: QueryParam(1) -> <shunt>`, `1:1: route "r": QueryParam predicate expects 1 or 2 string arguments`},
		{`r: QueryParam("a", "[") -> <shunt>`, "1:1: route \"r\": QueryParam predicate: error parsing regexp: missing closing ]: `[`"},
		{`r: ClientIP() -> <shunt>`, `1:1: route "r": ClientIP predicate expects at least 1 string argument`},
		{`r: Source(1) -> <shunt>`, `1:1: route "r": Source predicate expects at least 1 string argument`},
		{`r: SourceFromLast("10.0.0.0/33") -> <shunt>`, `1:1: route "r": SourceFromLast predicate: invalid network "10.0.0.0/33"`},
		{`r: Source("example.org") -> <shunt>`, `1:1: route "r": Source predicate: invalid address "example.org"`},
		{`r: ClientIP("0.0.0.0") -> <shunt>`, `1:1: route "r": ClientIP predicate: invalid address "0.0.0.0"`},
		{`r: ClientIP("fe80::1%eth0") -> <shunt>`, `1:1: route "r": ClientIP predicate: invalid address "fe80::1%eth0"`},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			defs, err := Parse("", tc.src)
			if err != nil {
				t.Fatal(err)
			}
			_, errs := Compile(defs, CompileOptions{})
			var re *RouteError
			if len(errs) != 1 || !errors.As(errs[0], &re) {
				t.Fatalf("got errors %v, want one *RouteError", errs)
			}
			if got := errs[0].Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
