package filters_test

import (
	"fmt"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxytest"
)

func TestTracingBadArgs(t *testing.T) {
	specs := map[string]filters.Spec{}
	for _, s := range filters.NewTracingSpecs() {
		specs[s.Name()] = s
	}
	testBadArgs(t, specs[filters.TracingTagName], []argsCase{
		{"one", []any{"a"}, "tracingTag: want 2 string arguments (tag name, tag value), got 1"},
		{"number", []any{"a", 1.0}, "tracingTag: argument 2 (tag value) must be a string, got float64"},
	})
	testBadArgs(t, specs[filters.TracingTagFromResponseIfStatusName], []argsCase{
		{"two", []any{"a", "b"}, "tracingTagFromResponseIfStatus: want 4 arguments (tag name, tag value, min status, max status), got 2"},
		{"reversed", []any{"a", "b", 500.0, 400.0}, "tracingTagFromResponseIfStatus: arguments 3 and 4 must be a status range within 0 to 599, got 500, 400"},
		{"above", []any{"a", "b", 500.0, 600.0}, ""},
	})
	testBadArgs(t, specs[filters.TracingBaggageToTagName], []argsCase{
		{"none", nil, "tracingBaggageToTag: want 1 to 2 string arguments (baggage item[, tag name]), got 0"},
		{"empty", []any{""}, "tracingBaggageToTag: argument 1 (baggage item) must not be empty"},
	})
	testBadArgs(t, specs[filters.TracingSpanNameName], []argsCase{
		{"number", []any{1.0}, "tracingSpanName: argument 1 (span name) must be a string, got float64"},
	})
	testBadArgs(t, specs[filters.StateBagToTagName], []argsCase{
		{"three", []any{"a", "b", "c"}, "stateBagToTag: want 1 to 2 string arguments (state bag item[, tag name]), got 3"},
	})
}

// TestTracingNoOpsThroughProxy loads a route with every tracing filter and checks that the
// backend gets the request, and the client the answer, as without them.
func TestTracingNoOpsThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	backend := proxytest.NewBackend(t, nil)
	p := proxytest.New(t, fmt.Sprintf(`
		traced: Host("traced.test") -> tracingTag("team", "${request.header.X-Team}") -> tracingSpanName("egress")
			-> tracingBaggageToTag("user", "user.id", "ignored") -> stateBagToTag("auth-user")
			-> tracingTagFromResponse("status", "x") -> tracingTagFromResponseIfStatus("error", "true", 500, 599)
			-> "http://%[1]s";
		plain: Host("plain.test") -> "http://%[1]s";`, backend.Addr()), proxytest.Options{})
	var got [2]proxytest.Received
	var answers [2]string
	for i, host := range []string{"traced.test", "plain.test"} {
		res, body := p.Do(t, "GET", host, "/p?q=1", "X-Team", "core", "Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		res.Header.Del("Date")
		answers[i] = fmt.Sprint(res.StatusCode, res.Header, body)
		got[i] = backend.Last(t)
	}
	if answers[0] != answers[1] {
		t.Errorf("client got %s with tracing filters, %s without", answers[0], answers[1])
	}
	got[0].Host, got[1].Host = "", ""
	if a, b := fmt.Sprint(got[0]), fmt.Sprint(got[1]); a != b {
		t.Errorf("backend got\n\t%s\nwith tracing filters, and\n\t%s\nwithout", a, b)
	}
}
