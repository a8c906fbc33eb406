package filters

import (
	"net/http"
	"time"
)

// Route names of the filters that bound the proxy's exchange with its client.
const (
	ReadTimeoutName  = "readTimeout"
	WriteTimeoutName = "writeTimeout"
)

// ReadTimeouter is implemented by the readTimeout filter. When the proxy sends a request with
// a body to a backend, it gives reading that body from the client a deadline this far away;
// a client still uploading when it passes gets 408 and the connection is closed. When a route
// holds several, the last one counts.
type ReadTimeouter interface {
	// ReadTimeout returns how long reading the client's request body may take.
	ReadTimeout() time.Duration
}

// WriteTimeouter is implemented by the writeTimeout filter. The proxy gives writing the answer
// to the client a deadline this far away, starting when the answer is ready (the backend's
// response headers arrived, or the proxy answers itself); a client that has not taken the
// whole answer by then has its connection closed, with the response cut short. When a route
// holds several, the last one counts.
type WriteTimeouter interface {
	// WriteTimeout returns how long writing the response to the client may take.
	WriteTimeout() time.Duration
}

type clientTimeoutSpec struct{ name string }

type readTimeoutFilter struct{ d time.Duration }

type writeTimeoutFilter struct{ d time.Duration }

var (
	_ Spec           = (*clientTimeoutSpec)(nil)
	_ ReadTimeouter  = (*readTimeoutFilter)(nil)
	_ WriteTimeouter = (*writeTimeoutFilter)(nil)
)

// NewReadTimeout returns the spec of readTimeout(duration), Skipper's filter that sets a read
// deadline on the client's connection before the request is sent to the backend. The deadline
// bounds reading the request body and is lifted once the body has been read to its end: a slow
// backend is backendTimeout's business. duration is a positive Go duration string such as
// "10s". It changes nothing in the request.
func NewReadTimeout() Spec { return &clientTimeoutSpec{name: ReadTimeoutName} }

// NewWriteTimeout returns the spec of writeTimeout(duration), Skipper's filter that sets a
// write deadline on the client's connection once the response is ready to be sent. duration is
// a positive Go duration string such as "10s". It changes nothing in the request.
func NewWriteTimeout() Spec { return &clientTimeoutSpec{name: WriteTimeoutName} }

func (s *clientTimeoutSpec) Name() string { return s.name }

func (s *clientTimeoutSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(s.name, args, 1, "duration")
	if err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(a[0])
	if err != nil {
		return nil, argsErrorf("%s: argument 1 (duration) %q is not a duration", s.name, a[0])
	}
	if d <= 0 {
		return nil, argsErrorf("%s: argument 1 (duration) must be positive, got %s", s.name, a[0])
	}
	if s.name == ReadTimeoutName {
		return &readTimeoutFilter{d: d}, nil
	}
	return &writeTimeoutFilter{d: d}, nil
}

func (*readTimeoutFilter) Request(*http.Request) error { return nil }

// ReadTimeout returns how long reading the client's request body may take.
func (f *readTimeoutFilter) ReadTimeout() time.Duration { return f.d }

func (*writeTimeoutFilter) Request(*http.Request) error { return nil }

// WriteTimeout returns how long writing the response to the client may take.
func (f *writeTimeoutFilter) WriteTimeout() time.Duration { return f.d }
