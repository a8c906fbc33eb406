package filters

import (
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// PhysicsShedderName is the route name of Skipper's latency-driven load shedder.
const PhysicsShedderName = "physicsShedder"

// The constants of Skipper's physicsShedder.
const (
	shedTick        = 100 * time.Millisecond // one slot of the observation window
	shedAlpha       = 0.01                   // EWMA weight of each tick's resistance
	shedSigmas      = 3.0                    // the threshold is mu + 3 sigma
	shedErrorWeight = 5.0                    // weight of the error rate in the resistance
	shedMaxReject   = 0.95                   // highest probability of a refusal
	shedWarmupTicks = 50                     // ticks observed before anything is refused
	shedMinWindow   = 2 * shedTick
	shedMaxWindow   = 60 * time.Second
	// shedMaxCatchUp bounds the ticks computed at once after an idle spell: after 10,000 ticks
	// (1000 s) an EWMA of weight 0.01 has forgotten everything before them.
	shedMaxCatchUp = 10_000
)

// Header of the answers load shedders make, so that another shedder does not count them.
const (
	headerAdmissionControl = "Admission-Control"
	admissionControlValue  = "true"
)

type shedMode uint8

const (
	shedActive shedMode = iota
	shedInactive
	shedLogInactive
)

type physicsShedderSpec struct {
	now func() time.Time
	log logrus.FieldLogger
}

// physicsShedder is one route's shedder. Requests add to the current tick's counters; the
// first request after a tick boundary folds the ticks that passed into the window and computes
// the probability of refusal that requests read until the next boundary. It owns no goroutine.
type physicsShedder struct {
	suffix string
	mode   shedMode
	target time.Duration
	now    func() time.Time
	log    logrus.FieldLogger

	// the current tick's observations
	reqs, errs, latency atomic.Int64
	reject              atomic.Uint64 // float64 bits of the probability of refusal
	next                atomic.Int64  // unix nanoseconds of the next tick boundary

	mu                  sync.Mutex // guards the window and the baseline
	totals, errors, lat []int64    // one slot per tick
	slot, ticks         int
	mean, variance      float64 // EWMA of the resistance
	primed              bool
}

var (
	_ Spec           = (*physicsShedderSpec)(nil)
	_ Filter         = (*physicsShedder)(nil)
	_ ResponseFilter = (*physicsShedder)(nil)
)

// NewPhysicsShedder returns the spec of Skipper's physicsShedder(metricSuffix, mode,
// latencyTarget[, window]), a route's load shedder driven by latency and errors.
//
// Each response the route answers (the backend's or a filter's, not those of another shedder)
// adds to a window of window/100ms ticks (default 5 s, from 200 ms to 60 s): its latency, from
// the filter to the response, and whether its status is 500 or more. Every tick, the resistance
// R = average latency / latencyTarget + 5 * error rate over the window feeds an exponentially
// weighted mean mu and deviation sigma (weight 0.01); when R exceeds mu + 3 sigma, requests are
// refused with probability (R - threshold) / R, at most 0.95, and never in the first 50 ticks.
// In mode "active" a refused request is answered 503 with "Admission-Control: true" and goes no
// further; "inactive" and "logInactive" refuse nothing ("logInactive" logs each tick's figures
// to log at info). metricSuffix names the shedder in the log. now is the clock (time.Now if
// nil).
func NewPhysicsShedder(now func() time.Time, log logrus.FieldLogger) Spec {
	if now == nil {
		now = time.Now
	}
	return &physicsShedderSpec{now: now, log: log}
}

func (*physicsShedderSpec) Name() string { return PhysicsShedderName }

func (s *physicsShedderSpec) Create(args []any) (Filter, error) {
	const name = PhysicsShedderName
	if len(args) < 3 || len(args) > 4 {
		return nil, argsErrorf("%s: want arguments (metricSuffix, mode, latencyTarget[, window]), got %d", name, len(args))
	}
	suffix, ok := args[0].(string)
	if !ok || suffix == "" {
		return nil, argsErrorf("%s: argument 1 (metricSuffix) must be a non-empty string", name)
	}
	var mode shedMode
	switch args[1] {
	case "active":
		mode = shedActive
	case "inactive":
		mode = shedInactive
	case "logInactive":
		mode = shedLogInactive
	default:
		return nil, argsErrorf("%s: argument 2 (mode) must be \"active\", \"inactive\" or \"logInactive\", got %v", name, args[1])
	}
	target, err := latencyDuration(name, 3, args[2])
	if err != nil {
		return nil, err
	}
	if target <= 0 {
		return nil, argsErrorf("%s: argument 3 (latencyTarget) must be positive", name)
	}
	window := 5 * time.Second
	if len(args) == 4 {
		if window, err = latencyDuration(name, 4, args[3]); err != nil {
			return nil, err
		}
		if window < shedMinWindow || window > shedMaxWindow {
			return nil, argsErrorf("%s: argument 4 (window) must be from %v to %v, got %v", name, shedMinWindow, shedMaxWindow, window)
		}
	}
	n := int(window / shedTick)
	f := &physicsShedder{
		suffix: suffix, mode: mode, target: target, now: s.now, log: s.log,
		totals: make([]int64, n), errors: make([]int64, n), lat: make([]int64, n),
	}
	f.next.Store(s.now().Add(shedTick).UnixNano())
	return f, nil
}

// Request refuses the request with the current probability, in mode active, and otherwise
// notes when it started.
func (f *physicsShedder) Request(r *http.Request) error {
	now := f.now()
	if now.UnixNano() >= f.next.Load() {
		f.tick(now)
	}
	if p := math.Float64frombits(f.reject.Load()); p > 0 && p > rand.Float64() && f.mode == shedActive {
		return &Reply{Status: http.StatusServiceUnavailable,
			Header: http.Header{headerAdmissionControl: {admissionControlValue}}}
	}
	if e := ExchangeOf(r); e != nil {
		e.shedStart = now
	}
	return nil
}

// Response counts the answer in the current tick: its latency and whether it is an error.
func (f *physicsShedder) Response(res *http.Response) error {
	if res.Header.Get(headerAdmissionControl) == admissionControlValue {
		return nil // a shedder's own refusal, this one's or another's
	}
	f.reqs.Add(1)
	if res.StatusCode >= http.StatusInternalServerError {
		f.errs.Add(1)
	}
	if res.Request != nil {
		if e := ExchangeOf(res.Request); e != nil && !e.shedStart.IsZero() {
			f.latency.Add(int64(f.now().Sub(e.shedStart)))
		}
	}
	return nil
}

// tick folds the ticks that ended by now into the window, and computes the probability of
// refusal until the next boundary.
func (f *physicsShedder) tick(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.next.Load()
	if now.UnixNano() < next {
		return // another request did it
	}
	due := int((now.UnixNano()-next)/int64(shedTick)) + 1
	f.next.Store(next + int64(due)*int64(shedTick))
	var r, threshold, p float64
	for i := range min(due, shedMaxCatchUp) {
		if i == 0 { // what was observed belongs to the first tick; the others were idle
			f.totals[f.slot], f.errors[f.slot], f.lat[f.slot] = f.reqs.Swap(0), f.errs.Swap(0), f.latency.Swap(0)
		} else {
			f.totals[f.slot], f.errors[f.slot], f.lat[f.slot] = 0, 0, 0
		}
		f.slot = (f.slot + 1) % len(f.totals)
		f.ticks = min(f.ticks+1, math.MaxInt32)
		r = f.resistance()
		threshold = f.baseline(r)
		p = 0.0
		if f.ticks >= shedWarmupTicks && r > threshold && r > 0 {
			p = min((r-threshold)/r, shedMaxReject)
		}
	}
	f.reject.Store(math.Float64bits(p))
	if f.mode == shedLogInactive && f.log != nil {
		f.log.WithFields(logrus.Fields{"shedder": f.suffix, "R": r, "mu": f.mean, "sigma": math.Sqrt(f.variance),
			"threshold": threshold, "pReject": p, "ticks": f.ticks}).Info(PhysicsShedderName)
	}
}

// resistance is the window's average latency over the target plus the weighted error rate.
func (f *physicsShedder) resistance() float64 {
	var reqs, errs, lat int64
	for i := range f.totals {
		reqs += f.totals[i]
		errs += f.errors[i]
		lat += f.lat[i]
	}
	if reqs == 0 {
		return 0
	}
	return float64(lat)/float64(reqs)/float64(f.target) + shedErrorWeight*float64(errs)/float64(reqs)
}

// baseline moves the EWMA mean and variance towards r and returns the threshold mu + 3 sigma.
func (f *physicsShedder) baseline(r float64) float64 {
	if !f.primed {
		f.mean, f.variance, f.primed = r, 0, true
	} else {
		d := r - f.mean
		f.mean += shedAlpha * d
		f.variance = (1 - shedAlpha) * (f.variance + shedAlpha*d*d)
	}
	return f.mean + shedSigmas*math.Sqrt(f.variance)
}
