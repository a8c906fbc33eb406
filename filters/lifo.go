package filters

import (
	"context"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Route names of the filters that limit concurrency and serve the latest waiting request first.
const (
	LifoName      = "lifo"
	LifoGroupName = "lifoGroup"
)

// Skipper's defaults of lifo and lifoGroup.
const (
	lifoDefaultConcurrency = 100
	lifoDefaultStack       = 100
	lifoDefaultTimeout     = 10 * time.Second
)

type lifoSpec struct {
	group  bool
	mu     sync.Mutex
	groups map[string]*lifoQueue // lifoGroup's queues, by group name
}

type lifoFilter struct{ q *lifoQueue }

var (
	_ Spec           = (*lifoSpec)(nil)
	_ ResponseFilter = (*lifoFilter)(nil)
)

// NewLifo returns the spec of lifo([maxConcurrency[, maxStackSize[, timeout]]]), which, as
// Skipper's, lets at most maxConcurrency (default 100) requests of the route through at once
// and keeps up to maxStackSize (default 100) more waiting, serving the latest first; when the
// stack is full, the request that waited longest gets 503, and one that waits past timeout
// (default 10s) gets 502. A request holds its place until its answer's header is there, or at
// the latest until the proxy is done with it.
func NewLifo() Spec { return &lifoSpec{} }

// NewLifoGroup returns the spec of lifoGroup(name[, maxConcurrency[, maxStackSize[,
// timeout]]]), lifo shared by every route of the group; the first route of a group to load
// sets its limits, as in Skipper.
func NewLifoGroup() Spec { return &lifoSpec{group: true, groups: make(map[string]*lifoQueue)} }

func (s *lifoSpec) Name() string {
	if s.group {
		return LifoGroupName
	}
	return LifoName
}

func (s *lifoSpec) Create(args []any) (Filter, error) {
	var group string
	if s.group {
		if len(args) == 0 {
			return nil, argsErrorf("%s: want 1 to 4 arguments (name[, max concurrency[, max stack size[, timeout]]]), got 0", s.Name())
		}
		g, ok := args[0].(string)
		if !ok || g == "" {
			return nil, argsErrorf("%s: argument 1 (name) must be a non-empty string", s.Name())
		}
		group, args = g, args[1:]
	}
	if len(args) > 3 {
		return nil, argsErrorf("%s: too many arguments", s.Name())
	}
	q := &lifoQueue{max: lifoDefaultConcurrency, maxStack: lifoDefaultStack, timeout: lifoDefaultTimeout}
	pos := 1
	if s.group {
		pos = 2
	}
	for i, a := range args {
		if i == 2 {
			d, err := latencyDuration(s.Name(), pos+i, a)
			if err != nil {
				return nil, err
			}
			q.timeout = d
			continue
		}
		n, ok := a.(float64)
		if !ok || n < float64(1-i) || n != math.Trunc(n) || n > 1<<30 {
			return nil, argsErrorf("%s: argument %d must be a whole number from %d, got %#v", s.Name(), pos+i, 1-i, a)
		}
		if i == 0 {
			q.max = int(n)
		} else {
			q.maxStack = int(n)
		}
	}
	if s.group {
		s.mu.Lock()
		if g, ok := s.groups[group]; ok {
			q = g
		} else {
			s.groups[group] = q
		}
		s.mu.Unlock()
	}
	return &lifoFilter{q: q}, nil
}

func (f *lifoFilter) Request(r *http.Request) error {
	if status := f.q.acquire(r.Context()); status != 0 {
		if status < 0 {
			return r.Context().Err()
		}
		return &Reply{Status: status}
	}
	release := sync.OnceFunc(f.q.release)
	context.AfterFunc(r.Context(), release)
	if e := ExchangeOf(r); e != nil {
		e.queueRelease = append(e.queueRelease, release)
	}
	return nil
}

// Response gives the request's places back once the answer's header is there.
func (f *lifoFilter) Response(res *http.Response) error {
	if res.Request == nil {
		return nil
	}
	releaseQueuePlaces(res.Request)
	return nil
}

// lifoQueue hands out max places; requests that find none wait on a stack, the latest on top.
type lifoQueue struct {
	max, maxStack int
	timeout       time.Duration

	mu     sync.Mutex
	active int
	stack  []chan bool // true: a place was handed over; false: dropped from a full stack
}

// acquire takes a place: 0 when it has one, 503 or 502 when refused, -1 when ctx ended first.
func (q *lifoQueue) acquire(ctx context.Context) int {
	q.mu.Lock()
	if q.active < q.max && len(q.stack) == 0 {
		q.active++
		q.mu.Unlock()
		return 0
	}
	if q.maxStack == 0 {
		q.mu.Unlock()
		return http.StatusServiceUnavailable
	}
	if len(q.stack) >= q.maxStack {
		q.stack[0] <- false // the one that waited longest
		q.stack = q.stack[1:]
	}
	w := make(chan bool, 1)
	q.stack = append(q.stack, w)
	q.mu.Unlock()

	t := time.NewTimer(q.timeout)
	defer t.Stop()
	status := http.StatusBadGateway
	select {
	case ok := <-w:
		return placeOr503(ok)
	case <-t.C:
	case <-ctx.Done():
		status = -1
	}
	q.mu.Lock()
	if i := slices.Index(q.stack, w); i >= 0 {
		q.stack = slices.Delete(q.stack, i, i+1)
		q.mu.Unlock()
		return status
	}
	q.mu.Unlock()
	ok := <-w // handed a place, or dropped, just as it gave up
	if ok && status < 0 {
		q.release()
		return status
	}
	return placeOr503(ok)
}

func placeOr503(ok bool) int {
	if ok {
		return 0
	}
	return http.StatusServiceUnavailable
}

// release gives a place back: to the latest waiting request, or to the pool.
func (q *lifoQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.stack); n > 0 {
		w := q.stack[n-1]
		q.stack = q.stack[:n-1]
		w <- true
		return
	}
	q.active--
}
