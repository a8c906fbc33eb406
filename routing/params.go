package routing

import (
	"net/http"
	"strings"
)

// Param is one path parameter of a matched route.
type Param struct {
	Name, Value string
}

// Params are the path parameters of a matched route, in the order of its path pattern:
//
//   - Path("/users/:id") on /users/42 gives id=42;
//   - Path("/files/*path") on /files/a/b gives path=/a/b (a free wildcard's value keeps its
//     leading slash, and a "*" without a name is called "*");
//   - PathSubtree("/api") on /api/v1/x gives *=/v1/x, and *=/ on /api or /api/;
//     PathSubtree("/api/*rest") names it rest instead.
//
// Values come from the cleaned, decoded path. A nil Params has no parameters.
type Params []Param

// Get returns the value of the first parameter called name, or "" if there is none.
func (ps Params) Get(name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// params returns the parameters of the cleaned path p, which the pattern matches; nil when
// the pattern has none.
func (pp *pathPattern) params(p string) Params {
	if pp.nparams == 0 {
		return nil
	}
	out := make(Params, 0, pp.nparams)
	rest, done := p[1:], false
	for _, s := range pp.segs {
		switch s.kind {
		case segEnd:
			return out
		case segSubtree, segCatchAll:
			v := "/"
			if !done {
				v = p[len(p)-len(rest)-1:] // rest with the "/" before it
			}
			return append(out, Param{s.lit, v})
		}
		seg := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			rest, done = "", true
		}
		if s.kind == segParam {
			out = append(out, Param{s.lit, seg})
		}
	}
	return out
}

// Params returns the path parameters that r yields on rt, for a request that rt matched: the
// parameters MatchParams returns with rt. It is nil when rt has none, and allocates only when
// it has some. A nil Route has none.
func (rt *Route) Params(r *http.Request) Params {
	if rt == nil || rt.m == nil || rt.m.path == nil {
		return nil
	}
	p := "/"
	if r.URL != nil {
		p = cleanPath(r.URL.Path)
	}
	return rt.m.path.params(p)
}
