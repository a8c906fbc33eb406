package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/internal/connlimit"
)

// addListenerFlags binds the flags that limit client connections, with Skipper's names. Where
// Skipper derives the default concurrency from memory, it is derived here from the descriptors
// the process may open, which is what ran out first: see connlimit.DefaultConcurrency.
func addListenerFlags(fs *pflag.FlagSet, cfg *Config) {
	fs.IntVar(&cfg.MaxTCPListenerConcurrency, "max-tcp-listener-concurrency", 0,
		"client connections served at once; at the limit, idle keep-alive connections are closed first to make room; "+
			"0 derives it from the open file limit (RLIMIT_NOFILE), keeping half of the descriptors for backends")
	fs.IntVar(&cfg.MaxTCPListenerQueue, "max-tcp-listener-queue", 0,
		"client connections that wait for a free slot, each up to -read-header-timeout-server; beyond it the longest waiting is closed; "+
			"0 for a quarter of -max-tcp-listener-concurrency")
	fs.BoolVar(&cfg.EnableTCPQueue, "enable-tcp-queue", false, "accepted for compatibility: the connection limit is always on")
}

// validateListener checks the listen addresses and the connection limits.
func (c Config) validateListener() []error {
	var errs []error
	if c.Address != "" { // Validate reports an empty one
		if err := checkListenAddress("address", c.Address); err != nil {
			errs = append(errs, err)
		}
	}
	if c.SupportListener != "" { // empty: no support listener
		if err := checkListenAddress("support-listener", c.SupportListener); err != nil {
			errs = append(errs, err)
		}
	}
	if c.DebugListener != "" { // empty: no debug listener
		if err := checkListenAddress("debug-listener", c.DebugListener); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxTCPListenerConcurrency < 0 {
		errs = append(errs, fmt.Errorf("-max-tcp-listener-concurrency must not be negative, got %d", c.MaxTCPListenerConcurrency))
	}
	if c.MaxTCPListenerQueue < 0 {
		errs = append(errs, fmt.Errorf("-max-tcp-listener-queue must not be negative, got %d", c.MaxTCPListenerQueue))
	}
	return errs
}

// checkListenAddress checks the form of addr, the value of the flag named flag, so that a typo
// is a usage error before anything starts. A host name passes: whether it resolves is for
// listenOn to find out.
func checkListenAddress(flag, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-%s: %q is not HOST:PORT, such as 127.0.0.1:9090, [::1]:9090 or :9090", flag, addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("-%s: %q: the port %q is not a number from 0 to 65535", flag, addr, port)
	}
	if host != "" && !isIPOrHostName(host) {
		return fmt.Errorf("-%s: %q: %q is neither an IP address nor a host name", flag, addr, host)
	}
	return nil
}

// isIPOrHostName reports whether host is an IP address or has the form of a host name
// (RFC 1123): labels of letters, digits and hyphens, the last not all digits, so that a mistyped
// IPv4 address such as 1.2.3.4.5 is not taken for a name to look up.
func isIPOrHostName(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			strings.IndexFunc(l, func(r rune) bool { return !isHostNameRune(r) }) >= 0 {
			return false
		}
	}
	last := labels[len(labels)-1]
	return strings.IndexFunc(last, func(r rune) bool { return r < '0' || r > '9' }) >= 0
}

func isHostNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// listenOn opens a TCP listener on addr, the value of the flag named flag. Its error names the
// flag: the address is on the command line, but what fails here (a port in use, one below 1024
// without the privilege, a name that does not resolve) is the machine's state, not a typo.
func listenOn(flag, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("-%s=%s: the address is in use, another process listens there; stop it or choose another -%s", flag, addr, flag)
	case err != nil:
		return nil, fmt.Errorf("-%s=%s: %w", flag, addr, err)
	}
	return ln, nil
}

// connLimits turns the flags into the listener's limits for a process that may open nofile
// descriptors (0: unknown). As in Skipper, a connection waits for a slot as long as it may take
// to send its request header.
func (c Config) connLimits(nofile uint64) connlimit.Options {
	o := connlimit.Options{
		MaxConcurrency: c.MaxTCPListenerConcurrency,
		MaxQueue:       c.MaxTCPListenerQueue,
		QueueTimeout:   c.ReadHeaderTimeoutServer,
	}
	if o.MaxConcurrency == 0 {
		o.MaxConcurrency = connlimit.DefaultConcurrency(nofile)
	}
	if o.MaxQueue == 0 {
		o.MaxQueue = connlimit.DefaultQueue(o.MaxConcurrency)
	}
	if o.QueueTimeout == 0 {
		o.QueueTimeout = c.ReadTimeoutServer
	}
	return o
}

// watchConns logs the connection limits and registers their metrics on reg, if set.
func watchConns(l *connlimit.Listener, o connlimit.Options, reg *prometheus.Registry, log logrus.FieldLogger) error {
	wait := "as long as it takes"
	if o.QueueTimeout > 0 {
		wait = "up to " + o.QueueTimeout.String()
	}
	log.Infof("Client connections: %d served at once, %d more wait %s", o.MaxConcurrency, o.MaxQueue, wait)
	if reg == nil {
		return nil
	}
	if err := reg.Register(connsCollector{l}); err != nil {
		return fmt.Errorf("registering listener metrics: %w", err)
	}
	return nil
}

var (
	connsActiveDesc = prometheus.NewDesc("skipper_listener_active_connections",
		"Client connections served, idle keep-alive ones included (-max-tcp-listener-concurrency).", nil, nil)
	connsIdleDesc = prometheus.NewDesc("skipper_listener_idle_connections",
		"Client connections served that are idle between requests.", nil, nil)
	connsQueuedDesc = prometheus.NewDesc("skipper_listener_queued_connections",
		"Client connections accepted and waiting for a slot (-max-tcp-listener-queue).", nil, nil)
	connsClosedDesc = prometheus.NewDesc("skipper_listener_closed_connections_total",
		"Client connections the limit closed, by reason: idle (or silent) to make room, queue_full, queue_timeout.",
		[]string{"reason"}, nil)
)

// connsCollector exposes a connlimit.Listener's counts, read once per scrape.
type connsCollector struct{ l *connlimit.Listener }

func (c connsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connsActiveDesc
	ch <- connsIdleDesc
	ch <- connsQueuedDesc
	ch <- connsClosedDesc
}

func (c connsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.l.Stats()
	ch <- prometheus.MustNewConstMetric(connsActiveDesc, prometheus.GaugeValue, float64(s.Active))
	ch <- prometheus.MustNewConstMetric(connsIdleDesc, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(connsQueuedDesc, prometheus.GaugeValue, float64(s.Queued))
	for reason, n := range map[string]uint64{
		"idle": s.ClosedIdle, "queue_full": s.ClosedQueueFull, "queue_timeout": s.ClosedQueueTimeout,
	} {
		ch <- prometheus.MustNewConstMetric(connsClosedDesc, prometheus.CounterValue, float64(n), reason)
	}
}
