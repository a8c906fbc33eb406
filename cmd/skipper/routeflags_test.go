package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skipper-egress/skipper/internal/proxytest"
)

// TestRouteFlagsThroughBinary runs skipper with Skipper's route-changing flags and checks what
// a request meets: the default filters around each route's own, in order, on inline and file
// routes alike; -clone-route adding clone_ID for the route it changes (predicates and filters);
// -edit-route changing every route, clones included; -ignore-trailing-slash matching /path/ to
// Path("/path").
func TestRouteFlagsThroughBinary(t *testing.T) {
	dir := t.TempDir()
	backend := proxytest.NewBackend(t, nil)
	file := filepath.Join(dir, "routes.eskip")
	writeFile(t, file, fmt.Sprintf(`f: Path("/file") -> "http://%s";`, backend.Addr()))
	p := start(t,
		"-inline-routes="+fmt.Sprintf(`
			a: Path("/a") && Header("X-Who", "a") -> setRequestHeader("X-Route", "a") -> "http://%[1]s";
			p: Path("/path") -> setRequestHeader("X-Route", "p") -> "http://%[1]s";
			d: Path("/dir/") -> setRequestHeader("X-Route", "d") -> "http://%[1]s";`, backend.Addr()),
		"-routes-file="+file,
		"-default-filters-prepend", `setRequestHeader("X-Order", "prepend") -> appendRequestHeader("X-Pre", "1")`,
		"-default-filters-prepend", `appendRequestHeader("X-Pre", "2")`,
		"-default-filters-append", `appendRequestHeader("X-Order", "append")`,
		"-clone-route", `/"a"/"c"/`,
		"-edit-route", `/X-Route/X-Edited/`,
		"-ignore-trailing-slash")

	for _, tc := range []struct {
		path, who  string
		wantStatus int
		wantRoute  string // X-Edited the backend saw; "-" for none
	}{
		{"/a", "a", http.StatusOK, "a"},
		{"/a", "c", http.StatusOK, "c"}, // clone_a: predicate and filter cloned, then edited
		{"/a", "b", http.StatusNotFound, ""},
		{"/file", "", http.StatusOK, "-"},
		{"/path", "", http.StatusOK, "p"},
		{"/path/", "", http.StatusOK, "p"},
		{"/path//", "", http.StatusOK, "p"}, // cleaned to /path/ first
		{"/pat", "", http.StatusNotFound, ""},
		{"/dir", "", http.StatusOK, "d"},
	} {
		n := len(backend.Received())
		res, _ := p.get(t, "x", tc.path, "X-Who", tc.who)
		if res.StatusCode != tc.wantStatus {
			t.Errorf("%s (X-Who %q): status %d, want %d", tc.path, tc.who, res.StatusCode, tc.wantStatus)
			continue
		}
		if tc.wantStatus != http.StatusOK {
			continue
		}
		if len(backend.Received()) != n+1 {
			t.Fatalf("%s: the backend did not get the request", tc.path)
		}
		h := backend.Last(t).Header
		if got := strings.Join(h.Values("X-Order"), ","); got != "prepend,append" {
			t.Errorf("%s: X-Order %q, want the prepended filter before the appended one", tc.path, got)
		}
		if got := strings.Join(h.Values("X-Pre"), ","); got != "1,2" {
			t.Errorf("%s: X-Pre %q, want both -default-filters-prepend in order", tc.path, got)
		}
		want := tc.wantRoute
		if want == "-" {
			want = ""
		}
		if got := h.Get("X-Edited"); got != want || h.Get("X-Route") != "" {
			t.Errorf("%s: X-Edited %q and X-Route %q, want %q and none", tc.path, got, h.Get("X-Route"), want)
		}
	}
}

// TestRouteFlagsWithoutIgnoreTrailingSlash checks the default: /path/ is not Path("/path").
func TestRouteFlagsWithoutIgnoreTrailingSlash(t *testing.T) {
	backend := proxytest.NewBackend(t, nil)
	p := start(t, fmt.Sprintf(`-inline-routes=p: Path("/path") -> "http://%s"`, backend.Addr()))
	if res, _ := p.get(t, "x", "/path/"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/path/ without -ignore-trailing-slash: status %d, want 404", res.StatusCode)
	}
}

// TestRouteFlagErrors checks that bad route flags stop skipper and skipper check with a reason,
// and that skipper check applies the good ones.
func TestRouteFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-default-filters-prepend", `setPath("/x"`}, `-default-filters-prepend: "setPath(\"/x\"" is not a chain of filters`},
		{[]string{"-default-filters-append=Path(\"/x\") && Method(\"GET\")"}, "-default-filters-append: "},
		{[]string{"-edit-route", `/a/b`}, `-edit-route: "/a/b" is not /regexp/replacement/`},
		{[]string{"-clone-route", `/a/b/c/`}, `-clone-route: "/a/b/c/" is not /regexp/replacement/`},
		{[]string{"-clone-route", `/(/b/`}, "-clone-route: \"/(/b/\": error parsing regexp"},
	} {
		_, stderr, code := runBinary(t, t.TempDir(), tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.eskip"), `r: * -> status(200) -> <shunt>;`)
	stdout, stderr, code := runBinary(t, dir, "check", "-default-filters-append=noSuchFilter()", "-clone-route=/200/201/", "r.eskip")
	if code != exitError || !strings.Contains(stdout, "0 routes valid, 2 problems") || !strings.Contains(stderr, `route "clone_r"`) {
		t.Errorf("check with a default filter that does not exist: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}
