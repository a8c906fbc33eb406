package filters

import "net/http"

// BackendIsProxyName is the route name of the filter that says the route's backend is an HTTP
// proxy.
const BackendIsProxyName = "backendIsProxy"

// BackendProxy is implemented by the backendIsProxy filter. On its route the proxy sends each
// request through the backend (an http or https proxy; for a load balancer, the endpoint chosen)
// to the destination the client asked for: its Host, over https when the client came over TLS,
// as in Skipper. An http destination gets the request in absolute form, an https one through a
// CONNECT tunnel.
type BackendProxy interface {
	BackendIsProxy()
}

type backendIsProxySpec struct{}

type backendIsProxyFilter struct{}

var (
	_ Spec         = (*backendIsProxySpec)(nil)
	_ Filter       = (*backendIsProxyFilter)(nil)
	_ BackendProxy = (*backendIsProxyFilter)(nil)
)

// NewBackendIsProxy returns the spec of Skipper's backendIsProxy(), see BackendProxy. It takes
// no arguments and changes nothing in the request.
func NewBackendIsProxy() Spec { return &backendIsProxySpec{} }

func (*backendIsProxySpec) Name() string { return BackendIsProxyName }

func (*backendIsProxySpec) Create(args []any) (Filter, error) {
	if len(args) != 0 {
		return nil, argsErrorf("%s: want no arguments, got %d", BackendIsProxyName, len(args))
	}
	return &backendIsProxyFilter{}, nil
}

func (*backendIsProxyFilter) Request(*http.Request) error { return nil }

// BackendIsProxy marks the filter.
func (*backendIsProxyFilter) BackendIsProxy() {}
