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
	"sync"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/logging"
	"github.com/skipper-egress/skipper/internal/metrics"
	"github.com/skipper-egress/skipper/internal/routesrc"
	"github.com/skipper-egress/skipper/internal/sdnotify"
	"github.com/skipper-egress/skipper/internal/support"
	"github.com/skipper-egress/skipper/routing"
	"github.com/skipper-egress/skipper/secrets"
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
	var checkFiles []string
	if len(args) > 0 && args[0] == "check" {
		// "skipper check FILE...", the subcommand form of -check-routes.
		checkFiles, args = args[1:], []string{"-check-routes"}
		if len(checkFiles) == 0 {
			fmt.Fprintf(stderr, "skipper: check needs at least one routes file\nUsage: skipper check FILE...\n")
			return exitUsage
		}
	}
	cfg, fs, err := parseFlags(args)
	switch {
	case errors.Is(err, pflag.ErrHelp) || (err == nil && cfg.Help):
		printUsage(stdout, fs)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "skipper: %s\nRun 'skipper -help' for usage.\n", oneLine(err))
		return exitUsage
	case cfg.Version:
		fmt.Fprintf(stdout, "skipper %s\n", buildVersion())
		return exitOK
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
		return checkRoutes(cfg.InlineRoutes, checkFiles, log, stdout, stderr)
	}
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	if err := serve(stop, cfg, log, stderr); err != nil {
		// Plain text rather than a log line: these errors quote route text, which a log
		// formatter would escape beyond recognition.
		fmt.Fprintf(stderr, "skipper: %v\n", err)
		return exitError
	}
	return exitOK
}

// serve wires the components together and runs them until a signal on stop.
func serve(stop <-chan os.Signal, cfg Config, log *logrus.Logger, accessOut io.Writer) error {
	store, err := secrets.NewStore(secrets.Options{
		Paths:          cfg.CredentialsPaths,
		UpdateInterval: cfg.CredentialsUpdateInterval,
		Log:            log,
	})
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	tokens, err := filters.NewTokenManager(filters.TokenManagerOptions{Secrets: store, Log: log})
	if err != nil {
		return err
	}
	registry, err := filters.NewRegistry(filters.Builtins(store, tokens)...)
	if err != nil {
		return err
	}
	m := metrics.New()
	if err := m.RegisterSecrets(store); err != nil {
		return err
	}
	var state support.State
	router := routing.NewRouter()
	routes, err := routesrc.New(routesrc.Options{
		Inline:       cfg.InlineRoutes,
		File:         cfg.RoutesFile,
		PollInterval: cfg.SourcePollTimeout,
		Filters:      registry,
		Router:       router,
		Log:          log,
		Report:       func(r routesrc.Result) { routesLoaded(r, m, &state, store, log) },
	})
	if err != nil {
		return err
	}
	transport, err := newTransport(cfg)
	if err != nil {
		return err
	}
	certs, err := newCerts(cfg, log)
	if err != nil {
		return err
	}
	handler := newProxy(cfg, router, transport, m, log, accessOut)
	server := newServer(cfg, handler, log)
	ln, err := listen(cfg, handler, certs)
	if err != nil {
		return err
	}
	supportLn, err := listenSupport(cfg, m, router, &state, log)
	if err != nil {
		ln.Close()
		return err
	}
	onDrain := func() {
		state.SetDraining()
		notify(log, sdnotify.Stopping)
	}

	runCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() {
		if err := store.Run(runCtx); err != nil {
			log.WithError(err).Error("credentials watcher stopped")
		}
	})
	wg.Go(func() {
		if err := tokens.Run(runCtx); err != nil {
			log.WithError(err).Error("OAuth2 token manager stopped")
		}
	})
	wg.Go(func() { routes.Run(runCtx) })    //nolint:errcheck // returns nil when runCtx is done
	wg.Go(func() { transport.Run(runCtx) }) //nolint:errcheck // returns nil when runCtx is done
	if supportLn != nil {
		wg.Go(func() { serveSupport(runCtx, supportLn, log) })
	}
	reload := func() {
		notify(log, sdnotify.Reloading)
		routes.Reload()
		store.Refresh()
		if certs != nil {
			certs.Reload() //nolint:errcheck // Reload logs what failed
		}
		notify(log, sdnotify.Ready)
	}
	if certs != nil {
		wg.Go(func() { certs.Run(runCtx) }) //nolint:errcheck // returns nil when runCtx is done
	}
	// Registered before skipper says it listens, so that an early SIGHUP reloads instead of
	// killing it, SIGHUP's default.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Go(func() { reloadOnHangup(runCtx, hup, reload, log) })

	// Logged once everything is in place: tests and supervisors take this line as readiness.
	log.Infof("Listening on %s", ln.Addr())
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(ln) }()
	notify(log, sdnotify.Ready)
	select {
	case err := <-serveErr:
		return err
	case sig := <-stop:
		return stopper{server: server, wait: cfg.WaitForHealthcheckInterval, onDrain: onDrain, log: log}.stop(sig, stop)
	}
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

func printUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "Usage: skipper [flags]\n\nAn egress proxy that adds credentials to outgoing API calls.\n"+
		"Flags take one dash or two (-address :9090, --address=:9090).\n\n%s", fs.FlagUsages())
}

// oneLine joins a multi-line error, such as Validate's, into one line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
