package routesrc

import (
	"testing"

	"github.com/skipper-egress/skipper/routing"
)

// TestChangesSurviveReloads checks that the changes are applied to each load afresh: the inline
// routes, compiled again on every reload of the file, get the default filters once, and one
// clone, however often the file changes.
func TestChangesSurviveReloads(t *testing.T) {
	f := newFixture(t, `b: Host("^b$") -> <shunt>;`)
	opts := f.options(`a: Host("^a$") -> setRequestHeader("X", "a") -> <shunt>`)
	pre, err := ParseFilters("-default-filters-prepend", `setRequestHeader("P", "1")`)
	if err != nil {
		t.Fatal(err)
	}
	clone, err := ParseRewrite(`/"\^a\$"/"^c$"/`)
	if err != nil {
		t.Fatal(err)
	}
	edit, err := ParseRewrite(`/"X"/"Y"/`)
	if err != nil {
		t.Fatal(err)
	}
	opts.Changes = &Changes{Prepend: pre, Clone: clone, Edit: edit}
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, file := range []string{`b: Host("^b$") -> <shunt>;`, `b2: Host("^b$") -> <shunt>;`, `b3: Host("^b$") -> <shunt>;`} {
		f.write(t, file)
		l.Reload()
		routes := f.router.Load().Routes()
		if len(routes) != 3 {
			t.Fatalf("load %d: %d routes, want a, clone_a and the file's", i, len(routes))
		}
		for _, rt := range routes {
			if want := map[string]string{"a": "a", "clone_a": "c"}[rt.ID]; want != "" && f.routeFor(want) != rt.ID {
				t.Errorf("load %d: host %s does not match %s", i, want, rt.ID)
			}
			want := `setRequestHeader("P", "1")`
			if rt.ID != "b" && rt.ID != "b2" && rt.ID != "b3" {
				want += ` -> setRequestHeader("Y", "a")`
			}
			if got := filterText(rt.Def); got != want {
				t.Errorf("load %d: route %s has filters %s, want %s", i, rt.ID, got, want)
			}
		}
	}
}

func filterText(d *routing.RouteDef) string {
	s := ""
	for i, f := range d.Filters {
		if i > 0 {
			s += " -> "
		}
		s += f.String()
	}
	return s
}
