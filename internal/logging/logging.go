// Package logging builds the application logger: logrus, text or JSON, every text line prefixed
// with "[APP]" as Skipper prefixes it, so that application and access lines sharing one stream
// can be told apart.
package logging

import (
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/sirupsen/logrus"
)

// appPrefix starts every application log line in text form.
const appPrefix = "[APP]"

// Options configures the application logger.
type Options struct {
	// Out receives the log lines.
	Out io.Writer
	// Level is a logrus level name, case-insensitive: "debug", "INFO", "warn", ...
	Level string
	// JSON selects logrus' JSON formatter instead of the prefixed text one.
	JSON bool
}

// New returns a logger writing to opts.Out at opts.Level. An unknown level is an error.
func New(opts Options) (*logrus.Logger, error) {
	level, err := ParseLevel(opts.Level)
	if err != nil {
		return nil, err
	}
	l := logrus.New()
	l.SetOutput(opts.Out)
	l.SetLevel(level)
	if opts.JSON {
		l.SetFormatter(&logrus.JSONFormatter{})
	} else {
		l.SetFormatter(&prefixFormatter{prefix: appPrefix, inner: &logrus.TextFormatter{DisableColors: true, FullTimestamp: true}})
	}
	return l, nil
}

// ParseLevel parses a logrus level name case-insensitively, naming the accepted ones when it fails.
func ParseLevel(s string) (logrus.Level, error) {
	level, err := logrus.ParseLevel(strings.ToLower(s))
	if err != nil {
		return 0, fmt.Errorf("unknown log level %q (want one of panic, fatal, error, warn, info, debug, trace)", s)
	}
	return level, nil
}

// prefixFormatter puts a fixed prefix in front of every line another formatter produces.
type prefixFormatter struct {
	prefix string
	inner  logrus.Formatter
}

func (f *prefixFormatter) Format(e *logrus.Entry) ([]byte, error) {
	line, err := f.inner.Format(e)
	if err != nil {
		return nil, err
	}
	return append([]byte(f.prefix), line...), nil
}

// StdLogger returns a standard library logger whose lines go to l at level, for the places that
// want a *log.Logger, such as http.Server.ErrorLog.
func StdLogger(l logrus.FieldLogger, level logrus.Level) *log.Logger {
	return log.New(levelWriter{l: l, level: level}, "", 0)
}

type levelWriter struct {
	l     logrus.FieldLogger
	level logrus.Level
}

func (w levelWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	switch w.level {
	case logrus.ErrorLevel:
		w.l.Error(msg)
	case logrus.WarnLevel:
		w.l.Warn(msg)
	case logrus.InfoLevel:
		w.l.Info(msg)
	default:
		w.l.Debug(msg)
	}
	return len(p), nil
}
