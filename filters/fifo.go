package filters

import (
	"context"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Route names of the filters that limit how many requests of a route run at once.
const (
	FifoName         = "fifo"
	FifoWithBodyName = "fifoWithBody"
)

type fifoSpec struct{ withBody bool }

type fifoFilter struct {
	withBody bool
	slots    chan struct{} // one per request under way
	waiting  atomic.Int64  // requests waiting for a slot
	maxQueue int64
	timeout  time.Duration
}

var (
	_ Spec           = (*fifoSpec)(nil)
	_ ResponseFilter = (*fifoFilter)(nil)
)

// NewFifo returns the spec of fifo(maxConcurrency, maxQueueSize, timeout), which, as Skipper's,
// lets at most maxConcurrency requests of the route through at once; up to maxQueueSize more
// wait, in order, at most timeout (a duration string or milliseconds) each. A request that
// finds the queue full gets 503, one that waited too long 502; neither reaches the backend. A
// request holds its place until its answer's header is there.
func NewFifo() Spec { return &fifoSpec{} }

// NewFifoWithBody returns the spec of fifoWithBody(...), fifo where a request holds its place
// until its answer's body has been sent too.
func NewFifoWithBody() Spec { return &fifoSpec{withBody: true} }

func (s *fifoSpec) Name() string {
	if s.withBody {
		return FifoWithBodyName
	}
	return FifoName
}

func (s *fifoSpec) Create(args []any) (Filter, error) {
	if len(args) != 3 {
		return nil, argsErrorf("%s: want 3 arguments (max concurrency, max queue size, timeout), got %d", s.Name(), len(args))
	}
	cc, ok := args[0].(float64)
	if !ok || cc < 1 || cc != math.Trunc(cc) || cc > 1<<20 {
		return nil, argsErrorf("%s: argument 1 (max concurrency) must be a whole number from 1, got %#v", s.Name(), args[0])
	}
	q, ok := args[1].(float64)
	if !ok || q < 0 || q != math.Trunc(q) || q > 1<<30 {
		return nil, argsErrorf("%s: argument 2 (max queue size) must be a whole number from 0, got %#v", s.Name(), args[1])
	}
	timeout, err := latencyDuration(s.Name(), 3, args[2])
	if err != nil {
		return nil, err
	}
	return &fifoFilter{withBody: s.withBody, slots: make(chan struct{}, int(cc)), maxQueue: int64(q), timeout: timeout}, nil
}

// Request takes a slot, waiting in the queue if need be. The slot goes back when the answer's
// header is there (fifo) or, at the latest, when the proxy is done with the request, which is
// when the server cancels its context.
func (f *fifoFilter) Request(r *http.Request) error {
	select {
	case f.slots <- struct{}{}:
	default:
		if f.waiting.Add(1) > f.maxQueue {
			f.waiting.Add(-1)
			return &Reply{Status: http.StatusServiceUnavailable}
		}
		t := time.NewTimer(f.timeout)
		defer t.Stop()
		select {
		case f.slots <- struct{}{}:
			f.waiting.Add(-1)
		case <-t.C:
			f.waiting.Add(-1)
			return &Reply{Status: http.StatusBadGateway}
		case <-r.Context().Done():
			f.waiting.Add(-1)
			return r.Context().Err()
		}
	}
	release := sync.OnceFunc(func() { <-f.slots })
	context.AfterFunc(r.Context(), release)
	if e := ExchangeOf(r); e != nil && !f.withBody {
		e.queueRelease = append(e.queueRelease, release)
	}
	return nil
}

// Response gives fifo's slots back once the answer's header is there.
func (f *fifoFilter) Response(res *http.Response) error {
	if f.withBody || res.Request == nil {
		return nil
	}
	releaseQueuePlaces(res.Request)
	return nil
}

// releaseQueuePlaces gives back the places that r's fifo and lifo filters took, once r's answer
// has its header.
func releaseQueuePlaces(r *http.Request) {
	if e := ExchangeOf(r); e != nil {
		for _, release := range e.queueRelease {
			release()
		}
		e.queueRelease = nil
	}
}
