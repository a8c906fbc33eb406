package main

import (
	"fmt"

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

// validateListener checks the connection limits.
func (c Config) validateListener() []error {
	var errs []error
	if c.MaxTCPListenerConcurrency < 0 {
		errs = append(errs, fmt.Errorf("-max-tcp-listener-concurrency must not be negative, got %d", c.MaxTCPListenerConcurrency))
	}
	if c.MaxTCPListenerQueue < 0 {
		errs = append(errs, fmt.Errorf("-max-tcp-listener-queue must not be negative, got %d", c.MaxTCPListenerQueue))
	}
	return errs
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
