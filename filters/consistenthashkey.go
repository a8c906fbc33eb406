package filters

import "net/http"

// ConsistentHashKeyName is the route name of the filter that chooses the key of a consistentHash
// load balancer.
const ConsistentHashKeyName = "consistentHashKey"

// HashKeyer is implemented by the consistentHashKey filter. The proxy looks for it on a route
// with a consistentHash load balancer and sends requests with equal keys to the same endpoint.
// When a route holds several, the last one counts.
type HashKeyer interface {
	// HashKey returns the key of r, the request as the route's filters left it; ok is false
	// when a placeholder of the key resolved to nothing, and the proxy then uses the client's
	// address, as it does without the filter.
	HashKey(r *http.Request) (key string, ok bool)
}

type consistentHashKeySpec struct{}

type consistentHashKeyFilter struct{ key template }

var (
	_ Spec      = (*consistentHashKeySpec)(nil)
	_ Filter    = (*consistentHashKeyFilter)(nil)
	_ HashKeyer = (*consistentHashKeyFilter)(nil)
)

// NewConsistentHashKey returns the spec of consistentHashKey(key), which makes key, a template
// such as "${request.header.X-Tenant}", the key by which a consistentHash load balancer chooses
// the endpoint, instead of the client's address. It changes nothing in the request.
func NewConsistentHashKey() Spec { return &consistentHashKeySpec{} }

func (*consistentHashKeySpec) Name() string { return ConsistentHashKeyName }

func (*consistentHashKeySpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(ConsistentHashKeyName, args, 1, "key")
	if err != nil {
		return nil, err
	}
	return &consistentHashKeyFilter{key: parseTemplate(a[0])}, nil
}

func (*consistentHashKeyFilter) Request(*http.Request) error { return nil }

// HashKey returns the filter's key expanded for r.
func (f *consistentHashKeyFilter) HashKey(r *http.Request) (string, bool) {
	return f.key.expand(r, nil)
}

// UsesPathParams reports whether the filter's arguments hold a path-parameter placeholder.
func (f *consistentHashKeyFilter) UsesPathParams() bool { return f.key.usesParams() }
