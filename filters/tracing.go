package filters

import (
	"math"
	"net/http"
)

// Route names of Skipper's tracing filters, accepted here as no-ops until skipper traces.
const (
	TracingTagName                     = "tracingTag"
	TracingTagFromResponseName         = "tracingTagFromResponse"
	TracingTagFromResponseIfStatusName = "tracingTagFromResponseIfStatus"
	TracingBaggageToTagName            = "tracingBaggageToTag"
	TracingSpanNameName                = "tracingSpanName"
	StateBagToTagName                  = "stateBagToTag"
)

type tracingSpec struct{ name string }

// tracingFilter does nothing: there is no span to tag or name.
type tracingFilter struct{}

var (
	_ Spec   = (*tracingSpec)(nil)
	_ Filter = tracingFilter{}
)

// NewTracingSpecs returns the specs of Skipper's tracing filters: tracingTag(name, value),
// tracingTagFromResponse(name, value), tracingTagFromResponseIfStatus(name, value, min, max),
// tracingBaggageToTag(item[, tag]), tracingSpanName(name) and stateBagToTag(item[, tag]).
// skipper does not trace requests yet, so they check their arguments as Skipper does and then
// do nothing: a route that uses them loads and behaves as without them.
func NewTracingSpecs() []Spec {
	return []Spec{
		&tracingSpec{TracingTagName}, &tracingSpec{TracingTagFromResponseName},
		&tracingSpec{TracingTagFromResponseIfStatusName}, &tracingSpec{TracingBaggageToTagName},
		&tracingSpec{TracingSpanNameName}, &tracingSpec{StateBagToTagName},
	}
}

func (s *tracingSpec) Name() string { return s.name }

func (s *tracingSpec) Create(args []any) (Filter, error) {
	var err error
	switch s.name {
	case TracingTagName, TracingTagFromResponseName:
		_, err = stringArgs(s.name, args, 2, "tag name", "tag value")
	case TracingTagFromResponseIfStatusName:
		err = s.statusRangeArgs(args)
	case TracingSpanNameName:
		_, err = stringArgs(s.name, args, 1, "span name")
	case TracingBaggageToTagName:
		// Skipper ignores arguments past the second.
		err = nonEmptyStrings(s.name, args[:min(len(args), 2)], 1, "baggage item", "tag name")
	case StateBagToTagName:
		err = nonEmptyStrings(s.name, args, 1, "state bag item", "tag name")
	}
	if err != nil {
		return nil, err
	}
	return tracingFilter{}, nil
}

// statusRangeArgs checks (name, value, min, max): two strings, then a status range within 0
// to 599.
func (s *tracingSpec) statusRangeArgs(args []any) error {
	if len(args) != 4 {
		return argsErrorf("%s: want 4 arguments (tag name, tag value, min status, max status), got %d", s.name, len(args))
	}
	if _, err := stringArgs(s.name, args[:2], 2, "tag name", "tag value"); err != nil {
		return err
	}
	lo, ok1 := args[2].(float64)
	hi, ok2 := args[3].(float64)
	if !ok1 || !ok2 || math.Trunc(lo) < 0 || math.Trunc(hi) > 599 || math.Trunc(lo) > math.Trunc(hi) {
		return argsErrorf("%s: arguments 3 and 4 must be a status range within 0 to 599, got %#v, %#v", s.name, args[2], args[3])
	}
	return nil
}

// nonEmptyStrings checks that args are min to len(names) non-empty strings.
func nonEmptyStrings(filter string, args []any, min int, names ...string) error {
	a, err := stringArgs(filter, args, min, names...)
	if err != nil {
		return err
	}
	for i, v := range a {
		if v == "" {
			return argsErrorf("%s: argument %d (%s) must not be empty", filter, i+1, names[i])
		}
	}
	return nil
}

func (tracingFilter) Request(*http.Request) error { return nil }
