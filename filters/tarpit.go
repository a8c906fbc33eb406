package filters

import (
	"context"
	"io"
	"net/http"
	"time"
)

// TarpitName is the route name of the tarpit filter.
const TarpitName = "tarpit"

type tarpitSpec struct{}

type tarpitFilter struct{ interval time.Duration }

var (
	_ Spec           = tarpitSpec{}
	_ Filter         = (*tarpitFilter)(nil)
	_ ResponseFilter = (*tarpitFilter)(nil)
)

// defaultTarpitInterval is the interval of a tarpit given zero or a negative duration.
const defaultTarpitInterval = time.Second

// NewTarpit returns the spec of tarpit(interval), Skipper's answer for clients to be kept
// busy: status 200 and a body that never ends, one space every interval, each flushed as it
// is written. The backend is not called. The answer lasts until the client goes away (or a
// writeTimeout of the route ends it); it holds nothing but the request's own handler and
// connection, and stops at once when the client's context ends. interval is a duration
// string; Skipper loads a zero or negative one, and so does this filter, which then waits
// defaultTarpitInterval rather than sending spaces as fast as the connection takes them.
func NewTarpit() Spec { return tarpitSpec{} }

func (tarpitSpec) Name() string { return TarpitName }

func (tarpitSpec) Create(args []any) (Filter, error) {
	if len(args) != 1 {
		return nil, argsErrorf("%s: want 1 argument (interval), got %d", TarpitName, len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, argsErrorf("%s: argument 1 (interval) must be a duration string, got %#v", TarpitName, args[0])
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return nil, argsErrorf("%s: argument 1 (interval) must be a duration, got %q", TarpitName, s)
	}
	if d <= 0 {
		d = defaultTarpitInterval
	}
	return &tarpitFilter{interval: d}, nil
}

// Request answers; Response, which runs on that answer, gives it its endless body.
func (f *tarpitFilter) Request(*http.Request) error { return &Reply{Status: http.StatusOK} }

func (f *tarpitFilter) Response(res *http.Response) error {
	res.Body = io.NopCloser(&tarpitReader{ctx: responseContext(res), interval: f.interval})
	res.ContentLength = -1
	res.Header.Del("Content-Length")
	return nil
}

// tarpitReader yields one space per interval until ctx ends. It waits in the reading
// goroutine, the request's handler, and starts none.
type tarpitReader struct {
	ctx      context.Context
	interval time.Duration
}

func (r *tarpitReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	t := time.NewTimer(r.interval)
	defer t.Stop()
	select {
	case <-r.ctx.Done():
		return 0, r.ctx.Err()
	case <-t.C:
		p[0] = ' '
		return 1, nil
	}
}
