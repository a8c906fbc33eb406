package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/internal/routesrc"
	"github.com/skipper-egress/skipper/routing"
)

// addRouteFlags binds Skipper's flags that change every route before it is compiled.
func addRouteFlags(fs *pflag.FlagSet, cfg *Config) {
	// StringArray, not StringSlice: a filter chain holds commas.
	fs.StringArrayVar(&cfg.DefaultFiltersPrepend, "default-filters-prepend", nil,
		"filters put before the filters of every route, as eskip (f(1) -> g(\"x\")); repeatable")
	fs.StringArrayVar(&cfg.DefaultFiltersAppend, "default-filters-append", nil,
		"filters put after the filters of every route, as eskip; repeatable")
	fs.StringVar(&cfg.EditRoute, "edit-route", "",
		"/regexp/replacement/ applied to the eskip text of each predicate and filter of every route")
	fs.StringVar(&cfg.CloneRoute, "clone-route", "",
		"/regexp/replacement/ as -edit-route, applied to a copy of every route, added as clone_ID when it changed")
	fs.BoolVar(&cfg.IgnoreTrailingSlash, "ignore-trailing-slash", false,
		"a path that no Path or PathSubtree route matches is tried again with its trailing / added or removed")
}

// routeChanges turns the route flags into what the routes loader applies, with an error for
// each flag it cannot use.
func (c Config) routeChanges() (*routesrc.Changes, []error) {
	ch := routesrc.Changes{IgnoreTrailingSlash: c.IgnoreTrailingSlash}
	var errs []error
	for _, f := range []struct {
		name   string
		values []string
		to     *[]routing.Call
	}{
		{"default-filters-prepend", c.DefaultFiltersPrepend, &ch.Prepend},
		{"default-filters-append", c.DefaultFiltersAppend, &ch.Append},
	} {
		for _, v := range f.values {
			calls, err := routesrc.ParseFilters("-"+f.name, v)
			if err != nil {
				errs = append(errs, fmt.Errorf("-%s: %w", f.name, err))
			}
			*f.to = append(*f.to, calls...)
		}
	}
	for _, f := range []struct {
		name, value string
		to          **routesrc.Rewrite
	}{
		{"clone-route", c.CloneRoute, &ch.Clone},
		{"edit-route", c.EditRoute, &ch.Edit},
	} {
		if f.value == "" {
			continue
		}
		rw, err := routesrc.ParseRewrite(f.value)
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s: %w", f.name, err))
		}
		*f.to = rw
	}
	return &ch, errs
}
