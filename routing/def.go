package routing

import "strconv"

// Call is one predicate or filter as written in route text: a name and its arguments. Each
// argument is a string (from "...", `...` or /.../) or a float64 (from a number literal).
type Call struct {
	Name string
	Args []any
}

// BackendType says where a route sends its requests.
type BackendType int

const (
	// BackendNetwork forwards to one "scheme://host[:port]" address.
	BackendNetwork BackendType = iota
	// BackendShunt answers from the proxy itself (<shunt>); with no filters that is 404.
	BackendShunt
	// BackendLoopback matches the request against the table again (<loopback>).
	BackendLoopback
	// BackendDynamic forwards to a destination chosen at request time (<dynamic>).
	BackendDynamic
	// BackendLB balances over several network endpoints (<"http://a", "http://b">).
	BackendLB
	// BackendForward sends the requests, without the route's filters, to the address the
	// operator chose with -forward-backend-url (<forward>), as Skipper does. It appears only
	// in a RouteDef: Compile makes it a BackendNetwork backend (see CompileOptions).
	BackendForward
)

// String returns the backend type's name: network, shunt, loopback, dynamic, lb or forward.
func (t BackendType) String() string {
	switch t {
	case BackendNetwork:
		return "network"
	case BackendShunt:
		return "shunt"
	case BackendLoopback:
		return "loopback"
	case BackendDynamic:
		return "dynamic"
	case BackendLB:
		return "lb"
	case BackendForward:
		return "forward"
	}
	return "BackendType(" + strconv.Itoa(int(t)) + ")"
}

// BackendDef is a route's backend as written in route text.
type BackendDef struct {
	Type BackendType
	// Address is the backend URL of a BackendNetwork route, as written.
	Address string
	// Algorithm is the load-balancing algorithm of a BackendLB route; empty means roundRobin.
	Algorithm string
	// Endpoints are the backend URLs of a BackendLB route, as written.
	Endpoints []string
}

// RouteDef is one route as parsed from route text, before its predicates, filters and backend
// are checked. Parse fills File, Line and Col with where the route starts, for error messages;
// they are zero for routes built in code.
type RouteDef struct {
	ID         string
	Predicates []Call
	Filters    []Call
	Backend    BackendDef
	File       string
	Line, Col  int
}
