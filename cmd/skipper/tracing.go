package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/skipper-egress/skipper/internal/tracing"
)

// openTelemetryFlag is Skipper's -open-telemetry: a YAML document of options. Given at all,
// even empty or "{}", it turns tracing on.
type openTelemetryFlag struct{ v **string }

func (f openTelemetryFlag) Set(s string) error { *f.v = &s; return nil }
func (f openTelemetryFlag) Type() string       { return "yaml" }
func (f openTelemetryFlag) String() string {
	if *f.v == nil {
		return ""
	}
	return **f.v
}

// addTracingFlags binds Skipper's tracing flag.
func addTracingFlags(fs *pflag.FlagSet, cfg *Config) {
	fs.Var(openTelemetryFlag{&cfg.OpenTelemetry}, "open-telemetry",
		"trace requests with OpenTelemetry: options as YAML, '{}' for those of the OTEL_* variables")
}

// openTelemetry parses -open-telemetry; nil when it is not given.
func (c Config) openTelemetry() (*tracing.Options, error) {
	if c.OpenTelemetry == nil {
		return nil, nil
	}
	o, err := tracing.ParseOptions(*c.OpenTelemetry)
	if err == nil {
		err = o.Check()
	}
	if err != nil {
		return nil, fmt.Errorf("-open-telemetry: %w", err)
	}
	return o, nil
}

// shutdownTracing is how long skipper waits at exit for the last spans to be exported.
const shutdownTracing = 5 * time.Second

// newTracing builds the tracer that -open-telemetry asks for, and the function that flushes
// and stops it; a nil tracer and a no-op when it is not given.
func newTracing(cfg Config, log logrus.FieldLogger) (*tracing.Tracer, func(), error) {
	o, err := cfg.openTelemetry()
	if err != nil || o == nil {
		return nil, func() {}, err
	}
	t, shutdown, err := tracing.New(context.Background(), o, log)
	if err != nil {
		return nil, nil, fmt.Errorf("-open-telemetry: %w", err)
	}
	log.Info("Tracing requests with OpenTelemetry")
	return t, func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTracing)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			log.WithError(err).Warn("OpenTelemetry: exporting the last spans")
		}
	}, nil
}
