package routing

import (
	"fmt"
	"reflect"
	"regexp"
	"regexp/syntax"
	"slices"
	"testing"
)

func TestTextMatcherAgreesWithRegexp(t *testing.T) {
	exprs := []struct {
		expr string
		mode textMode
	}{
		{`^api[.]github[.]com$`, modeExact},
		{`^api\.github\.com`, modePrefix},
		{`github[.]com$`, modeSuffix},
		{`host1`, modeContains},
		{``, modeContains},
		{`^$`, modeExact},
		{`^a$|^b$`, modeOneOf},
		{`(?i)^host$`, modeRegexp},
		{`^ho+st$`, modeRegexp},
		{`^a.b$`, modeRegexp},
		{`^(:\d+)?$`, modeOneOfPort},
		{`^a[.]b(:\d+)?$`, modeOneOfPort},
		{`^(a|b)[.]c(?::[0-9]+)?$`, modeOneOfPort},
		{`^(api-17|www-17)[.]example[.]org$`, modeOneOf},
		{`^a[.]b(:\d*)?$`, modeRegexp},
		{`^a[.]b:\d+$`, modeRegexp},
		{`^(a)$`, modeExact},
		{`^a?$`, modeOneOf},
		{`^a{2,3}$`, modeOneOf},
		{`a^b`, modeOneOf},
		{`^\x{FFFD}$`, modeRegexp},
		{`^[\x{FFFD}a]$`, modeRegexp},
		{`^\x{D800}$`, modeRegexp},
		{`^[a-z]$`, modeRegexp},
		{`^ü[.]test$`, modeExact},
		{`(?m)^a$`, modeRegexp},
		{`\Aa\z`, modeExact},
	}
	inputs := []string{"", "a", "b", "host", "HOST", "host1", "myhost10:9090", "api.github.com",
		"api.github.com:443", "xapi.github.com", "apixgithubxcom", "ü.test", "a\nb", "a\n", "hooost",
		":80", ":", "a.b", "a.b:", "a.b:8080", "a.b:80:80", "a.b:x", "b.c:1", "aa", "aaa", "aaaa",
		"api-17.example.org", "www-17.example.org", "\xff", "\uFFFD", "ab", "a:1"}
	for _, e := range exprs {
		m, err := newTextMatcher(e.expr)
		if err != nil {
			t.Fatalf("%q: %v", e.expr, err)
		}
		if m.mode != e.mode {
			t.Errorf("%q: got mode %d, want %d", e.expr, m.mode, e.mode)
		}
		rx := regexp.MustCompile(e.expr)
		for _, in := range inputs {
			if got, want := m.match(in), rx.MatchString(in); got != want {
				t.Errorf("%q on %q: got %v, want %v as the regexp says", e.expr, in, got, want)
			}
		}
	}
}

// TestQuickItemsAgree checks the fast path of compileText against the full analysis.
func TestQuickItemsAgree(t *testing.T) {
	accepted := []string{`^api-17[.]example[.]org$`, `^api-17\.example\.org(:\d+)?$`, `^(api|www)-17[.]example[.]org$`,
		`host1`, `^(?:a|b|)c(?::[0-9]+)?$`, ``, `^`, `$`, `^$`, `^(:\d+)?$`, `^a(:\d+)?`, `a b#c`, `(a|a)`, `[0]\-`}
	refused := []string{`^a.b$`, `(?i)^a$`, `^a\$`, `a+`, `^(a|(b))$`, `\\$`, `^a[.]b:\d+$`, `(a`, `a)`, `[^.]`, `(?P<x>a)`}
	for _, expr := range accepted {
		if !quickAgrees(t, expr) {
			t.Errorf("%q: quickItems refused it", expr)
		}
	}
	for _, expr := range refused {
		if quickAgrees(t, expr) {
			t.Errorf("%q: quickItems accepted it", expr)
		}
	}
}

// quickAgrees reports whether quickItems accepts expr, and fails t if its strings differ from
// those enumerate finds in the parsed regexp.
func quickAgrees(t *testing.T, expr string) bool {
	t.Helper()
	quick, ok := quickItems(expr)
	if !ok {
		return false
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		t.Fatalf("%q: quickItems accepted a regexp that does not parse: %v", expr, err)
	}
	slow, finite := enumerate(re)
	if got, want := itemSet(quick), itemSet(slow); !finite || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: quickItems found %q, enumerate %q (finite %v)", expr, got, want, finite)
	}
	return true
}

func itemSet(items []litItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("%q begin=%v end=%v port=%d", it.s, it.begin, it.end, it.port))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func FuzzTextMatcher(f *testing.F) {
	f.Add(`^api[.]github[.]com$`, "api.github.com")
	f.Add(`host1`, "myhost10:9090")
	f.Add(`^a\z`, "a\n")
	f.Add(`^(a|b)[.]c(:\d+)?$`, "b.c:8080")
	f.Add(`^\x{FFFD}$`, "\xff")
	f.Fuzz(func(t *testing.T, expr, in string) {
		quickAgrees(t, expr)
		m, err := newTextMatcher(expr)
		if err != nil {
			return
		}
		if got, want := m.match(in), regexp.MustCompile(expr).MatchString(in); got != want {
			t.Fatalf("%q on %q: got %v, want %v", expr, in, got, want)
		}
	})
}
