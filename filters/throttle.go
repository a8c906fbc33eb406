package filters

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Route names of the filters that slow a body down, for testing how clients and backends cope.
const (
	BandwidthName        = "bandwidth"
	ChunksName           = "chunks"
	BackendBandwidthName = "backendBandwidth"
	BackendChunksName    = "backendChunks"
)

// throttleChunk is the chunk size of the bandwidth filters, Skipper's.
const throttleChunk = 512

type throttleSpec struct {
	name      string
	bandwidth bool // else chunks
	backend   bool // the request body, else the response body
}

type throttleFilter struct {
	backend   bool
	bandwidth bool
	size      int
	delay     time.Duration
}

var (
	_ Spec           = (*throttleSpec)(nil)
	_ ResponseFilter = (*throttleFilter)(nil)
)

// NewThrottleSpecs returns the specs of Skipper's body throttling filters:
//
//   - bandwidth(kbps): the answer's body at most kbps kilobytes a second, in 512-byte chunks;
//   - chunks(size, delay): the answer's body in chunks of size bytes, delay (milliseconds or a
//     duration string) before each;
//   - backendBandwidth(kbps), backendChunks(size, delay): the same for the request body sent
//     to the backend.
//
// As in Skipper, the first chunk also waits. Each chunk of an answer is flushed to the client
// as it goes. A wait ends when the client goes away.
func NewThrottleSpecs() []Spec {
	return []Spec{
		&throttleSpec{name: BandwidthName, bandwidth: true},
		&throttleSpec{name: ChunksName},
		&throttleSpec{name: BackendBandwidthName, bandwidth: true, backend: true},
		&throttleSpec{name: BackendChunksName, backend: true},
	}
}

func (s *throttleSpec) Name() string { return s.name }

func (s *throttleSpec) Create(args []any) (Filter, error) {
	f := &throttleFilter{backend: s.backend, bandwidth: s.bandwidth}
	if s.bandwidth {
		if len(args) != 1 {
			return nil, argsErrorf("%s: want 1 argument (kilobytes per second), got %d", s.name, len(args))
		}
		kbps, ok := args[0].(float64)
		if !ok || kbps <= 0 {
			return nil, argsErrorf("%s: argument 1 (kilobytes per second) must be a positive number, got %#v", s.name, args[0])
		}
		f.size = throttleChunk
		f.delay = time.Duration(float64(throttleChunk) / (kbps * 1024) * float64(time.Second))
		return f, nil
	}
	if len(args) != 2 {
		return nil, argsErrorf("%s: want 2 arguments (size, delay), got %d", s.name, len(args))
	}
	size, ok := args[0].(float64)
	if !ok || size < 1 || size > 1<<30 {
		return nil, argsErrorf("%s: argument 1 (size) must be a positive number of bytes, got %#v", s.name, args[0])
	}
	f.size = int(size)
	var err error
	if f.delay, err = latencyDuration(s.name, 2, args[1]); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *throttleFilter) Request(r *http.Request) error {
	if f.backend && r.Body != nil {
		r.Body = &throttledBody{ReadCloser: r.Body, f: f, ctx: r.Context()}
	}
	return nil
}

func (f *throttleFilter) Response(res *http.Response) error {
	if f.backend || res.Body == nil || res.StatusCode == http.StatusSwitchingProtocols {
		return nil
	}
	ctx := responseContext(res)
	res.Body = &throttledBody{ReadCloser: res.Body, f: f, ctx: ctx}
	// An unknown length has the proxy flush every write, so each chunk reaches the client when
	// it is sent; a Content-Length header, if any, still frames the answer.
	res.ContentLength = -1
	return nil
}

// throttledBody hands its body out in the filter's chunks, waiting before each.
type throttledBody struct {
	io.ReadCloser
	f     *throttleFilter
	ctx   context.Context
	left  int       // of the current chunk
	start time.Time // of the current chunk
}

func (b *throttledBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		d := b.f.delay
		if b.f.bandwidth && !b.start.IsZero() {
			d -= time.Since(b.start) // the time the last chunk took counts
		}
		if err := waitFor(b.ctx, d); err != nil {
			return 0, err
		}
		b.left, b.start = b.f.size, time.Now()
	}
	n, err := b.ReadCloser.Read(p[:min(len(p), b.left)])
	b.left -= n
	return n, err
}

// waitFor waits d, or until ctx is done, and then returns ctx's error.
func waitFor(ctx context.Context, d time.Duration) error {
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return ctx.Err()
}
