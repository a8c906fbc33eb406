package filters

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"
)

// Route names of the filters that add latency, for testing how clients and backends cope.
const (
	LatencyName                = "latency"
	BackendLatencyName         = "backendLatency"
	UniformRequestLatencyName  = "uniformRequestLatency"
	NormalRequestLatencyName   = "normalRequestLatency"
	UniformResponseLatencyName = "uniformResponseLatency"
	NormalResponseLatencyName  = "normalResponseLatency"
)

type latencySpec struct {
	name     string
	response bool // the delay is before the answer, not before the backend call
	jitter   func() float64
}

type latencyFilter struct {
	response     bool
	mean, spread time.Duration
	jitter       func() float64 // nil for a fixed delay
}

var (
	_ Spec           = (*latencySpec)(nil)
	_ ResponseFilter = (*latencyFilter)(nil)
)

// NewLatencySpecs returns the specs of Skipper's latency filters. A duration is a number of
// milliseconds or a string such as "120ms"; a wait ends early when the client goes away.
//
//   - latency(d): waits d before passing on the answer;
//   - backendLatency(d): waits d before calling the backend;
//   - uniformRequestLatency(mean, delta), normalRequestLatency(mean, delta): wait before the
//     backend call for mean plus delta times a random number, uniform in [-1, 1) or normally
//     distributed;
//   - uniformResponseLatency(mean, delta), normalResponseLatency(mean, delta): the same
//     before passing on the answer.
func NewLatencySpecs() []Spec {
	uniform := func() float64 { return 2*rand.Float64() - 1 }
	return []Spec{
		&latencySpec{name: LatencyName, response: true},
		&latencySpec{name: BackendLatencyName},
		&latencySpec{name: UniformRequestLatencyName, jitter: uniform},
		&latencySpec{name: NormalRequestLatencyName, jitter: rand.NormFloat64},
		&latencySpec{name: UniformResponseLatencyName, response: true, jitter: uniform},
		&latencySpec{name: NormalResponseLatencyName, response: true, jitter: rand.NormFloat64},
	}
}

func (s *latencySpec) Name() string { return s.name }

func (s *latencySpec) Create(args []any) (Filter, error) {
	want := 1
	if s.jitter != nil {
		want = 2
	}
	if len(args) != want {
		if want == 1 {
			return nil, argsErrorf("%s: want 1 argument (duration), got %d", s.name, len(args))
		}
		return nil, argsErrorf("%s: want 2 arguments (mean, delta), got %d", s.name, len(args))
	}
	f := &latencyFilter{response: s.response, jitter: s.jitter}
	var err error
	if f.mean, err = latencyDuration(s.name, 1, args[0]); err != nil {
		return nil, err
	}
	if want == 2 {
		if f.spread, err = latencyDuration(s.name, 2, args[1]); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// latencyDuration reads a duration argument: milliseconds, or a Go duration string.
func latencyDuration(filter string, pos int, a any) (time.Duration, error) {
	var d time.Duration
	switch v := a.(type) {
	case float64:
		d = time.Duration(v * float64(time.Millisecond))
	case string:
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, argsErrorf("%s: argument %d: %v", filter, pos, err)
		}
	default:
		return 0, argsErrorf("%s: argument %d must be milliseconds or a duration string, got %T", filter, pos, a)
	}
	if d < 0 {
		return 0, argsErrorf("%s: argument %d must not be negative, got %v", filter, pos, d)
	}
	return d, nil
}

func (f *latencyFilter) Request(r *http.Request) error {
	if !f.response {
		f.wait(r.Context())
	}
	return nil
}

func (f *latencyFilter) Response(res *http.Response) error {
	if f.response {
		ctx := responseContext(res)
		f.wait(ctx)
	}
	return nil
}

// wait waits the filter's delay, or until ctx is done.
func (f *latencyFilter) wait(ctx context.Context) {
	d := f.mean
	if f.jitter != nil {
		d += time.Duration(f.jitter() * float64(f.spread))
	}
	sleep(ctx, d)
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// responseContext is the context of the request res answers, or context.Background() for an
// answer without one.
func responseContext(res *http.Response) context.Context {
	if res.Request != nil {
		return res.Request.Context()
	}
	return context.Background()
}
