package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/h1"
	"github.com/skipper-egress/skipper/internal/logging"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/internal/routesrc"
	"github.com/skipper-egress/skipper/routing"
)

// Config is everything the command line says, parsed and validated, and nothing else.
type Config struct {
	ConfigFile                string
	Address                   string
	InlineRoutes              string
	RoutesFile                string
	RoutesURLs                []string
	ForwardBackendURL         string
	SourcePollTimeout         time.Duration
	DefaultFiltersPrepend     []string
	DefaultFiltersAppend      []string
	EditRoute, CloneRoute     string
	IgnoreTrailingSlash       bool
	CredentialsPaths          []string
	CredentialsUpdateInterval time.Duration
	CredentialsFailOpen       bool
	SigV4MaxBodyBytes         int64
	OAuth2StateDir            string
	CredentialsBind           []string
	CredentialsRequireBinding bool
	ApplicationLogLevel       string
	ApplicationLogJSON        bool
	AccessLogDisabled         bool
	AccessLogJSON             bool
	AuditLog                  string
	MaskEchoedCredentials     bool
	SupportListener           string
	EnableProfile             bool

	// The metrics.
	MetricsFlavour          []string
	EnablePrometheusMetrics bool // accepted for Skipper's command lines; the metrics are Prometheus'
	HistogramMetricBuckets  string
	ServeRouteMetrics       bool
	ServeRouteCounter       bool
	ServeHostMetrics        bool
	ServeHostCounter        bool
	ServeMethodMetric       bool
	ServeStatusCodeMetric   bool
	DebugListener           string
	OpenTelemetry           *string // -open-telemetry as given; nil: not given, no tracing
	CheckRoutes             bool
	Version                 bool
	Help                    bool

	// The listener.
	TLSCert, TLSKey            []string
	ReadTimeoutServer          time.Duration
	ReadHeaderTimeoutServer    time.Duration
	WriteTimeoutServer         time.Duration
	IdleTimeoutServer          time.Duration
	MaxHeaderBytes             int
	WaitForHealthcheckInterval time.Duration
	MaxTCPListenerConcurrency  int  // 0: derived from the file limit
	MaxTCPListenerQueue        int  // 0: derived from the concurrency
	EnableTCPQueue             bool // accepted for Skipper's command lines; the limit is always on

	// The requests.
	ProxyPreserveHost bool
	NormalizeHost     bool
	DefaultHTTPStatus int
	MaxLoopbacks      int
	RemoveHopHeaders  bool // accepted for Skipper's command lines; hop-by-hop headers always go

	// ForwardedHeaders and ForwardedHeadersExcludeCIDRs are the entries as given; see
	// forwardedHeaders.
	ForwardedHeaders             []string
	ForwardedHeadersExcludeCIDRs []string

	// The backends.
	BackendCAFile                string
	ClientTLSCert, ClientTLSKey  []string
	ClientTLSCertRefresh         time.Duration
	TimeoutBackend               time.Duration
	ResponseHeaderTimeoutBackend time.Duration
	TLSTimeoutBackend            time.Duration
	ExpectContinueTimeoutBackend time.Duration
	MaxResponseHeaderBytes       int64
	MaxIdleConnsBackend          int
	IdleConnsNum                 int
	CloseIdleConnsPeriod         time.Duration

	// The forward proxy.
	CACert, CAKey     string
	ForwardAllowCIDRs []string
	TunnelIdleTimeout time.Duration
	TunnelMaxLifetime time.Duration
	MaxTunnels        int
	ForwardProxyAuth  string
	ForwardReportOnly bool

	// Rate limits and circuit breakers.
	SwarmRedisURLs             []string
	ClusterRatelimitFailClosed bool
	EnableRatelimits           bool // accepted for Skipper's command lines; the filters always work
	EnableBreakers             bool // accepted for Skipper's command lines; the filters always work
	Breakers                   []breakerFlag
}

// newFlagSet binds the command-line flags to cfg. Names and defaults follow Skipper's, so that a
// Skipper command line keeps working.
func newFlagSet(cfg *Config) *pflag.FlagSet {
	fs := pflag.NewFlagSet("skipper", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVar(&cfg.ConfigFile, configFileFlag, "",
		"YAML file of flag values, keyed by flag name (Skipper's format); a flag given on the command line wins")
	fs.StringVar(&cfg.Address, "address", ":9090", "network address to listen on")
	fs.StringVar(&cfg.InlineRoutes, "inline-routes", "", "routes in eskip format")
	fs.StringVar(&cfg.RoutesFile, "routes-file", "", "file with routes in eskip format")
	fs.StringSliceVar(&cfg.RoutesURLs, "routes-urls", nil,
		"comma-separated http(s) URLs of routes in eskip format, fetched at start, every -source-poll-timeout and on SIGHUP")
	fs.StringVar(&cfg.ForwardBackendURL, "forward-backend-url", "",
		"where the routes with the <forward> backend send their requests, without their filters")
	fs.Var(newMillis(&cfg.SourcePollTimeout, routesrc.DefaultPollInterval), "source-poll-timeout",
		"milliseconds between re-reads of -routes-file when no file change was seen, and between fetches of -routes-urls")
	fs.StringSliceVar(&cfg.CredentialsPaths, "credentials-paths", nil,
		"comma-separated files or directories whose files are secrets, named by their path; repeatable")
	fs.DurationVar(&cfg.CredentialsUpdateInterval, "credentials-update-interval", 10*time.Minute,
		"how often secrets are re-read even when no file change was seen")
	fs.BoolVar(&cfg.CredentialsFailOpen, "credentials-fail-open", false,
		"forward a request whose credential is unavailable without it, as Skipper does, instead of answering 503")
	fs.Int64Var(&cfg.SigV4MaxBodyBytes, "sigv4-max-body-bytes", filters.DefaultSigV4MaxBodyBytes,
		"largest request body the SigV4 filters hash into the signature, buffered in memory; "+
			"a larger one is sent UNSIGNED-PAYLOAD to s3 and answered 413 for other services")
	fs.StringVar(&cfg.OAuth2StateDir, "oauth2-state-dir", "",
		"directory where oauth2RefreshToken keeps refresh tokens the server rotated, so that a restart resumes with them")
	fs.StringVar(&cfg.ApplicationLogLevel, "application-log-level", "INFO",
		"log level of the application log: PANIC, FATAL, ERROR, WARN, INFO, DEBUG or TRACE")
	fs.BoolVar(&cfg.ApplicationLogJSON, "application-log-json-enabled", false, "write the application log as JSON")
	fs.BoolVar(&cfg.AccessLogDisabled, "access-log-disabled", false, "turn the access log off, except on routes with enableAccessLog")
	fs.BoolVar(&cfg.AccessLogJSON, "access-log-json-enabled", false, "write the access log as JSON")
	fs.BoolVar(&cfg.MaskEchoedCredentials, "mask-echoed-credentials", false,
		"replace the credentials a request carried with '*' where the backend's response echoes them")
	fs.StringVar(&cfg.AuditLog, "audit-log", "",
		"write one JSON line per credential use and forward-proxy decision to stderr, stdout or a file (reopened on SIGHUP)")
	fs.StringVar(&cfg.SupportListener, "support-listener", ":9911",
		"address of the listener for /metrics, /healthz, /ready and /routes; empty turns it off")
	addBindingFlags(fs, cfg)
	addRouteFlags(fs, cfg)
	addProfileFlags(fs, cfg)
	addMetricsFlags(fs, cfg)
	addTracingFlags(fs, cfg)
	addServerFlags(fs, cfg)
	addListenerFlags(fs, cfg)
	addBackendFlags(fs, cfg)
	addForwardFlags(fs, cfg)
	addLimitFlags(fs, cfg)
	addUnsupportedFlags(fs)
	fs.BoolVar(&cfg.CheckRoutes, "check-routes", false,
		"parse and compile -inline-routes and -routes-file, print the problems, exit 0 when there are none")
	fs.BoolVar(&cfg.Version, "version", false, "print the version and exit")
	fs.BoolVarP(&cfg.Help, "help", "h", false, "print this help and exit")
	return fs
}

// addServerFlags binds the flags of the listener and of request handling. Where Skipper's default
// would cut a long stream or upload, the default is none, as a sidecar wants.
func addServerFlags(fs *pflag.FlagSet, cfg *Config) {
	fs.StringSliceVar(&cfg.TLSCert, "tls-cert", nil,
		"comma-separated PEM certificate files; with -tls-key, serve HTTPS with HTTP/2 (files re-read when they change and on SIGHUP)")
	fs.StringSliceVar(&cfg.TLSKey, "tls-key", nil, "comma-separated PEM key files, one for each -tls-cert, in the same order")
	fs.DurationVar(&cfg.ReadTimeoutServer, "read-timeout-server", 0,
		"limit on reading a whole request, body included; 0 for none (Skipper's 5m would cut long uploads and streams)")
	fs.DurationVar(&cfg.ReadHeaderTimeoutServer, "read-header-timeout-server", time.Minute,
		"limit on reading a request's header, and on a client's TLS handshake")
	fs.DurationVar(&cfg.WriteTimeoutServer, "write-timeout-server", 0,
		"limit on writing a whole response; 0 for none (Skipper's 60s would cut server-sent events and downloads)")
	fs.DurationVar(&cfg.IdleTimeoutServer, "idle-timeout-server", time.Minute, "how long an idle keep-alive client connection stays open")
	fs.IntVar(&cfg.MaxHeaderBytes, "max-header-bytes", http.DefaultMaxHeaderBytes, "largest request header accepted, in bytes")
	fs.DurationVar(&cfg.WaitForHealthcheckInterval, "wait-for-healthcheck-interval", 0,
		"after SIGTERM, keep serving this long with /ready failing before shutting down; Skipper's 45s suits load balancers, a sidecar needs none")
	fs.BoolVar(&cfg.ProxyPreserveHost, "proxy-preserve-host", false, "send the client's Host to the backend instead of the backend's own")
	fs.BoolVar(&cfg.NormalizeHost, "normalize-host", false, "lower-case the Host and drop its port and a trailing dot before matching routes")
	fs.IntVar(&cfg.DefaultHTTPStatus, "default-http-status", http.StatusNotFound, "status of a request that no route matches")
	fs.IntVar(&cfg.MaxLoopbacks, "max-loopbacks", 9, "how often one request may pass through <loopback> routes before it fails with 500")
	fs.BoolVar(&cfg.RemoveHopHeaders, "remove-hop-headers", false,
		"accepted for compatibility: hop-by-hop headers are always removed (RFC 9110 §7.6.1)")
	fs.StringSliceVar(&cfg.ForwardedHeaders, "forwarded-headers", nil,
		"comma-separated headers to set on each request before routing, none by default: X-Forwarded-For (appends the client IP), "+
			"X-Forwarded-Host, X-Forwarded-Method, X-Forwarded-Uri, X-Forwarded-Port=<port|auto>, X-Forwarded-Proto=<http|https|auto>")
	fs.StringSliceVar(&cfg.ForwardedHeadersExcludeCIDRs, "forwarded-headers-exclude-cidrs", nil,
		"comma-separated CIDRs of clients whose requests get none of the -forwarded-headers")
}

// addBackendFlags binds the flags of the connections to backends, with Skipper's names and
// defaults.
func addBackendFlags(fs *pflag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.BackendCAFile, "backend-ca-file", "",
		"PEM file of CA certificates trusted for https backends, in addition to the system's")
	fs.StringSliceVar(&cfg.ClientTLSCert, "client-tls-cert", nil,
		"comma-separated PEM certificate files presented to https backends (mutual TLS); re-read when they change")
	fs.StringSliceVar(&cfg.ClientTLSKey, "client-tls-key", nil, "comma-separated PEM key files, one for each -client-tls-cert, in the same order")
	fs.DurationVar(&cfg.ClientTLSCertRefresh, "client-tls-cert-refresh-interval", 10*time.Minute,
		"how often the -client-tls-cert files are re-read even when no file event says they changed")
	fs.DurationVar(&cfg.TimeoutBackend, "timeout-backend", time.Minute, "limit on connecting to a backend")
	fs.DurationVar(&cfg.ResponseHeaderTimeoutBackend, "response-header-timeout-backend", time.Minute,
		"limit on waiting for a backend's response header (504 when it passes); a streaming body is not limited")
	fs.DurationVar(&cfg.TLSTimeoutBackend, "tls-timeout-backend", time.Minute, "limit on the TLS handshake with a backend")
	fs.DurationVar(&cfg.ExpectContinueTimeoutBackend, "expect-continue-timeout-backend", time.Second,
		"how long a request with \"Expect: 100-continue\" waits for the backend's go-ahead before sending its body")
	fs.Int64Var(&cfg.MaxResponseHeaderBytes, "max-response-header-bytes", h1.DefaultMaxResponseHeaderBytes,
		"largest backend response head, interim responses included; a backend sending more gets its client a 502")
	fs.IntVar(&cfg.MaxIdleConnsBackend, "max-idle-connection-backend", 0, "idle connections kept to all backends together; 0 for no limit")
	fs.IntVar(&cfg.IdleConnsNum, "idle-conns-num", 64, "idle connections kept to each backend")
	fs.Var(newSeconds(&cfg.CloseIdleConnsPeriod, 20*time.Second), "close-idle-conns-period",
		"how often idle backend connections are closed, as a duration or whole seconds; 0 for never")
}

// parseFlags parses args into a Config. The error is one line, fit to show the user as it is.
func parseFlags(args []string) (Config, *pflag.FlagSet, error) { return parseCommandLine(args, false) }

// parseCommandLine is parseFlags for skipper (check false) or for "skipper check": then
// -check-routes is set, and the positional arguments, the files to check, are left in the flag
// set.
func parseCommandLine(args []string, check bool) (Config, *pflag.FlagSet, error) {
	var cfg Config
	fs := newFlagSet(&cfg)
	fs.Usage = func() {} // errors are reported by the caller, in one line
	if err := fs.Parse(normalizeArgs(fs, args)); err != nil {
		return cfg, fs, err
	}
	if cfg.ConfigFile != "" {
		if err := applyConfigFile(fs, cfg.ConfigFile); err != nil {
			return cfg, fs, err
		}
	}
	if err := unsupportedError(fs); err != nil {
		return cfg, fs, err
	}
	cfg.CheckRoutes = cfg.CheckRoutes || check
	if fs.NArg() > 0 && !check {
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
	if c.ForwardBackendURL != "" {
		if _, _, err := routing.ParseBackendURL(c.ForwardBackendURL); err != nil {
			errs = append(errs, fmt.Errorf("-forward-backend-url: %w", err))
		}
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
	for i, u := range c.RoutesURLs {
		if _, err := routesrc.ParseRoutesURL(u); err != nil {
			// Not quoted: a URL may hold credentials.
			errs = append(errs, fmt.Errorf("-routes-urls: entry %d is %w", i+1, err))
		}
	}
	for _, p := range c.CredentialsPaths {
		if p == "" {
			errs = append(errs, errors.New("-credentials-paths holds an empty path"))
			break
		}
	}
	_, rerrs := c.routeChanges()
	errs = append(errs, rerrs...)
	_, merrs := c.metricsOptions()
	errs = append(errs, merrs...)
	if _, err := c.openTelemetry(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateServer()...)
	errs = append(errs, c.validateListener()...)
	errs = append(errs, c.validateForward()...)
	errs = append(errs, c.validateBindings()...)
	errs = append(errs, c.validateLimits()...)
	return errors.Join(errs...)
}

// validateServer checks the listener, request and backend settings.
func (c Config) validateServer() []error {
	var errs []error
	if len(c.TLSCert) != len(c.TLSKey) {
		errs = append(errs, fmt.Errorf("-tls-cert names %d files and -tls-key %d, want one key for each certificate", len(c.TLSCert), len(c.TLSKey)))
	}
	if slices.Contains(c.TLSCert, "") || slices.Contains(c.TLSKey, "") {
		errs = append(errs, errors.New("-tls-cert or -tls-key holds an empty path"))
	}
	if len(c.ClientTLSCert) != len(c.ClientTLSKey) {
		errs = append(errs, fmt.Errorf("-client-tls-cert names %d files and -client-tls-key %d, want one key for each certificate",
			len(c.ClientTLSCert), len(c.ClientTLSKey)))
	}
	if slices.Contains(c.ClientTLSCert, "") || slices.Contains(c.ClientTLSKey, "") {
		errs = append(errs, errors.New("-client-tls-cert or -client-tls-key holds an empty path"))
	}
	if c.ClientTLSCertRefresh <= 0 {
		errs = append(errs, fmt.Errorf("-client-tls-cert-refresh-interval must be positive, got %s", c.ClientTLSCertRefresh))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"read-timeout-server", c.ReadTimeoutServer},
		{"read-header-timeout-server", c.ReadHeaderTimeoutServer},
		{"write-timeout-server", c.WriteTimeoutServer},
		{"idle-timeout-server", c.IdleTimeoutServer},
		{"wait-for-healthcheck-interval", c.WaitForHealthcheckInterval},
		{"timeout-backend", c.TimeoutBackend},
		{"response-header-timeout-backend", c.ResponseHeaderTimeoutBackend},
		{"tls-timeout-backend", c.TLSTimeoutBackend},
		{"expect-continue-timeout-backend", c.ExpectContinueTimeoutBackend},
		{"close-idle-conns-period", c.CloseIdleConnsPeriod},
	} {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("-%s must not be negative, got %s", d.name, d.d))
		}
	}
	if c.MaxHeaderBytes <= 0 {
		errs = append(errs, fmt.Errorf("-max-header-bytes must be positive, got %d", c.MaxHeaderBytes))
	}
	if c.MaxLoopbacks < 0 {
		errs = append(errs, fmt.Errorf("-max-loopbacks must not be negative, got %d", c.MaxLoopbacks))
	}
	if c.DefaultHTTPStatus < 200 || c.DefaultHTTPStatus > 599 {
		errs = append(errs, fmt.Errorf("-default-http-status must be between 200 and 599, got %d", c.DefaultHTTPStatus))
	}
	_, ferrs := c.forwardedHeaders()
	errs = append(errs, ferrs...)
	if c.IdleConnsNum <= 0 {
		errs = append(errs, fmt.Errorf("-idle-conns-num must be positive, got %d", c.IdleConnsNum))
	}
	if c.SigV4MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("-sigv4-max-body-bytes must be positive, got %d", c.SigV4MaxBodyBytes))
	}
	if c.MaxResponseHeaderBytes <= 0 {
		errs = append(errs, fmt.Errorf("-max-response-header-bytes must be positive, got %d", c.MaxResponseHeaderBytes))
	}
	if c.MaxIdleConnsBackend < 0 {
		errs = append(errs, fmt.Errorf("-max-idle-connection-backend must not be negative, got %d", c.MaxIdleConnsBackend))
	}
	return errs
}

// forwardedHeaders turns -forwarded-headers and -forwarded-headers-exclude-cidrs into the proxy's
// settings, with an error for each entry it cannot use. Header names are matched without regard
// to case, as HTTP compares them; values are lower case, as Skipper takes them.
func (c Config) forwardedHeaders() (proxy.ForwardedHeaders, []error) {
	var h proxy.ForwardedHeaders
	var errs []error
	for _, e := range c.ForwardedHeaders {
		if err := addForwardedHeader(&h, strings.TrimSpace(e)); err != nil {
			errs = append(errs, fmt.Errorf("-forwarded-headers: %w", err))
		}
	}
	for _, s := range c.ForwardedHeadersExcludeCIDRs {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, fmt.Errorf("-forwarded-headers-exclude-cidrs: %q is not a CIDR such as 10.0.0.0/8", s))
			continue
		}
		h.Exclude = append(h.Exclude, p.Masked())
	}
	return h, errs
}

// forwardedEntries is the help for a -forwarded-headers entry that is not one of them.
const forwardedEntries = "X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Method, X-Forwarded-Uri, " +
	"X-Forwarded-Port=<port|auto> or X-Forwarded-Proto=<http|https|auto>"

// addForwardedHeader adds one -forwarded-headers entry to h. A later Port or Proto replaces an
// earlier one.
func addForwardedHeader(h *proxy.ForwardedHeaders, entry string) error {
	name, value, hasValue := strings.Cut(entry, "=")
	name = http.CanonicalHeaderKey(name)
	switch {
	case name == "X-Forwarded-For" && !hasValue:
		h.For = true
	case name == "X-Forwarded-Host" && !hasValue:
		h.Host = true
	case name == "X-Forwarded-Method" && !hasValue:
		h.Method = true
	case name == "X-Forwarded-Uri" && !hasValue:
		h.URI = true
	case name == "X-Forwarded-Port" && hasValue:
		if value == proxy.ForwardedAuto {
			h.Port = value
			break
		}
		n, err := strconv.ParseUint(value, 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("%q: the port must be a number from 1 to 65535 or auto", entry)
		}
		h.Port = strconv.FormatUint(n, 10)
	case name == "X-Forwarded-Proto" && hasValue:
		if value != "http" && value != "https" && value != proxy.ForwardedAuto {
			return fmt.Errorf("%q: the proto must be http, https or auto", entry)
		}
		h.Proto = value
	default:
		return fmt.Errorf("unknown entry %q, want %s", entry, forwardedEntries)
	}
	return nil
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

// seconds is a pflag.Value for a duration given as a Go duration ("20s") or, as older Skipper
// versions take -close-idle-conns-period, a whole number of seconds ("20").
type seconds struct{ d *time.Duration }

func newSeconds(d *time.Duration, def time.Duration) seconds {
	*d = def
	return seconds{d}
}

func (s seconds) String() string { return s.d.String() }
func (s seconds) Type() string   { return "duration" }

func (s seconds) Set(v string) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		*s.d = time.Duration(n) * time.Second
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("not a duration or a whole number of seconds")
	}
	*s.d = d
	return nil
}
