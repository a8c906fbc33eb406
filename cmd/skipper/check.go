package main

import (
	"fmt"
	"io"

	"github.com/sirupsen/logrus"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/routesrc"
	"github.com/skipper-egress/skipper/secrets"
)

// checkRoutes parses and compiles routes without serving them, for CI pipelines: every problem
// goes to stderr as file:line:col, a summary to stdout, and the exit code is 0 only when every
// route compiled. The routes are changed as the route flags say (-default-filters-prepend,
// -edit-route, ...). Secrets are not read: a route's credentials are checked when it serves.
// With credentials paths, a secret outside all of them is warned about, as a running skipper does;
// without, check cannot know where the secrets will be and says nothing of them.
func checkRoutes(cfg Config, files []string, log *logrus.Logger, stdout, stderr io.Writer) int {
	credentialsPaths := cfg.CredentialsPaths
	store, err := secrets.NewStore(secrets.Options{Paths: credentialsPaths, Log: log})
	if err != nil {
		fmt.Fprintf(stderr, "skipper: %v\n", err)
		return exitError
	}
	// A token manager that never runs: Create checks arguments and fetches nothing.
	tokens, err := filters.NewTokenManager(filters.TokenManagerOptions{Secrets: store, Log: log})
	if err != nil {
		fmt.Fprintf(stderr, "skipper: %v\n", err)
		return exitError
	}
	bindings, err := newBindings(cfg, store, len(credentialsPaths) > 0)
	if err != nil {
		fmt.Fprintf(stderr, "skipper: %v\n", err)
		return exitError
	}
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{Secrets: store, Tokens: tokens, Bindings: bindings})...)
	if err != nil {
		fmt.Fprintf(stderr, "skipper: %v\n", err)
		return exitError
	}
	changes, _ := cfg.routeChanges() // Validate has checked them
	changes.Bindings = bindings
	table, problems := routesrc.Check(cfg.InlineRoutes, files, changes, reg, log)
	if len(credentialsPaths) > 0 {
		warnUncoveredSecrets(table, store, log)
	}
	valid := table.Len()
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "%s valid, %s\n", count(valid, "route"), count(len(problems), "problem"))
		return exitError
	}
	fmt.Fprintf(stdout, "%s valid\n", count(valid, "route"))
	return exitOK
}

// count returns n and noun, in the plural unless n is 1: "1 route", "0 routes".
func count(n int, noun string) string {
	if n != 1 {
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}
