package filters

import (
	"net/http"

	"github.com/skipper-egress/skipper/filters/circuit"
)

// Route names of the circuit breaker filters.
const (
	ConsecutiveBreakerName = "consecutiveBreaker"
	RateBreakerName        = "rateBreaker"
	DisableBreakerName     = "disableBreaker"
)

// BreakerUser is implemented by the breaker filters. They change nothing in the request; the
// proxy looks for them on a route and guards the route's backend with a breaker of these
// settings. When a route holds several, the last one counts.
type BreakerUser interface {
	BreakerSettings() circuit.Settings
}

type breakerSpec struct {
	name  string
	parse func([]any) (circuit.Settings, error)
}

type breakerFilter struct{ s circuit.Settings }

var (
	_ Spec        = (*breakerSpec)(nil)
	_ Filter      = (*breakerFilter)(nil)
	_ BreakerUser = (*breakerFilter)(nil)
)

// NewBreakerSpecs returns the specs of the circuit breaker filters, with Skipper's arguments:
//
//   - consecutiveBreaker(failures[, timeout[, half-open requests[, idle TTL]]]) opens after
//     that many failures in a row;
//   - rateBreaker(failures, window[, timeout[, half-open requests[, idle TTL]]]) opens when that
//     many of the last window requests failed;
//   - disableBreaker() turns breakers off for the route.
//
// Durations are strings such as "30s" or numbers of milliseconds. Connection errors and
// responses of status 500 and above are failures. An open breaker is answered by the proxy with
// 503 and X-Circuit-Open: true, without calling the backend. See package circuit.
func NewBreakerSpecs() []Spec {
	return []Spec{
		&breakerSpec{name: ConsecutiveBreakerName, parse: circuit.ParseConsecutive},
		&breakerSpec{name: RateBreakerName, parse: circuit.ParseRate},
		&breakerSpec{name: DisableBreakerName, parse: circuit.ParseDisable},
	}
}

func (s *breakerSpec) Name() string { return s.name }

func (s *breakerSpec) Create(args []any) (Filter, error) {
	settings, err := s.parse(args)
	if err != nil {
		return nil, argsErrorf("%s: %v", s.name, err)
	}
	return &breakerFilter{settings}, nil
}

func (*breakerFilter) Request(*http.Request) error { return nil }

// BreakerSettings returns the breaker settings from the route's arguments.
func (f *breakerFilter) BreakerSettings() circuit.Settings { return f.s }
