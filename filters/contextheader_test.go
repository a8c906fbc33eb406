package filters_test

import (
	"fmt"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestContextHeaderBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewContextHeaderSpecs()[0], []argsCase{
		{"one", []any{"X-A"}, "setContextRequestHeader: want 2 string arguments (header name, state bag key), got 1"},
		{"bad name", []any{"X A", "k"}, `setContextRequestHeader: argument 1 (header name) "X A" is not a valid header name`},
	})
}

// TestContextHeaderThroughProxy loads the state bag header filters; with no state bag value
// they set nothing, as Skipper's for a key no filter set.
func TestContextHeaderThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`* -> setContextRequestHeader("X-Uid", "auth-user") -> appendContextRequestHeader("X-Uid", "uid")
		-> setContextResponseHeader("X-Res", "k") -> appendContextResponseHeader("X-Res", "k") -> "http://%s"`, backend.Addr()),
		proxytest.Options{})
	res, _ := p.Do(t, "GET", "c.test", "/", "X-Uid", "client")
	checkHeader(t, backend.Last(t).Header, "X-Uid", "client")
	checkHeader(t, res.Header, "X-Res")
}
