package filters

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzSwapQuery checks swapQuery against net/url: the query a backend receives parses, as
// url.ParseQuery reads it, to the client's keys and values with the placeholder replaced, and a
// query that does not hold the placeholder reaches it byte for byte.
func FuzzSwapQuery(f *testing.F) {
	for _, seed := range []struct{ q, old, repl string }{
		{"key=sk-placeholder&x=1", "sk-placeholder", "sk-real/+&=%"},
		{"a=sk%2Dplaceholder&b=pre+sk-placeholder+post", "sk-placeholder", "s e+c"},
		{"sk-placeholder=1&sk-placeholder", "sk-placeholder", "k"},
		{"a=%zz&b=PH", "PH", "v"},
		{"a=x&&=&b", "x", "y"},
		{"q=a%26b", "a&b", "c=d"},
		{"q=caf%C3%A9", "é", "\xff"},
	} {
		f.Add(seed.q, seed.old, seed.repl)
	}
	f.Fuzz(func(t *testing.T, q, old, repl string) {
		if old == "" || repl == "" {
			return // secretValue refuses an empty secret
		}
		want, err := url.ParseQuery(q)
		if err != nil {
			return // refused before routing (queryError)
		}
		got := swapQuery(q, old, repl)
		if !queryHolds(q, old) {
			if got != q {
				t.Fatalf("swapQuery(%q, %q, %q) = %q, want it unchanged", q, old, repl, got)
			}
			return
		}
		parsed, err := url.ParseQuery(got)
		if err != nil {
			t.Fatalf("swapQuery(%q, %q, %q) = %q, which does not parse: %v", q, old, repl, got, err)
		}
		// Replaced keys may merge: compare each key's values as a multiset.
		swapped := url.Values{}
		for k, vv := range want {
			for _, v := range vv {
				swapped.Add(strings.ReplaceAll(k, old, repl), strings.ReplaceAll(v, old, repl))
			}
		}
		if len(parsed) != len(swapped) {
			t.Fatalf("swapQuery(%q, %q, %q) = %q: parses to %q, want %q", q, old, repl, got, parsed, swapped)
		}
		for k, vv := range swapped {
			a, b := slices.Clone(vv), slices.Clone(parsed[k])
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Fatalf("swapQuery(%q, %q, %q) = %q: key %q has %q, want %q", q, old, repl, got, k, b, a)
			}
		}
		if strings.Count(got, "&") != strings.Count(q, "&") {
			t.Fatalf("swapQuery(%q, %q, %q) = %q: the separators changed", q, old, repl, got)
		}
	})
}
