package routesrc

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/routing"
)

// Changes are what Skipper's -default-filters-prepend, -default-filters-append, -clone-route
// and -edit-route do to every route, from every source, before it is compiled. They apply in
// that order, as Skipper's route pre-processors: a clone carries the default filters, and an
// edit applies to clones too.
type Changes struct {
	// Prepend and Append are filters put before and after each route's own.
	Prepend, Append []routing.Call
	// Clone, if set, adds a copy of each route it changes, with the id prefixed "clone_".
	Clone *Rewrite
	// Edit, if set, changes each route in place.
	Edit *Rewrite
	// IgnoreTrailingSlash is passed on to routing.Compile: not a change of the routes but of
	// how they match, kept here so that Check compiles as the Loader does.
	IgnoreTrailingSlash bool
	// Bindings are passed on to routing.Compile, for the same reason: where secrets may go
	// (-credentials-bind), which leaves out the routes that would send one elsewhere.
	Bindings filters.DestinationPolicy
}

// compileOptions returns the options routing.Compile takes from c, which may be nil.
func (c *Changes) compileOptions(reg *filters.Registry, log logrus.FieldLogger) routing.CompileOptions {
	if c == nil {
		return routing.CompileOptions{Filters: reg, Log: log, TeeKey: filters.TeeLoopbackKey}
	}
	return routing.CompileOptions{Filters: reg, Log: log, IgnoreTrailingSlash: c.IgnoreTrailingSlash,
		TeeKey: filters.TeeLoopbackKey, Bindings: c.Bindings}
}

// Rewrite is a regexp replacement applied to each predicate and filter of a route, written as
// eskip; the result is parsed back. As in Skipper, a predicate or filter whose rewrite does
// not parse is kept as it was (and logged), and one rewritten into several keeps the first.
type Rewrite struct {
	re   *regexp.Regexp
	repl string
}

// ParseRewrite reads Skipper's "/regexp/replacement/" form of -edit-route and -clone-route:
// neither part can hold a "/". The replacement may refer to submatches ($1).
func ParseRewrite(s string) (*Rewrite, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 || parts[0] != "" || parts[3] != "" {
		return nil, fmt.Errorf("%q is not /regexp/replacement/ (neither part may hold a /)", s)
	}
	re, err := regexp.Compile(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	return &Rewrite{re: re, repl: parts[2]}, nil
}

// ParseFilters reads a filter chain as Skipper's -default-filters-* take it: `f(1) -> g("x")`.
// An empty or blank chain holds no filter.
func ParseFilters(name, s string) ([]routing.Call, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	defs, err := routing.Parse(name, "* -> "+s+" -> <shunt>")
	if err != nil || len(defs) != 1 {
		return nil, fmt.Errorf("%q is not a chain of filters such as f(1) -> g(\"x\")", s)
	}
	return defs[0].Filters, nil
}

// apply returns defs changed, without changing defs or the routes in it.
func (c *Changes) apply(defs []*routing.RouteDef, log logrus.FieldLogger) []*routing.RouteDef {
	if c == nil || len(c.Prepend)+len(c.Append) == 0 && c.Clone == nil && c.Edit == nil {
		return defs
	}
	if log == nil {
		nop := logrus.New()
		nop.SetOutput(io.Discard)
		log = nop
	}
	out := make([]*routing.RouteDef, 0, len(defs))
	for _, d := range defs {
		cp := *d
		cp.Predicates = slices.Clone(d.Predicates)
		cp.Filters = slices.Concat(c.Prepend, d.Filters, c.Append)
		out = append(out, &cp)
	}
	if c.Clone != nil {
		for _, d := range out[:len(out):len(out)] {
			cp := *d
			cp.ID = "clone_" + d.ID
			cp.Predicates, cp.Filters = slices.Clone(d.Predicates), slices.Clone(d.Filters)
			if c.Clone.do(&cp, log) {
				out = append(out, &cp)
			}
		}
	}
	if c.Edit != nil {
		for _, d := range out {
			c.Edit.do(d, log)
		}
	}
	return out
}

// do rewrites d's predicates and filters in place and reports whether one changed.
func (rw *Rewrite) do(d *routing.RouteDef, log logrus.FieldLogger) bool {
	changed := false
	for i, p := range d.Predicates {
		if q, ok := rw.call(p, false, log); ok {
			d.Predicates[i], changed = q, true
		}
	}
	for i, f := range d.Filters {
		if q, ok := rw.call(f, true, log); ok {
			d.Filters[i], changed = q, true
		}
	}
	return changed
}

// call rewrites one predicate, or filter, and reports whether it changed.
func (rw *Rewrite) call(c routing.Call, filter bool, log logrus.FieldLogger) (routing.Call, bool) {
	before := c.String()
	after := rw.re.ReplaceAllString(before, rw.repl)
	if after == before {
		return c, false
	}
	src := after + " -> <shunt>"
	if filter {
		src = "* -> " + src
	}
	defs, err := routing.Parse("route rewrite", src)
	switch {
	case err != nil:
	case len(defs) != 1:
		err = errors.New("not one route")
	case filter && len(defs[0].Filters) > 0:
		return defs[0].Filters[0], true
	case !filter && len(defs[0].Predicates) > 0:
		return defs[0].Predicates[0], true
	default:
		err = errors.New("no predicate or filter")
	}
	log.Errorf("Route rewrite of %s into %s left out: %v", before, after, err)
	return c, false
}
