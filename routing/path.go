package routing

import (
	"errors"
	"path"
	"strings"
)

// segKind is the kind of one element of a path pattern. The order is the matching precedence
// at one position: a static segment beats a :param, which beats a *rest. The terminal kinds
// segEnd (the path ends here, from Path) and segSubtree (anything or nothing may follow, from
// PathSubtree) come last, so an exact Path beats a PathSubtree and a longer subtree beats a
// shorter one.
type segKind uint8

const (
	segStatic segKind = iota
	segParam
	segCatchAll
	segEnd
	segSubtree
)

// pathSeg is one element of a path pattern.
type pathSeg struct {
	kind segKind
	lit  string // the text of a static segment; the name of a :param or *rest
}

// pathPattern is a compiled Path or PathSubtree predicate: the route's path cleaned and cut
// into segments, ending in segEnd, segCatchAll or segSubtree.
type pathPattern struct {
	segs    []pathSeg
	subtree bool
	clean   string // the cleaned path as given, for dumps
	nparams int    // the number of path parameters a match yields
}

var (
	errWildcardNotLast = errors.New(`a "*" wildcard must be the last path segment`)
	errWildcardInside  = errors.New(`":" or "*" inside a path segment`)
)

// compilePath compiles the argument of Path (subtree false) or PathSubtree (subtree true).
// Dot segments and "//" are resolved as for requests. In a subtree a trailing "/" and a final
// "*name" are dropped: PathSubtree("/a/"), PathSubtree("/a/*rest") and PathSubtree("/a") match
// the same requests.
func compilePath(p string, subtree bool) (*pathPattern, error) {
	clean := cleanPath(p)
	parts := strings.Split(clean[1:], "/")
	subtreeName := anonymousWildcard
	if subtree {
		if last := parts[len(parts)-1]; strings.HasPrefix(last, "*") {
			parts = parts[:len(parts)-1]
			subtreeName = wildcardName(last[1:])
		}
		if n := len(parts); n > 0 && parts[n-1] == "" {
			parts = parts[:n-1]
		}
	}
	pp := &pathPattern{subtree: subtree, clean: clean, segs: make([]pathSeg, 0, len(parts)+1)}
	for i, s := range parts {
		switch {
		case strings.HasPrefix(s, ":"):
			pp.segs = append(pp.segs, pathSeg{kind: segParam, lit: s[1:]})
			pp.nparams++
		case strings.HasPrefix(s, "*"):
			if i != len(parts)-1 || subtree {
				return nil, errWildcardNotLast
			}
			pp.segs = append(pp.segs, pathSeg{kind: segCatchAll, lit: wildcardName(s[1:])})
			pp.nparams++
			return pp, nil
		case strings.ContainsAny(s, ":*"):
			return nil, errWildcardInside
		default:
			pp.segs = append(pp.segs, pathSeg{kind: segStatic, lit: s})
		}
	}
	if subtree {
		pp.segs = append(pp.segs, pathSeg{kind: segSubtree, lit: subtreeName})
		pp.nparams++
	} else {
		pp.segs = append(pp.segs, pathSeg{kind: segEnd})
	}
	return pp, nil
}

// anonymousWildcard names the rest of the path under a PathSubtree, or under a "*" wildcard
// without a name, among the path parameters, as in Skipper.
const anonymousWildcard = "*"

func wildcardName(name string) string {
	if name == "" {
		return anonymousWildcard
	}
	return name
}

// match reports whether the cleaned request path p matches. A :param needs a non-empty
// segment; a *rest needs a non-empty remainder ("/a/*r" matches "/a/b", not "/a/" or "/a").
func (pp *pathPattern) match(p string) bool {
	rest := p[1:] // the unconsumed path after a "/"
	done := false // all segments consumed
	for _, s := range pp.segs {
		switch s.kind {
		case segEnd:
			return done
		case segSubtree:
			return true
		case segCatchAll:
			return !done && rest != ""
		}
		if done {
			return false
		}
		seg := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			rest, done = "", true
		}
		if s.kind == segStatic && seg != s.lit || s.kind == segParam && seg == "" {
			return false
		}
	}
	return false
}

// comparePaths orders two patterns by precedence: negative when a is tried before b. For two
// patterns that both match some request path this is the order of a tree search that tries
// static, then :param, then *rest children and backtracks; patterns that never match the
// same path are ordered arbitrarily but consistently.
func comparePaths(a, b *pathPattern) int {
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		sa, sb := a.segs[i], b.segs[i]
		if sa.kind != sb.kind {
			return int(sa.kind) - int(sb.kind)
		}
		if sa.kind == segStatic {
			if c := strings.Compare(sa.lit, sb.lit); c != 0 {
				return c
			}
		}
	}
	return len(a.segs) - len(b.segs)
}

// String describes the pattern for dumps: "exact /a/:b", "subtree /a".
func (pp *pathPattern) String() string {
	if pp.subtree {
		return "subtree " + pp.clean
	}
	return "exact " + pp.clean
}

// cleanPath resolves dot segments and repeated slashes and makes the path start with "/", as
// Skipper does (dimfeld/httppath's Clean): a trailing slash is kept, and a final "." segment
// leaves one, so /a/b/. is /a/b/ (but /a/b/.. is /a). A path of two bytes or fewer ending in
// "/" (such as "a/") gets none. An already clean path is returned as it is, without allocating.
func cleanPath(p string) string {
	if isCleanPath(p) {
		return p
	}
	trailing := len(p) > 2 && p[len(p)-1] == '/' || p == "." || strings.HasSuffix(p, "/.")
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	c := path.Clean(p)
	if trailing && c != "/" {
		c += "/"
	}
	return c
}

// isCleanPath reports whether p starts with "/" and has no empty segment except a final one,
// and no "." or ".." segment.
func isCleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		seg := p[start:i]
		if seg == "." || seg == ".." || seg == "" && i < len(p) {
			return false
		}
		start = i + 1
	}
	return true
}
