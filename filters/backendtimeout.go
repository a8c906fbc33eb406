package filters

import (
	"net/http"
	"time"
)

// BackendTimeoutName is the route name of the filter that bounds the backend call.
const BackendTimeoutName = "backendTimeout"

// BackendTimeouter is implemented by the backendTimeout filter. The proxy looks for it on a
// route and gives the backend call a deadline this far away; when it passes, the client gets
// 504. When a route holds several, the last one counts.
type BackendTimeouter interface {
	// BackendTimeout returns how long the backend call may take.
	BackendTimeout() time.Duration
}

type backendTimeoutSpec struct{}

type backendTimeoutFilter struct{ d time.Duration }

var (
	_ Spec             = (*backendTimeoutSpec)(nil)
	_ Filter           = (*backendTimeoutFilter)(nil)
	_ BackendTimeouter = (*backendTimeoutFilter)(nil)
)

// NewBackendTimeout returns the spec of backendTimeout(duration), which bounds the call to the
// route's backend, response body included, to duration: a positive Go duration string such
// as "200ms" or "1m30s". It changes nothing in the request.
func NewBackendTimeout() Spec { return &backendTimeoutSpec{} }

func (*backendTimeoutSpec) Name() string { return BackendTimeoutName }

func (*backendTimeoutSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(BackendTimeoutName, args, 1, "duration")
	if err != nil {
		return nil, err
	}
	d, err := time.ParseDuration(a[0])
	if err != nil {
		return nil, argsErrorf("%s: argument 1 (duration) %q is not a duration", BackendTimeoutName, a[0])
	}
	if d <= 0 {
		return nil, argsErrorf("%s: argument 1 (duration) must be positive, got %s", BackendTimeoutName, a[0])
	}
	return &backendTimeoutFilter{d: d}, nil
}

func (*backendTimeoutFilter) Request(*http.Request) error { return nil }

// BackendTimeout returns how long the backend call may take.
func (f *backendTimeoutFilter) BackendTimeout() time.Duration { return f.d }
