package proxy

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzValidQuery checks validQuery against its reference reading: it accepts a query exactly
// when url.ParseQuery returns no error for it. The seed corpus (testdata/fuzz/FuzzValidQuery)
// holds the cases of each rule: ";" anywhere, "%" escapes cut short or not hex, around "=" and
// "&", "+", and the parameter limit on both sides.
func FuzzValidQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, q string) {
		_, err := url.ParseQuery(q)
		if got, want := validQuery(q), err == nil; got != want {
			t.Fatalf("validQuery(%.200q) = %v, want %v (url.ParseQuery: %v)", q, got, want, err)
		}
		if qerr := queryError(q); (qerr == nil) != (err == nil) || qerr != nil && qerr.Error() != err.Error() {
			t.Fatalf("queryError(%.200q) = %v, want %v", q, qerr, err)
		}
	})
}

// TestValidQueryFollowsGODEBUG checks that validQuery follows the parameter limit that GODEBUG's
// urlmaxqueryparams sets for url.ParseQuery, also when GODEBUG changes while the process runs.
func TestValidQueryFollowsGODEBUG(t *testing.T) {
	params := func(n int) string { return strings.Repeat("a=1&", n-1) + "a=1" }
	for _, tc := range []struct {
		godebug string
		counts  []int
	}{
		{"", []int{1, 2, 9999, 10000, 10001, 20000}},
		{"urlmaxqueryparams=3", []int{1, 2, 3, 4, 10000, 10001}},
		{"urlmaxqueryparams=1", []int{1, 2}},
		{"urlmaxqueryparams=0", []int{1, 10000, 10001, 30000}},
		{"urlmaxqueryparams=20000", []int{10000, 10001, 19999, 20000, 20001}},
		{"urlmaxqueryparams=x", []int{10000, 10001}},
		{"", []int{3, 4, 10000, 10001}}, // back to the default
	} {
		t.Setenv("GODEBUG", tc.godebug)
		for _, n := range tc.counts {
			q := params(n)
			_, err := url.ParseQuery(q)
			if got, want := validQuery(q), err == nil; got != want {
				t.Errorf("GODEBUG=%q, %d parameters: got %v, want %v (url.ParseQuery: %v)", tc.godebug, n, got, want, err)
			}
		}
	}
}
