package routing

import (
	"strings"
	"testing"
)

// referenceClean is cleanPath written from httppath's documented rules, segment by segment:
// empty and "." segments go, ".." removes the segment before it, and the result ends in "/"
// when the path (longer than two bytes) does or its last segment is ".".
func referenceClean(p string) string {
	segs := strings.Split(p, "/")
	trailing := len(p) > 2 && strings.HasSuffix(p, "/") || segs[len(segs)-1] == "."
	var out []string
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "/"
	}
	c := "/" + strings.Join(out, "/")
	if trailing {
		c += "/"
	}
	return c
}

// FuzzCleanPath checks cleanPath against referenceClean, and that its result is clean.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"", "/", ".", "..", "a/", "ab/", "/a/b/.", "/a/b/..", "/a/./b/../c/",
		"//a///b", "/../", "/a/.b/..c", "/a/...", "/.", "//", "a/./", "/a/b/../."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, want := cleanPath(p), referenceClean(p)
		if got != want {
			t.Fatalf("cleanPath(%q) = %q, reference %q", p, got, want)
		}
		if !isCleanPath(got) || cleanPath(got) != got {
			t.Fatalf("cleanPath(%q) = %q, which is not clean", p, got)
		}
	})
}
