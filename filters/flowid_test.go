package filters_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestFlowIDBadArgs(t *testing.T) {
	testBadArgs(t, filters.NewFlowID(), []argsCase{
		{"number", []any{1.0}, `flowId: argument 1 must be a string ("reuse"), got float64`},
	})
}

func TestFlowIDThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		fresh: Host("fresh.test") -> flowId() -> "http://%[1]s";
		reuse: Host("reuse.test") -> flowId("REUSE") -> "http://%[1]s";`, backend.Addr()),
		proxytest.Options{})
	generated := regexp.MustCompile(`^[0-9a-zA-Z+-]{16}$`)
	for _, tc := range []struct {
		host, sent string
		kept       bool
	}{
		{"fresh.test", "", false},
		{"fresh.test", "client-flow-id-1", false},
		{"reuse.test", "client-flow-id-1", true},
		{"reuse.test", "short", false},
		{"reuse.test", "has spaces in it", false},
		{"reuse.test", "", false},
	} {
		var h []string
		if tc.sent != "" {
			h = []string{"X-Flow-Id", tc.sent}
		}
		p.Do(t, "GET", tc.host, "/", h...)
		got := backend.Last(t).Header.Values("X-Flow-Id")
		if len(got) != 1 || tc.kept && got[0] != tc.sent || !tc.kept && (!generated.MatchString(got[0]) || got[0] == tc.sent) {
			t.Errorf("%s with X-Flow-Id %q: backend got %q, want it kept: %v", tc.host, tc.sent, got, tc.kept)
		}
	}
}
