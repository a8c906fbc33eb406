package filters

import (
	"net/http"
	"strings"
)

// PreserveHostName is the route name of the filter that chooses the Host the backend sees.
const PreserveHostName = "preserveHost"

type preserveHostSpec struct{}

type preserveHostFilter struct{ preserve bool }

var (
	_ Spec   = (*preserveHostSpec)(nil)
	_ Filter = (*preserveHostFilter)(nil)
)

// NewPreserveHost returns the spec of preserveHost("true"|"false"), which overrides the
// proxy's -proxy-preserve-host for its route: with "true" the backend sees the client's Host,
// with "false" its own host and port (a default port left out). Filters after it may still
// change the Host.
func NewPreserveHost() Spec { return &preserveHostSpec{} }

func (*preserveHostSpec) Name() string { return PreserveHostName }

func (*preserveHostSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(PreserveHostName, args, 1, "\"true\" or \"false\"")
	if err != nil {
		return nil, err
	}
	switch a[0] {
	case "true":
		return &preserveHostFilter{preserve: true}, nil
	case "false":
		return &preserveHostFilter{}, nil
	}
	return nil, argsErrorf("%s: argument 1 must be \"true\" or \"false\", got %q", PreserveHostName, a[0])
}

func (f *preserveHostFilter) Request(r *http.Request) error {
	if f.preserve {
		r.Host = Incoming(r).Host
		return nil
	}
	if r.URL.Host != "" {
		r.Host = backendHost(r.URL.Scheme, r.URL.Host)
	}
	return nil
}

// backendHost returns host without the scheme's default port, the Host a backend expects.
func backendHost(scheme, host string) string {
	switch {
	case scheme == "http" || scheme == "h2c":
		return strings.TrimSuffix(host, ":80")
	case scheme == "https":
		return strings.TrimSuffix(host, ":443")
	}
	return host
}
