// Command skipper is an egress proxy: services send their API calls through it, and it adds the
// credentials on the way out.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/internal/logging"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the proxy could not start or failed while running
	exitUsage = 2 // the command line is wrong
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is main without the process: it returns the exit code, so tests can call it.
func run(args []string, stdout, stderr io.Writer) int {
	cmd, args := splitCommand(args)
	switch cmd {
	case "ca":
		return caCommand(args, stdout, stderr)
	case "help":
		return helpCommand(args, stdout, stderr)
	}
	// "skipper check FILE..." is -check-routes with the files as positional arguments.
	cfg, fs, err := parseCommandLine(args, cmd == "check")
	switch {
	case errors.Is(err, pflag.ErrHelp) || (err == nil && cfg.Help):
		printUsage(stdout, cmd, fs)
		return exitOK
	case err != nil:
		return usageError(stderr, cmd, oneLine(err))
	case cfg.Version:
		fmt.Fprintf(stdout, "skipper %s\n", buildVersion())
		return exitOK
	}
	checkFiles := fs.Args()
	if cmd == "check" && len(checkFiles) == 0 && cfg.InlineRoutes == "" && cfg.RoutesFile == "" {
		return usageError(stderr, cmd, "check needs at least one routes FILE (or -inline-routes, -routes-file)")
	}

	log, err := logging.New(logging.Options{Out: stderr, Level: cfg.ApplicationLogLevel, JSON: cfg.ApplicationLogJSON})
	if err != nil { // Validate has checked the level; this is for completeness
		fmt.Fprintf(stderr, "skipper: %s\n", err)
		return exitUsage
	}
	if cfg.CheckRoutes {
		if cfg.RoutesFile != "" {
			checkFiles = append(checkFiles, cfg.RoutesFile)
		}
		return checkRoutes(cfg, checkFiles, log, stdout, stderr)
	}
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	err = func() error {
		a, err := newApp(cfg, log, stdout, stderr)
		if err != nil {
			return err
		}
		return a.run(stop)
	}()
	if err != nil {
		// Plain text rather than a log line: these errors quote route text, which a log
		// formatter would escape beyond recognition.
		fmt.Fprintf(stderr, "skipper: %v\n", err)
		return exitError
	}
	return exitOK
}

// reloadOnHangup calls reload on every SIGHUP until ctx is done: the routes file, the
// credentials and the TLS certificates are re-read.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, reload func(), log logrus.FieldLogger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			log.Info("SIGHUP: reloading routes and credentials")
			reload()
		}
	}
}

// oneLine joins a multi-line error, such as Validate's, into one line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// buildVersion is what -version prints: the version given with -ldflags "-X main.version=...",
// else the module's (go install ...@v1.2.3), else "(devel)"; then the VCS revision the go
// command stamped, as it does for a plain "go build" in a git checkout, with "modified" when
// the checkout had changes not committed.
func buildVersion() string {
	info, _ := debug.ReadBuildInfo()
	return formatVersion(version, info)
}

// formatVersion is buildVersion with the -ldflags version and the build info (nil: none) given.
func formatVersion(ldflagsVersion string, info *debug.BuildInfo) string {
	v := ldflagsVersion
	if v == "" && info != nil {
		v = info.Main.Version
	}
	if v == "" {
		v = "(devel)"
	}
	if info == nil {
		return v
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision != "" {
		v += ", revision " + revision
		if modified == "true" {
			v += ", modified"
		}
	}
	return v
}
