package filters_test

import (
	"fmt"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestOriginMarkerThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	testBadArgs(t, filters.NewOriginMarker(), []argsCase{
		{"two", []any{"ingress", "id"}, "originMarker: want 3 string arguments (origin, id, created), got 2"},
		{"number", []any{"ingress", "id", 1.0}, "originMarker: argument 3 (created) must be a string, got float64"},
		{"bad time", []any{"ingress", "id", "yesterday"}, `originMarker: argument 3 (created) must be an RFC 3339 time: parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"`},
	})
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`* -> originMarker("apiUsageMonitoring", "deployment1", "2019-08-30T09:55:51Z")
		-> "http://%s"`, backend.Addr()), proxytest.Options{})
	res, body := p.Do(t, "GET", "o.test", "/x?y=1", "X-A", "1")
	if res.StatusCode != 200 || body != "ok" {
		t.Fatalf("got %d %q, want 200 ok", res.StatusCode, body)
	}
	if got := backend.Last(t); got.RequestURI != "/x?y=1" || got.Header.Get("X-A") != "1" {
		t.Errorf("backend got %s X-A %q, want the request unchanged", got.RequestURI, got.Header.Get("X-A"))
	}
}
