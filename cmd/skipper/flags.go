package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/internal/logging"
	"github.com/skipper-egress/skipper/internal/routesrc"
)

// Config is everything the command line says, parsed and validated, and nothing else.
type Config struct {
	Address                   string
	InlineRoutes              string
	RoutesFile                string
	SourcePollTimeout         time.Duration
	CredentialsPaths          []string
	CredentialsUpdateInterval time.Duration
	CredentialsFailOpen       bool
	ApplicationLogLevel       string
	AccessLogDisabled         bool
	CheckRoutes               bool
	Version                   bool
	Help                      bool
}

// newFlagSet binds the command-line flags to cfg. Names and defaults follow Skipper's, so that a
// Skipper command line keeps working.
func newFlagSet(cfg *Config) *pflag.FlagSet {
	fs := pflag.NewFlagSet("skipper", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVar(&cfg.Address, "address", ":9090", "network address to listen on")
	fs.StringVar(&cfg.InlineRoutes, "inline-routes", "", "routes in eskip format")
	fs.StringVar(&cfg.RoutesFile, "routes-file", "", "file with routes in eskip format")
	fs.Var(newMillis(&cfg.SourcePollTimeout, routesrc.DefaultPollInterval), "source-poll-timeout",
		"milliseconds between re-reads of -routes-file when no file change was seen")
	fs.StringSliceVar(&cfg.CredentialsPaths, "credentials-paths", nil,
		"comma-separated files or directories whose files are secrets, named by their path; repeatable")
	fs.DurationVar(&cfg.CredentialsUpdateInterval, "credentials-update-interval", 10*time.Minute,
		"how often secrets are re-read even when no file change was seen")
	fs.BoolVar(&cfg.CredentialsFailOpen, "credentials-fail-open", false,
		"forward a request whose credential is unavailable without it, as Skipper does, instead of answering 503")
	fs.StringVar(&cfg.ApplicationLogLevel, "application-log-level", "INFO",
		"log level of the application log: PANIC, FATAL, ERROR, WARN, INFO, DEBUG or TRACE")
	fs.BoolVar(&cfg.AccessLogDisabled, "access-log-disabled", false, "turn the access log off")
	fs.BoolVar(&cfg.CheckRoutes, "check-routes", false,
		"parse and compile -inline-routes and -routes-file, print the problems, exit 0 when there are none")
	fs.BoolVar(&cfg.Version, "version", false, "print the version and exit")
	fs.BoolVarP(&cfg.Help, "help", "h", false, "print this help and exit")
	return fs
}

// parseFlags parses args into a Config. The error is one line, fit to show the user as it is.
func parseFlags(args []string) (Config, *pflag.FlagSet, error) {
	var cfg Config
	fs := newFlagSet(&cfg)
	fs.Usage = func() {} // errors are reported by the caller, in one line
	if err := fs.Parse(normalizeArgs(fs, args)); err != nil {
		return cfg, fs, err
	}
	if fs.NArg() > 0 {
		return cfg, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.Help || cfg.Version {
		return cfg, fs, nil
	}
	return cfg, fs, cfg.Validate()
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Address == "" {
		errs = append(errs, errors.New("-address must not be empty"))
	}
	if c.SourcePollTimeout <= 0 {
		errs = append(errs, fmt.Errorf("-source-poll-timeout must be positive, got %d", c.SourcePollTimeout.Milliseconds()))
	}
	if c.CredentialsUpdateInterval <= 0 {
		errs = append(errs, fmt.Errorf("-credentials-update-interval must be positive, got %s", c.CredentialsUpdateInterval))
	}
	if _, err := logging.ParseLevel(c.ApplicationLogLevel); err != nil {
		errs = append(errs, fmt.Errorf("-application-log-level: %w", err))
	}
	for _, p := range c.CredentialsPaths {
		if p == "" {
			errs = append(errs, errors.New("-credentials-paths holds an empty path"))
			break
		}
	}
	return errors.Join(errs...)
}

// normalizeArgs rewrites Skipper's single-dash long flags ("-inline-routes=...", "-address :80")
// into pflag's two-dash form. pflag would read "-address" as the shorthand bundle "-a -d -d ...";
// skipper has no bundles worth keeping, so every single-dash name longer than one letter is taken
// as a long flag, which also makes pflag's error for an unknown one read "unknown flag:
// --no-such-flag". One-letter shorthands such as "-h" pass through. The value after a flag given
// without "=" is skipped, so that a value which happens to look like a flag is left alone; so is
// everything after "--".
func normalizeArgs(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			return append(out, args[i:]...)
		}
		if len(arg) < 2 || arg[0] != '-' {
			out = append(out, arg)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		if arg[1] != '-' && len(name) > 1 {
			arg = "-" + arg
		}
		out = append(out, arg)
		if f := fs.Lookup(name); f != nil && !hasValue && f.NoOptDefVal == "" && i+1 < len(args) {
			i++
			out = append(out, args[i]) // the flag's value, whatever it looks like
		}
	}
	return out
}

// millis is a pflag.Value for a duration given as a whole number of milliseconds, the unit of
// Skipper's -source-poll-timeout.
type millis struct{ d *time.Duration }

func newMillis(d *time.Duration, def time.Duration) millis {
	*d = def
	return millis{d}
}

func (m millis) String() string { return strconv.FormatInt(m.d.Milliseconds(), 10) }
func (m millis) Type() string   { return "milliseconds" }

func (m millis) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("not a whole number of milliseconds")
	}
	*m.d = time.Duration(n) * time.Millisecond
	return nil
}
