package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/internal/metrics"
)

// addMetricsFlags binds Skipper's metric switches that apply to the Prometheus metrics skipper
// has.
func addMetricsFlags(fs *pflag.FlagSet, cfg *Config) {
	fs.StringSliceVar(&cfg.MetricsFlavour, "metrics-flavour", []string{"prometheus"},
		"format of /metrics: prometheus is the only one (Skipper's codahale and otel are not supported)")
	fs.BoolVar(&cfg.EnablePrometheusMetrics, "enable-prometheus-metrics", false,
		"accepted for compatibility (deprecated in Skipper): the metrics are always Prometheus'")
	fs.StringVar(&cfg.HistogramMetricBuckets, "histogram-metric-buckets", "",
		"comma-separated upper bounds, in seconds, of every latency histogram; empty for the defaults")
	fs.BoolVar(&cfg.ServeRouteMetrics, "serve-route-metrics", false,
		"add skipper_serve_route_duration_seconds{code,method,route}")
	fs.BoolVar(&cfg.ServeRouteCounter, "serve-route-counter", false, "add skipper_serve_route_count{code,method,route}")
	fs.BoolVar(&cfg.ServeHostMetrics, "serve-host-metrics", false,
		"add skipper_serve_host_duration_seconds{code,method,host}")
	fs.BoolVar(&cfg.ServeHostCounter, "serve-host-counter", false, "add skipper_serve_host_count{code,method,host}")
	fs.BoolVar(&cfg.ServeMethodMetric, "serve-method-metric", true,
		"label the serve duration histograms with the method")
	fs.BoolVar(&cfg.ServeStatusCodeMetric, "serve-status-code-metric", true,
		"label the serve duration histograms with the status code")
}

// metricsOptions turns the metric flags into the metrics' options, with an error for each flag
// it cannot use.
func (c Config) metricsOptions() (metrics.Options, []error) {
	o := metrics.Options{
		ServeRoute: c.ServeRouteMetrics, ServeHost: c.ServeHostMetrics,
		ServeRouteCounter: c.ServeRouteCounter, ServeHostCounter: c.ServeHostCounter,
		NoServeMethod: !c.ServeMethodMetric, NoServeStatusCode: !c.ServeStatusCodeMetric,
	}
	var errs []error
	for _, f := range c.MetricsFlavour {
		switch f = strings.TrimSpace(f); f {
		case "prometheus":
		case "codahale", "otel":
			errs = append(errs, fmt.Errorf("-metrics-flavour: %s is not supported by this egress proxy, whose metrics are Prometheus' only; use -metrics-flavour=prometheus", f))
		default:
			errs = append(errs, fmt.Errorf("-metrics-flavour: unknown flavour %q, want prometheus", f))
		}
	}
	if s := strings.TrimSpace(c.HistogramMetricBuckets); s != "" {
		for b := range strings.SplitSeq(s, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(b), 64)
			if err != nil || v <= 0 || math.IsInf(v, 0) {
				errs = append(errs, fmt.Errorf("-histogram-metric-buckets: %q is not a positive number of seconds", b))
				continue
			}
			o.Buckets = append(o.Buckets, v)
		}
		slices.Sort(o.Buckets) // as Skipper, which sorts them
		if len(slices.Compact(slices.Clone(o.Buckets))) != len(o.Buckets) {
			errs = append(errs, fmt.Errorf("-histogram-metric-buckets: %q names a bound twice", s))
		}
	}
	return o, errs
}
