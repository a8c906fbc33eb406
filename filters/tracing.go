package filters

import (
	"math"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"
)

// Route names of Skipper's tracing filters. They act on the request's server span, which the
// proxy puts in the request's context with -open-telemetry; without it there is none, and they
// do nothing.
const (
	TracingTagName                     = "tracingTag"
	TracingTagFromResponseName         = "tracingTagFromResponse"
	TracingTagFromResponseIfStatusName = "tracingTagFromResponseIfStatus"
	TracingBaggageToTagName            = "tracingBaggageToTag"
	TracingSpanNameName                = "tracingSpanName"
	StateBagToTagName                  = "stateBagToTag"
)

type tracingSpec struct{ name string }

// tracingFilter does nothing: stateBagToTag, whose state bag items this egress proxy has no
// filter to fill (in Skipper: OAuth2 tokeninfo, JWT).
type tracingFilter struct{}

// tagFilter is tracingTag (response false) and tracingTagFromResponse[IfStatus] (response true,
// with the status range lo to hi).
type tagFilter struct {
	name     string
	value    template
	response bool
	lo, hi   int
}

// baggageTagFilter is tracingBaggageToTag: a member of the client's baggage becomes an
// attribute.
type baggageTagFilter struct{ item, tag string }

// spanNameFilter is tracingSpanName: the name of the client span of the backend call.
type spanNameFilter struct{ name string }

var (
	_ Spec           = (*tracingSpec)(nil)
	_ Filter         = tracingFilter{}
	_ ResponseFilter = (*tagFilter)(nil)
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
	switch s.name {
	case TracingTagName, TracingTagFromResponseName:
		a, err := stringArgs(s.name, args, 2, "tag name", "tag value")
		if err != nil {
			return nil, err
		}
		return &tagFilter{name: a[0], value: parseTemplate(a[1]), response: s.name == TracingTagFromResponseName, hi: 599}, nil
	case TracingTagFromResponseIfStatusName:
		return s.statusRangeArgs(args)
	case TracingSpanNameName:
		a, err := stringArgs(s.name, args, 1, "span name")
		if err != nil {
			return nil, err
		}
		return spanNameFilter{a[0]}, nil
	case TracingBaggageToTagName:
		// Skipper ignores arguments past the second.
		if err := nonEmptyStrings(s.name, args[:min(len(args), 2)], 1, "baggage item", "tag name"); err != nil {
			return nil, err
		}
		f := baggageTagFilter{item: args[0].(string), tag: args[0].(string)}
		if len(args) > 1 {
			f.tag = args[1].(string)
		}
		return f, nil
	default: // StateBagToTagName
		if err := nonEmptyStrings(s.name, args, 1, "state bag item", "tag name"); err != nil {
			return nil, err
		}
		return tracingFilter{}, nil
	}
}

// statusRangeArgs reads (name, value, min, max): two strings, then a status range within 0
// to 599.
func (s *tracingSpec) statusRangeArgs(args []any) (Filter, error) {
	if len(args) != 4 {
		return nil, argsErrorf("%s: want 4 arguments (tag name, tag value, min status, max status), got %d", s.name, len(args))
	}
	a, err := stringArgs(s.name, args[:2], 2, "tag name", "tag value")
	if err != nil {
		return nil, err
	}
	lo, ok1 := args[2].(float64)
	hi, ok2 := args[3].(float64)
	if !ok1 || !ok2 || math.Trunc(lo) < 0 || math.Trunc(hi) > 599 || math.Trunc(lo) > math.Trunc(hi) {
		return nil, argsErrorf("%s: arguments 3 and 4 must be a status range within 0 to 599, got %#v, %#v", s.name, args[2], args[3])
	}
	return &tagFilter{name: a[0], value: parseTemplate(a[1]), response: true, lo: int(lo), hi: int(hi)}, nil
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

// Request sets tracingTag's attribute on the server span, when its value's placeholders all
// resolve, as Skipper.
func (f *tagFilter) Request(r *http.Request) error {
	if !f.response {
		f.tag(r, nil)
	}
	return nil
}

// Response sets tracingTagFromResponse's attribute, for an answer in the status range.
func (f *tagFilter) Response(res *http.Response) error {
	if f.response && res.Request != nil && res.StatusCode >= f.lo && res.StatusCode <= f.hi {
		f.tag(res.Request, res)
	}
	return nil
}

func (f *tagFilter) tag(r *http.Request, res *http.Response) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	if v, ok := f.value.expand(r, res); ok {
		span.SetAttributes(attribute.String(f.name, v))
	}
}

// Request copies the baggage member, when the client sent it, to the server span.
func (f baggageTagFilter) Request(r *http.Request) error {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return nil
	}
	if v := baggage.FromContext(r.Context()).Member(f.item).Value(); v != "" {
		span.SetAttributes(attribute.String(f.tag, v))
	}
	return nil
}

// Request names the client span of the request's backend call.
func (f spanNameFilter) Request(r *http.Request) error {
	if e := ExchangeOf(r); e != nil {
		e.spanName = f.name
	}
	return nil
}

// SpanName returns the name the route's tracingSpanName filter gave the client span of the
// backend call; "" if none did.
func (e *Exchange) SpanName() string { return e.spanName }
