package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skipper-egress/skipper/secrets"
)

// SecretLister lists the secrets a store holds, without their values. *secrets.Store
// implements it.
type SecretLister interface {
	Loaded() []secrets.Loaded
}

// RegisterSecrets exposes the secrets src holds, computed each time the registry is scraped:
// skipper_secrets_loaded, their number, and skipper_secret_age_seconds{path}, the time since
// each secret's current value was read. Labels carry the secret's file path, never its value.
// It fails if secrets are already registered. On a nil *Metrics it does nothing.
func (m *Metrics) RegisterSecrets(src SecretLister) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(&secretsCollector{
		src: src,
		now: m.now,
		loaded: prometheus.NewDesc(namespace+"_secrets_loaded",
			"Secrets the store holds.", nil, nil),
		age: prometheus.NewDesc(namespace+"_secret_age_seconds",
			"Time since the current value of the secret read from the file path was read.",
			[]string{labelPath}, nil),
	})
}

// RegisterAuditDrops exposes skipper_audit_log_dropped_total, the audit log lines dropped
// because the log could not keep up or a write failed, as dropped returns it. On a nil
// *Metrics it does nothing.
func (m *Metrics) RegisterAuditDrops(dropped func() uint64) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: namespace, Name: "audit_log_dropped_total",
		Help: "Audit log lines dropped because the log could not keep up or a write failed.",
	}, func() float64 { return float64(dropped()) }))
}

// secretsCollector is a prometheus.Collector over a SecretLister.
type secretsCollector struct {
	src         SecretLister
	now         func() time.Time
	loaded, age *prometheus.Desc
}

var _ prometheus.Collector = (*secretsCollector)(nil)

func (c *secretsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.loaded
	ch <- c.age
}

func (c *secretsCollector) Collect(ch chan<- prometheus.Metric) {
	list := c.src.Loaded()
	now := c.now()
	ch <- constGauge(c.loaded, float64(len(list)))
	for _, l := range list {
		age := max(now.Sub(l.LoadedAt), 0)
		ch <- constGauge(c.age, age.Seconds(), sanitize(l.Path))
	}
}

// constGauge returns a gauge sample, or, should the labels not fit desc, a metric that makes
// the scrape report the error instead of panicking.
func constGauge(desc *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(desc, err)
	}
	return m
}
