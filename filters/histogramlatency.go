package filters

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// Route names of the filters that add latency drawn from a histogram.
const (
	HistogramRequestLatencyName  = "histogramRequestLatency"
	HistogramResponseLatencyName = "histogramResponseLatency"
)

type histogramLatencySpec struct {
	name     string
	response bool
}

type histogramLatencyFilter struct {
	response bool
	bounds   []time.Duration // len(weights)+1, increasing
	weights  []float64       // summing to 1
}

var (
	_ Spec           = (*histogramLatencySpec)(nil)
	_ ResponseFilter = (*histogramLatencyFilter)(nil)
)

// NewHistogramLatencySpecs returns the specs of histogramRequestLatency(d0, w1, d1, ..., wn, dn)
// and histogramResponseLatency(...), as Skipper's: the durations (strings such as "5ms",
// increasing, not negative) bound n buckets, and the numbers weigh them (not negative, not all
// zero). Each request picks a bucket by weight and waits a uniformly random time within it,
// before calling the backend or, for the response filter, before passing on the answer; a wait
// ends early when the client goes away.
func NewHistogramLatencySpecs() []Spec {
	return []Spec{
		&histogramLatencySpec{name: HistogramRequestLatencyName},
		&histogramLatencySpec{name: HistogramResponseLatencyName, response: true},
	}
}

func (s *histogramLatencySpec) Name() string { return s.name }

func (s *histogramLatencySpec) Create(args []any) (Filter, error) {
	if len(args) < 3 || len(args)%2 != 1 {
		return nil, argsErrorf("%s: want an odd number of arguments, at least 3 (duration, weight, duration[, weight, duration...]), got %d", s.name, len(args))
	}
	f := &histogramLatencyFilter{response: s.response}
	sum := 0.0
	for i, a := range args {
		if i%2 == 1 {
			w, ok := a.(float64)
			if !ok || w < 0 {
				return nil, argsErrorf("%s: argument %d (weight) must be a number not below 0, got %v", s.name, i+1, a)
			}
			f.weights = append(f.weights, w)
			sum += w
			continue
		}
		ds, ok := a.(string)
		if !ok {
			return nil, argsErrorf("%s: argument %d (bound) must be a duration string, got %T", s.name, i+1, a)
		}
		d, err := time.ParseDuration(ds)
		if err != nil {
			return nil, argsErrorf("%s: argument %d (bound): %v", s.name, i+1, err)
		}
		if d < 0 || (len(f.bounds) > 0 && d <= f.bounds[len(f.bounds)-1]) {
			return nil, argsErrorf("%s: argument %d (bound) must be above the one before and not negative, got %v", s.name, i+1, d)
		}
		f.bounds = append(f.bounds, d)
	}
	if sum == 0 {
		return nil, argsErrorf("%s: the weights must not all be 0", s.name)
	}
	for i := range f.weights {
		f.weights[i] /= sum
	}
	return f, nil
}

func (f *histogramLatencyFilter) Request(r *http.Request) error {
	if !f.response {
		sleep(r.Context(), f.delay())
	}
	return nil
}

func (f *histogramLatencyFilter) Response(res *http.Response) error {
	if f.response {
		ctx := responseContext(res)
		sleep(ctx, f.delay())
	}
	return nil
}

// delay draws one wait: a bucket by weight, then a time within it.
func (f *histogramLatencyFilter) delay() time.Duration {
	x, i := rand.Float64(), 0
	for ; i < len(f.weights)-1; i++ {
		if x < f.weights[i] {
			break
		}
		x -= f.weights[i]
	}
	for f.weights[i] == 0 { // x fell past the last weight by rounding: the last bucket that has one
		i--
	}
	lo, hi := f.bounds[i], f.bounds[i+1]
	return lo + time.Duration(rand.Int64N(int64(hi-lo)))
}
