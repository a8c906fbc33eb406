package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/internal/forward"
	"github.com/skipper-egress/skipper/internal/metrics"
	"github.com/skipper-egress/skipper/internal/mitm"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/secrets"
)

// addForwardFlags binds the flags of the forward proxy: tunnels (CONNECT, and the protocol
// upgrades that share their limits), TLS interception and the SSRF guard for client-chosen
// destinations.
func addForwardFlags(fs *pflag.FlagSet, cfg *Config) {
	fs.StringVar(&cfg.CACert, "ca-cert", "",
		"PEM CA certificate that signs the certificates of intercepted CONNECT destinations (see 'skipper ca init DIR')")
	fs.StringVar(&cfg.CAKey, "ca-key", "", "PEM private key of -ca-cert")
	fs.StringSliceVar(&cfg.ForwardAllowCIDRs, "forward-allow-cidrs", nil,
		"comma-separated CIDRs or addresses that client-chosen destinations (<dynamic> routes, tunnels) may reach although internal")
	fs.DurationVar(&cfg.TunnelIdleTimeout, "tunnel-idle-timeout", 5*time.Minute,
		"close a tunnel (CONNECT, or a protocol upgrade such as WebSocket) in which no byte moved for this long; 0 for never")
	fs.DurationVar(&cfg.TunnelMaxLifetime, "tunnel-max-lifetime", time.Hour,
		"close a tunnel (CONNECT or upgrade) this long after it opened; 0 for never")
	fs.IntVar(&cfg.MaxTunnels, "max-tunnels", 1024,
		"tunnels (CONNECT and upgrades together) open at once; more are answered 503; 0 for no limit")
	fs.BoolVar(&cfg.ForwardReportOnly, "forward-report-only", false,
		"send forward-proxy requests that no route allows on, without any credential and through the SSRF guard, and log them as would-be denials")
	fs.StringVar(&cfg.ForwardProxyAuth, "forward-proxy-auth", "",
		"secret file, under -credentials-paths, holding the user:password lines one of which forward-proxy clients must send as Basic Proxy-Authorization")
}

// validateForward checks the forward-proxy settings.
func (c Config) validateForward() []error {
	var errs []error
	if (c.CACert == "") != (c.CAKey == "") {
		errs = append(errs, errors.New("-ca-cert and -ca-key go together"))
	}
	if _, err := forward.ParsePrefixes(c.ForwardAllowCIDRs); err != nil {
		errs = append(errs, fmt.Errorf("-forward-allow-cidrs: %w", err))
	}
	if c.TunnelIdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("-tunnel-idle-timeout must not be negative, got %s", c.TunnelIdleTimeout))
	}
	if c.TunnelMaxLifetime < 0 {
		errs = append(errs, fmt.Errorf("-tunnel-max-lifetime must not be negative, got %s", c.TunnelMaxLifetime))
	}
	if c.MaxTunnels < 0 {
		errs = append(errs, fmt.Errorf("-max-tunnels must not be negative, got %d", c.MaxTunnels))
	}
	return errs
}

// newForward builds the forward proxy from the command line and registers its tunnel metrics on
// m. Its transport has the backend transport's settings: the same idle connections per host and
// in all, closed as often. app.run runs it.
func newForward(cfg Config, transport proxy.TransportOptions, m *metrics.Metrics, store *secrets.Store,
	log logrus.FieldLogger) (*proxy.Forwarder, error) {
	allow, err := forward.ParsePrefixes(cfg.ForwardAllowCIDRs)
	if err != nil {
		return nil, fmt.Errorf("-forward-allow-cidrs: %w", err)
	}
	guard, err := forward.NewGuard(forward.GuardOptions{Allow: allow, DialTimeout: cfg.TimeoutBackend})
	if err != nil {
		return nil, fmt.Errorf("-forward-allow-cidrs: %w", err)
	}
	var ca *mitm.CA
	if cfg.CACert != "" {
		if ca, err = mitm.LoadCA(cfg.CACert, cfg.CAKey); err != nil {
			return nil, fmt.Errorf("-ca-cert: %w", err)
		}
	}
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "skipper", Name: "tunnel_bytes_total",
		Help: "Bytes carried by blind CONNECT tunnels and protocol upgrades (WebSocket), by direction (up: client to destination).",
	}, []string{"direction"})
	if reg := m.Registry(); reg != nil {
		if err := reg.Register(bytes); err != nil {
			return nil, fmt.Errorf("registering tunnel metrics: %w", err)
		}
	}
	up, down := bytes.WithLabelValues("up"), bytes.WithLabelValues("down")
	var auth func() ([]byte, error)
	if path := cfg.ForwardProxyAuth; path != "" {
		if !store.Covers(path) {
			return nil, fmt.Errorf("-forward-proxy-auth: %s is not under -credentials-paths", path)
		}
		auth = func() ([]byte, error) { return store.Get(path) }
		if v, err := store.Get(path); err == nil {
			// Broken at start is a mistake to fix now; broken later refuses every caller.
			if _, err := proxy.ParseProxyUsers(path, v); err != nil {
				return nil, fmt.Errorf("-forward-proxy-auth: %w", err)
			}
		}
	}
	fwd, err := proxy.NewForwarder(proxy.ForwardOptions{
		ProxyAuth:     auth,
		ProxyAuthFile: cfg.ForwardProxyAuth,
		Guard:         guard,
		CA:            ca,
		Tunnels: forward.TunnelOptions{
			Max:         cfg.MaxTunnels,
			IdleTimeout: cfg.TunnelIdleTimeout,
			MaxLifetime: cfg.TunnelMaxLifetime,
			OnBytes: func(u, d int64) {
				if u > 0 {
					up.Add(float64(u))
				}
				if d > 0 {
					down.Add(float64(d))
				}
			},
		},
		Transport: transport,
		Log:       log,
	})
	if err != nil {
		return nil, fmt.Errorf("forward proxy: %w", err)
	}
	return fwd, nil
}
