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
// route compiled. Secrets are not read: a route's credentials are checked when it serves.
func checkRoutes(inline string, files []string, log *logrus.Logger, stdout, stderr io.Writer) int {
	store, err := secrets.NewStore(secrets.Options{Log: log})
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
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{Secrets: store, Tokens: tokens})...)
	if err != nil {
		fmt.Fprintf(stderr, "skipper: %v\n", err)
		return exitError
	}
	valid, problems := routesrc.Check(inline, files, reg, log)
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "%d routes valid, %d problems\n", valid, len(problems))
		return exitError
	}
	fmt.Fprintf(stdout, "%d routes valid\n", valid)
	return exitOK
}
