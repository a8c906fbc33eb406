package routing

import (
	"fmt"
	"net/http/httptest"
	"testing"
)

// TestSubtreeConflict follows Skipper's routing/subtreeconflict_test.go: a PathSubtree with
// more predicates beats a Path on the subtree's own path, in either order and with or without
// trailing slashes, because Skipper files both under the same path and orders them by weight.
func TestSubtreeConflict(t *testing.T) {
	shapes := []struct {
		name, subtree, path string
		getFoo              string // the route GET /foo takes
	}{
		{"subtree with slash", "/foo/", "/foo", "path"},
		{"invert trailing", "/foo", "/foo/", "<nil>"},
		{"no trailing", "/foo", "/foo", "path"},
		{"with trailing", "/foo/", "/foo/", "<nil>"},
	}
	for _, sh := range shapes {
		subtree := fmt.Sprintf(`subtree: PathSubtree(%q) && Method("PUT") -> status(200) -> <shunt>;`, sh.subtree)
		path := fmt.Sprintf(`path: Path(%q) -> status(200) -> <shunt>;`, sh.path)
		for order, src := range []string{subtree + path, path + subtree} {
			tbl := mustCompile(t, src)
			for _, tc := range []struct{ method, path, want string }{
				{"PUT", "/foo/bar", "subtree"},
				{"PUT", "/foo", "subtree"},
				{"PUT", "/foo/", "subtree"},
				{"GET", "/foo", sh.getFoo},
				{"GET", "/bar", "<nil>"},
			} {
				r := httptest.NewRequest(tc.method, tc.path, nil)
				if got := routeID(tbl.Match(r)); got != tc.want {
					t.Errorf("%s, order %d: %s %s matched %s, want %s", sh.name, order+1, tc.method, tc.path, got, tc.want)
				}
				if got := routeID(tbl.matchLinear(r)); got != tc.want {
					t.Errorf("%s, order %d: reference: %s %s matched %s, want %s", sh.name, order+1, tc.method, tc.path, got, tc.want)
				}
			}
		}
	}
}
