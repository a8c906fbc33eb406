// Package filters defines how a route's filters are built and run, and holds the built-in
// filters.
//
// A filter is built once per route, when routes are compiled, by a Spec that checks the route's
// arguments; the resulting Filter then runs for every request on that route. Keeping argument
// checks at compile time keeps them off the request path, and lets a bad route be rejected with
// a reason while the others load.
package filters

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// ErrInvalidArgs is wrapped by the errors that Spec.Create returns for arguments it cannot use.
var ErrInvalidArgs = errors.New("invalid filter arguments")

// ErrCredentialUnavailable is wrapped by the errors that credential filters return when the
// secret they inject has no usable value. The proxy answers such a request with 503 and never
// forwards it: credentials fail closed.
var ErrCredentialUnavailable = errors.New("credential unavailable")

// Reply is an answer a filter gives the client itself. A filter returns it (or an error wrapping
// it) from Request to stop the request there: the backend is not called, the later request
// filters do not run, and the proxy answers with Status, the Header fields and Body. An empty
// Body means the status text and a newline, the shape of every answer the proxy makes itself.
// The rate limit filters answer 429 this way.
type Reply struct {
	// Status is the response status, such as 429.
	Status int
	// Header holds fields added to the answer, such as Retry-After. It may be nil.
	Header http.Header
	// Body is the response body. If empty, http.StatusText(Status) and a newline are sent.
	Body string
}

// Error returns "reply" and the status, such as "reply 429".
func (r *Reply) Error() string { return "reply " + strconv.Itoa(r.Status) }

// Spec turns route arguments into a Filter. Create runs at route-compile time and must reject
// bad arguments there, with an error that wraps ErrInvalidArgs; it must not start goroutines or
// open files, because compiled routes are dropped without notice when a new table replaces them.
type Spec interface {
	// Name is the filter's name in route text, such as "bearerinjector".
	Name() string
	// Create builds a Filter from the route's arguments: strings and float64 numbers, as the
	// route parser produces them.
	Create(args []any) (Filter, error)
}

// Filter runs once per request. One Filter value serves every request on its route at the same
// time, so it must be safe for concurrent use and keep no per-request state in its fields.
type Filter interface {
	// Request changes the outgoing request before it is sent to the backend. A non-nil error
	// stops the chain and the request is not forwarded.
	Request(r *http.Request) error
}

// ResponseFilter is implemented by filters that also change the backend's response. The proxy
// checks for it with a type assertion and runs response filters in reverse route order.
type ResponseFilter interface {
	Response(res *http.Response) error
}

// Registry maps filter names to their Specs. It is built once by main and read-only afterwards,
// so it is safe for concurrent use.
type Registry struct {
	specs map[string]Spec
}

// NewRegistry returns a registry of the given specs. Two specs with the same name are an error.
func NewRegistry(specs ...Spec) (*Registry, error) {
	r := &Registry{specs: make(map[string]Spec, len(specs))}
	for _, s := range specs {
		name := s.Name()
		if _, dup := r.specs[name]; dup {
			return nil, fmt.Errorf("filter %q registered twice", name)
		}
		r.specs[name] = s
	}
	return r, nil
}

// Lookup returns the spec registered under name. A nil Registry has no specs.
func (r *Registry) Lookup(name string) (Spec, bool) {
	if r == nil {
		return nil, false
	}
	s, ok := r.specs[name]
	return s, ok
}

// Names returns the registered filter names in sorted order.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.specs))
	for n := range r.specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
