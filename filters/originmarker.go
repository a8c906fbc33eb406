package filters

import (
	"net/http"
	"time"
)

// OriginMarkerName is the route name of the filter that records where a route came from.
const OriginMarkerName = "originMarker"

type originMarkerSpec struct{}

type originMarkerFilter struct{}

var (
	_ Spec   = (*originMarkerSpec)(nil)
	_ Filter = originMarkerFilter{}
)

// NewOriginMarker returns the spec of originMarker(origin, id, created), which changes nothing:
// Skipper's data clients add it to say which object (an ingress, id) a route was made from and
// when (an RFC 3339 time), for a metric of how long routes take to appear, which skipper does
// not keep. The arguments are checked as Skipper checks them.
func NewOriginMarker() Spec { return &originMarkerSpec{} }

func (*originMarkerSpec) Name() string { return OriginMarkerName }

func (*originMarkerSpec) Create(args []any) (Filter, error) {
	a, err := stringArgs(OriginMarkerName, args, 3, "origin", "id", "created")
	if err != nil {
		return nil, err
	}
	if _, err := time.Parse(time.RFC3339, a[2]); err != nil {
		return nil, argsErrorf("%s: argument 3 (created) must be an RFC 3339 time: %v", OriginMarkerName, err)
	}
	return originMarkerFilter{}, nil
}

func (originMarkerFilter) Request(*http.Request) error { return nil }
