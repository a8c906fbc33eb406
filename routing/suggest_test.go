package routing

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"bearerinjector", "setPath", "setQuery", "status", "modPath"}
	tests := []struct{ name, want string }{
		{"bearerInjector", "bearerinjector"}, // case first
		{"BEARERINJECTOR", "bearerinjector"},
		{"bearerinjectr", "bearerinjector"},   // one deletion
		{"bearerinjectorr", "bearerinjector"}, // one insertion
		{"setPth", "setPath"},
		{"setQuerry", "setQuery"},
		{"stauts", "status"},  // a swap is two edits
		{"setPat", "setPath"}, // nearer than setQuery
		{"sets", ""},          // two edits in four characters is not close
		{"frobnicate", ""},    // nothing close
		{"", ""},
	}
	for _, tc := range tests {
		if got := closest(tc.name, known); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestClosestTieTakesFirst(t *testing.T) {
	if got := closest("ab", []string{"ax", "ay"}); got != "" {
		t.Errorf("closest(ab) = %q, want none: one edit in two characters is half", got)
	}
	if got := closest("abcd", []string{"abcx", "abcy"}); got != "abcx" {
		t.Errorf("closest(abcd) = %q, want the first of the nearest, abcx", got)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"same", "same", 0},
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
