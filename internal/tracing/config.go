// Package tracing traces requests with OpenTelemetry, as Skipper's -open-telemetry: one server
// span per request, one client span per backend call, W3C trace context and baggage passed on
// to the backend, and an event for each credential injection that names the secret's path and
// never its value. Spans are exported over OTLP, configured by the standard OTEL_* variables
// and by the flag's YAML.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.yaml.in/yaml/v3"
)

// Options are Skipper's -open-telemetry value: a YAML document (flow style on a command line,
// "{}" for the defaults). Each field left out is taken from the standard OTEL_* variable that
// the OpenTelemetry SDK specification names, and then from the specification's default.
type Options struct {
	// TracesExporter is "otlp" or "none"; if empty, OTEL_TRACES_EXPORTER, else "otlp".
	TracesExporter string `yaml:"tracesExporter"`
	// ExporterOtlp configures the OTLP exporter.
	ExporterOtlp ExporterOtlp `yaml:"exporterOtlp"`
	// ResourceAttributes are added to OTEL_RESOURCE_ATTRIBUTES (and win over them).
	ResourceAttributes map[string]string `yaml:"resourceAttributes"`
	// Propagators are "tracecontext", "baggage" or "none"; if empty, OTEL_PROPAGATORS, else
	// both tracecontext and baggage.
	Propagators []string `yaml:"propagators"`
	// BatchSpanProcessor tunes the batching of spans; a zero field leaves the OTEL_BSP_*
	// variable or the default.
	BatchSpanProcessor BatchSpanProcessor `yaml:"batchSpanProcessor"`
}

// ExporterOtlp is where and how OTLP spans are sent. With TracesExporter "otlp" given in the
// flag, as in Skipper, Endpoint is required and the spans go to Endpoint + "/v1/traces";
// otherwise the OTEL_EXPORTER_OTLP_* variables say (see newOTLPHTTP). Headers are added to
// those of OTEL_EXPORTER_OTLP_HEADERS.
type ExporterOtlp struct {
	// Protocol is "http/protobuf", the only one this egress proxy speaks; if empty,
	// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL, else "http/protobuf".
	Protocol string            `yaml:"protocol"`
	Endpoint string            `yaml:"endpoint"`
	Headers  map[string]string `yaml:"headers"`
}

// BatchSpanProcessor are the batching settings of Skipper's flag.
type BatchSpanProcessor struct {
	ScheduleDelay      time.Duration `yaml:"scheduleDelay"`
	ExportTimeout      time.Duration `yaml:"exportTimeout"`
	MaxQueueSize       int           `yaml:"maxQueueSize"`
	MaxExportBatchSize int           `yaml:"maxExportBatchSize"`
}

// ParseOptions reads the flag's YAML. As Skipper, it ignores keys it does not know and takes
// an empty value for the defaults.
func ParseOptions(s string) (*Options, error) {
	var o Options
	if err := yaml.Unmarshal([]byte(s), &o); err != nil {
		return nil, fmt.Errorf("not a YAML document of OpenTelemetry options: %w", err)
	}
	return &o, nil
}

// Check reports the first option New would refuse, without building anything.
func (o *Options) Check() error {
	_, err := o.propagator()
	if err != nil {
		return err
	}
	switch exp := o.exporter(); exp {
	case "otlp":
		if o.TracesExporter == "otlp" && o.ExporterOtlp.Endpoint == "" {
			return errors.New("tracesExporter otlp needs exporterOtlp.endpoint")
		}
		switch p := o.protocol(); p {
		case "http/protobuf":
		case "grpc", "http/json":
			return fmt.Errorf("OTLP protocol %s is not supported by this egress proxy: use http/protobuf (a collector's port 4318)", p)
		default:
			return fmt.Errorf("OTLP protocol %q: want http/protobuf", p)
		}
		if _, err := o.newOTLPHTTP(); err != nil {
			return err
		}
	case "none":
	default:
		return fmt.Errorf("traces exporter %q: want otlp or none (console and the others are not supported by this egress proxy)", exp)
	}
	return nil
}

// exporter is the traces exporter the options and environment choose.
func (o *Options) exporter() string {
	return firstOf(o.TracesExporter, os.Getenv("OTEL_TRACES_EXPORTER"), "otlp")
}

// protocol is the OTLP protocol the options and environment choose.
func (o *Options) protocol() string {
	return firstOf(o.ExporterOtlp.Protocol, os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
		os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf")
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// propagator is the text map propagator the options and environment choose.
func (o *Options) propagator() (propagation.TextMapPropagator, error) {
	names := o.Propagators
	if len(names) == 0 {
		names = strings.Split(firstOf(os.Getenv("OTEL_PROPAGATORS"), "tracecontext,baggage"), ",")
	}
	var props []propagation.TextMapPropagator
	for _, n := range names {
		switch n = strings.TrimSpace(n); n {
		case "tracecontext":
			props = append(props, propagation.TraceContext{})
		case "baggage":
			props = append(props, propagation.Baggage{})
		case "none", "":
		default:
			return nil, fmt.Errorf("propagator %q: want tracecontext, baggage or none (not supported by this egress proxy: %s)", n, n)
		}
	}
	return propagation.NewCompositeTextMapPropagator(props...), nil
}

// New builds the OpenTelemetry pipeline that o and the OTEL_* variables describe and returns
// a Tracer that sends its spans there, and the function that flushes and stops it. Export
// errors are logged to log.
func New(ctx context.Context, o *Options, log logrus.FieldLogger) (*Tracer, func(context.Context) error, error) {
	if err := o.Check(); err != nil {
		return nil, nil, err
	}
	prop, _ := o.propagator() // Check has checked it
	res, err := o.resource(ctx)
	if err != nil {
		return nil, nil, err
	}
	popts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if o.exporter() == "otlp" {
		exp, err := o.newOTLP(ctx)
		if err != nil {
			return nil, nil, err
		}
		popts = append(popts, sdktrace.WithBatcher(exp, o.BatchSpanProcessor.options()...))
	}
	tp := sdktrace.NewTracerProvider(popts...)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.WithError(err).Warn("OpenTelemetry")
	}))
	return NewWithProvider(tp, prop), tp.Shutdown, nil
}

// newOTLP returns the OTLP span exporter: the SDK's transformation and our OTLP/HTTP
// transport (see otlpHTTP).
func (o *Options) newOTLP(ctx context.Context) (sdktrace.SpanExporter, error) {
	c, err := o.newOTLPHTTP()
	if err != nil {
		return nil, err
	}
	return otlptrace.New(ctx, c)
}

// resource describes this process: service.name "skipper" unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES say otherwise, then the flag's resourceAttributes.
func (o *Options) resource(ctx context.Context) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{attribute.String("service.name", "skipper")}
	r, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attrs...), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	if len(o.ResourceAttributes) == 0 {
		return r, nil
	}
	var extra []attribute.KeyValue
	for k, v := range o.ResourceAttributes {
		extra = append(extra, attribute.String(k, v))
	}
	return resource.Merge(r, resource.NewSchemaless(extra...))
}

func (b BatchSpanProcessor) options() []sdktrace.BatchSpanProcessorOption {
	var opts []sdktrace.BatchSpanProcessorOption
	if b.ScheduleDelay > 0 {
		opts = append(opts, sdktrace.WithBatchTimeout(b.ScheduleDelay))
	}
	if b.ExportTimeout > 0 {
		opts = append(opts, sdktrace.WithExportTimeout(b.ExportTimeout))
	}
	if b.MaxQueueSize > 0 {
		opts = append(opts, sdktrace.WithMaxQueueSize(b.MaxQueueSize))
	}
	if b.MaxExportBatchSize > 0 {
		opts = append(opts, sdktrace.WithMaxExportBatchSize(b.MaxExportBatchSize))
	}
	return opts
}
