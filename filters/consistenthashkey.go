package filters

import (
	"math"
	"net/http"
)

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

// ConsistentHashBalanceFactorName is the route name of the filter that bounds the load a
// consistentHash load balancer puts on one endpoint.
const ConsistentHashBalanceFactorName = "consistentHashBalanceFactor"

// BalanceFactorer is implemented by the consistentHashBalanceFactor filter. On a route with a
// consistentHash load balancer, the proxy sends a request to the endpoint its key hashes to only
// while that endpoint has at most BalanceFactor times the average number of requests in flight
// (counting the new one); otherwise to the next endpoint on the ring that has. When a route
// holds several, the last one counts.
type BalanceFactorer interface {
	BalanceFactor() float64
}

type balanceFactorSpec struct{}

type balanceFactorFilter struct{ factor float64 }

var (
	_ Spec            = (*balanceFactorSpec)(nil)
	_ Filter          = (*balanceFactorFilter)(nil)
	_ BalanceFactorer = (*balanceFactorFilter)(nil)
)

// NewConsistentHashBalanceFactor returns the spec of consistentHashBalanceFactor(factor), which
// turns a route's consistentHash load balancing into consistent hashing with bounded loads:
// no endpoint gets more than factor times the average load, so that a popular key spills over
// to the next endpoints instead of overloading its own. factor is a number of at least 1, as
// in Skipper. It changes nothing in the request.
func NewConsistentHashBalanceFactor() Spec { return &balanceFactorSpec{} }

func (*balanceFactorSpec) Name() string { return ConsistentHashBalanceFactorName }

func (*balanceFactorSpec) Create(args []any) (Filter, error) {
	const name = ConsistentHashBalanceFactorName
	if len(args) != 1 {
		return nil, argsErrorf("%s: want arguments (factor), got %d", name, len(args))
	}
	f, ok := args[0].(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 1 {
		return nil, argsErrorf("%s: argument 1 (factor) must be a number of at least 1, got %v", name, args[0])
	}
	return &balanceFactorFilter{factor: f}, nil
}

func (*balanceFactorFilter) Request(*http.Request) error { return nil }

// BalanceFactor returns the filter's factor.
func (f *balanceFactorFilter) BalanceFactor() float64 { return f.factor }
