package circuit

import (
	"fmt"
	"math"
	"time"
)

// maxCount bounds counts from route text, so that float64 arguments convert exactly and a
// rate breaker's window (one bit per request) stays small.
const maxCount = 1 << 24

// ParseConsecutive reads consecutiveBreaker's arguments, as Skipper does: failures[, timeout[,
// half-open requests[, idle TTL]]]. Durations are strings such as "30s" or numbers of
// milliseconds; zero or an absent argument means the default.
func ParseConsecutive(args []any) (Settings, error) {
	if len(args) < 1 || len(args) > 4 {
		return Settings{}, fmt.Errorf("want 1 to 4 arguments (failures[, timeout[, half-open requests[, idle TTL]]]), got %d", len(args))
	}
	s := Settings{Type: ConsecutiveFailures}
	var err error
	if s.Failures, err = parseCount("failures", args[0], 1); err != nil {
		return Settings{}, err
	}
	return optional(s, args[1:])
}

// ParseRate reads rateBreaker's arguments, as Skipper does: failures, window[, timeout[,
// half-open requests[, idle TTL]]]. The window is a number of requests, at least failures.
func ParseRate(args []any) (Settings, error) {
	if len(args) < 2 || len(args) > 5 {
		return Settings{}, fmt.Errorf("want 2 to 5 arguments (failures, window[, timeout[, half-open requests[, idle TTL]]]), got %d", len(args))
	}
	s := Settings{Type: FailureRate}
	var err error
	if s.Failures, err = parseCount("failures", args[0], 1); err != nil {
		return Settings{}, err
	}
	if s.Window, err = parseCount("window", args[1], 1); err != nil {
		return Settings{}, err
	}
	return optional(s, args[2:])
}

// ParseDisable reads disableBreaker's arguments: there are none.
func ParseDisable(args []any) (Settings, error) {
	if len(args) != 0 {
		return Settings{}, fmt.Errorf("want no arguments, got %d", len(args))
	}
	return Settings{Type: Disabled}, nil
}

// optional reads the arguments both breakers share after their own: timeout, half-open
// requests, idle TTL.
func optional(s Settings, args []any) (Settings, error) {
	var err error
	if len(args) > 0 {
		if s.Timeout, err = parseDuration("timeout", args[0]); err != nil {
			return Settings{}, err
		}
	}
	if len(args) > 1 {
		if s.HalfOpenRequests, err = parseCount("half-open requests", args[1], 0); err != nil {
			return Settings{}, err
		}
	}
	if len(args) > 2 {
		if s.IdleTTL, err = parseDuration("idle TTL", args[2]); err != nil {
			return Settings{}, err
		}
	}
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// parseCount reads a whole number from min to maxCount.
func parseCount(what string, arg any, min int) (int, error) {
	var f float64
	switch v := arg.(type) {
	case float64:
		f = v
	case int:
		f = float64(v)
	default:
		return 0, fmt.Errorf("%s must be a number, got %T", what, arg)
	}
	if !(f >= float64(min) && f <= maxCount) || f != math.Trunc(f) {
		return 0, fmt.Errorf("%s %v is not a whole number from %d to %d", what, f, min, maxCount)
	}
	return int(f), nil
}

// parseDuration reads a duration string or a number of milliseconds, as Skipper's breaker
// filters do. Zero means the default.
func parseDuration(what string, arg any) (time.Duration, error) {
	var d time.Duration
	switch v := arg.(type) {
	case string:
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("%s %q is not a duration such as \"30s\"", what, v)
		}
	case float64:
		// The negated comparison also catches NaN.
		if ms := v * float64(time.Millisecond); !(ms >= 0 && ms < math.MaxInt64) {
			return 0, fmt.Errorf("%s %v milliseconds is out of range", what, v)
		}
		d = time.Duration(v * float64(time.Millisecond))
	case int:
		if v < 0 || int64(v) > math.MaxInt64/int64(time.Millisecond) {
			return 0, fmt.Errorf("%s %v milliseconds is out of range", what, v)
		}
		d = time.Duration(v) * time.Millisecond
	default:
		return 0, fmt.Errorf("%s must be a duration string or a number of milliseconds, got %T", what, arg)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s %v is negative", what, d)
	}
	return d, nil
}
