package metrics

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/secrets"
)

const (
	canarySecret = "CANARY-SECRET-7f3a9c" // a secret value: must never be exposed
	canaryToken  = "CANARY-TOKEN-b41d2e"  // a token value: must never be exposed
)

// fakeSecrets lists fixed secrets.
type fakeSecrets []secrets.Loaded

func (f fakeSecrets) Loaded() []secrets.Loaded { return slices.Clone(f) }

// newAt returns Metrics whose clock reads t.
func newAt(t time.Time) *Metrics {
	m := New()
	m.now = func() time.Time { return t }
	return m
}

// TestScrapeShowsCountersMoving drives every recording method, scrapes /metrics before and
// after, and checks that exactly the expected series moved by exactly the expected amounts.
func TestScrapeShowsCountersMoving(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m := newAt(now)
	// A series that exists before the first scrape, so the before/after comparison covers it.
	m.RequestStarted()
	m.RequestDone("gh", "GET", 200, 10*time.Millisecond)
	before := scrapeMetrics(t, m)

	m.RequestStarted()
	m.RequestStarted()
	m.RequestStarted()
	m.RequestDone("gh", "GET", 200, 30*time.Millisecond)
	m.RequestDone("gh", "get", 503, 2*time.Second) // methods are case-sensitive: "other"
	m.RequestDone("", "BREW", 999, time.Millisecond)
	m.RequestStarted() // still in flight at the scrape
	m.RequestStarted()
	m.RequestDone(NoRoute, "POST", 404, time.Millisecond)
	m.BackendDone("gh", 20*time.Millisecond)
	m.BackendDone("gh", 40*time.Millisecond)
	m.BackendError("gh", KindDial)
	m.BackendError("gh", KindTimeout)
	m.BackendError("gh", KindTimeout)
	m.BackendError("gh", "no such kind "+canarySecret) // counts as other, never as a label
	m.Injection("gh", "bearerinjector", OutcomeInjected)
	m.Injection("gh", "bearerinjector", OutcomeInjected)
	m.Injection("gh", "bearerinjector", OutcomeUnavailable)
	m.Injection("gh", "bearerinjector", "leaked "+canarySecret) // other, never a label
	m.InjectionFailed("bearerinjector", ReasonNotFound)
	m.InjectionFailed("oauth2ClientCredentials", ReasonTokenEndpoint)
	m.InjectionFailed("oauth2ClientCredentials", "token "+canaryToken+" rejected") // other
	m.RoutesApplied(3, 1, true)
	if err := m.RegisterSecrets(fakeSecrets{
		{Path: "/creds/github", LoadedAt: now.Add(-90 * time.Second)},
		{Path: "/creds/stripe", LoadedAt: now.Add(-5 * time.Second)},
	}); err != nil {
		t.Fatalf("RegisterSecrets: %v", err)
	}
	after := scrapeMetrics(t, m)

	moved := []struct {
		name   string
		labels []string
		delta  float64
	}{
		{"skipper_requests_total", []string{"route", "gh", "method", "GET", "status", "200"}, 1},
		{"skipper_requests_total", []string{"route", "gh", "method", "other", "status", "503"}, 1},
		{"skipper_requests_total", []string{"route", "(unnamed)", "method", "other", "status", "other"}, 1},
		{"skipper_requests_total", []string{"route", "(no route)", "method", "POST", "status", "404"}, 1},
		{"skipper_request_duration_seconds_count", []string{"route", "gh"}, 2},
		{"skipper_request_duration_seconds_sum", []string{"route", "gh"}, 2.03},
		{"skipper_request_duration_seconds_bucket", []string{"route", "gh", "le", "0.05"}, 1},
		{"skipper_request_duration_seconds_bucket", []string{"route", "gh", "le", "2.5"}, 2},
		{"skipper_backend_duration_seconds_count", []string{"route", "gh"}, 2},
		{"skipper_backend_duration_seconds_sum", []string{"route", "gh"}, 0.06},
		{"skipper_backend_errors_total", []string{"route", "gh", "kind", "dial"}, 1},
		{"skipper_backend_errors_total", []string{"route", "gh", "kind", "timeout"}, 2},
		{"skipper_backend_errors_total", []string{"route", "gh", "kind", "reset"}, 0},
		{"skipper_backend_errors_total", []string{"route", "gh", "kind", "other"}, 1},
		{"skipper_requests_in_flight", nil, 1},
		{"skipper_credential_injections_total", []string{"route", "gh", "filter", "bearerinjector", "outcome", "injected"}, 2},
		{"skipper_credential_injections_total", []string{"route", "gh", "filter", "bearerinjector", "outcome", "unavailable"}, 1},
		{"skipper_credential_injections_total", []string{"route", "gh", "filter", "bearerinjector", "outcome", "failed"}, 0},
		{"skipper_credential_injections_total", []string{"route", "gh", "filter", "bearerinjector", "outcome", "other"}, 1},
		{"skipper_credential_injection_failures_total", []string{"filter", "bearerinjector", "reason", "not found"}, 1},
		{"skipper_credential_injection_failures_total", []string{"filter", "bearerinjector", "reason", "empty value"}, 0},
		{"skipper_credential_injection_failures_total", []string{"filter", "oauth2ClientCredentials", "reason", "token endpoint"}, 1},
		{"skipper_credential_injection_failures_total", []string{"filter", "oauth2ClientCredentials", "reason", "other"}, 1},
		{"skipper_routes", nil, 3},
		{"skipper_routes_invalid", nil, 1},
		{"skipper_routes_last_reload_success", nil, 1},
		{"skipper_routes_last_reload_timestamp_seconds", nil, 1_700_000_000},
		{"skipper_secrets_loaded", nil, 2},
		{"skipper_secret_age_seconds", []string{"path", "/creds/github"}, 90},
		{"skipper_secret_age_seconds", []string{"path", "/creds/stripe"}, 5},
	}
	for _, tc := range moved {
		t.Run(seriesKey(tc.name, pairs(tc.labels)), func(t *testing.T) {
			got, ok := after.value(tc.name, tc.labels...)
			if !ok {
				t.Fatalf("series not exposed after driving the metrics")
			}
			was, _ := before.value(tc.name, tc.labels...)
			if d := got - was; !near(d, tc.delta) {
				t.Errorf("moved by %g (from %g to %g), want %g", d, was, got, tc.delta)
			}
		})
	}
	// The series recorded before the first scrape moved too: from 1 to 2 requests.
	if got, _ := before.value("skipper_requests_total", "route", "gh", "method", "GET", "status", "200"); got != 1 {
		t.Errorf("requests before: got %g, want 1", got)
	}

	for _, c := range []string{canarySecret, canaryToken} {
		if strings.Contains(after.body, c) {
			t.Errorf("scrape contains canary %q", c)
		}
	}
	checkBoundedLabels(t, after)
}

// checkBoundedLabels checks that every label of every skipper_ series has a value from its
// bounded set. Routes, filters and paths are bounded by the configuration; the test's own
// configuration is listed here.
func checkBoundedLabels(t *testing.T, sc scrape) {
	t.Helper()
	allowed := map[string][]string{
		labelRoute:   {"gh", "(unnamed)", "(no route)"},
		labelMethod:  {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other"},
		labelKind:    {KindDial, KindTimeout, KindReset, KindOther},
		labelFilter:  {"bearerinjector", "oauth2ClientCredentials"},
		labelReason:  {ReasonNotFound, ReasonEmptyValue, ReasonControlCharacter, ReasonTokenEndpoint, ReasonOther},
		labelPath:    {"/creds/github", "/creds/stripe"},
		labelOutcome: outcomeLabels[:],
	}
	var buckets []string
	for _, b := range durationBuckets() {
		buckets = append(buckets, fmt.Sprint(b))
	}
	allowed["le"] = append(buckets, "+Inf")
	for _, s := range sc.samples {
		if !strings.HasPrefix(s.name, "skipper_") {
			continue
		}
		for name, v := range s.labels {
			if name == labelStatus {
				if v != "other" && (len(v) != 3 || v < "100" || v > "599") {
					t.Errorf("%s: status label %q is not a status code or \"other\"", s.key(), v)
				}
				continue
			}
			set, ok := allowed[name]
			if !ok {
				t.Errorf("%s: unexpected label %q", s.key(), name)
				continue
			}
			if !slices.Contains(set, v) {
				t.Errorf("%s: label %s=%q is not in its bounded set %q", s.key(), name, v, set)
			}
		}
	}
}

func pairs(kv []string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestRoutesAppliedFailureKeepsTableSize(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	m := newAt(now)
	m.RoutesApplied(5, 0, true)
	now = now.Add(time.Minute)
	m.now = func() time.Time { return now }
	m.RoutesApplied(0, 7, false)
	sc := scrapeMetrics(t, m)
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"skipper_routes", 5}, // the previous table is still served
		{"skipper_routes_invalid", 7},
		{"skipper_routes_last_reload_success", 0},
		{"skipper_routes_last_reload_timestamp_seconds", 1_700_000_060},
	} {
		if got, _ := sc.value(tc.name); got != tc.want {
			t.Errorf("%s: got %g, want %g", tc.name, got, tc.want)
		}
	}
}

func TestRegistryHasRuntimeCollectors(t *testing.T) {
	sc := scrapeMetrics(t, New())
	for _, name := range []string{"go_goroutines", "process_start_time_seconds", "skipper_requests_in_flight"} {
		if _, ok := sc.value(name); !ok {
			t.Errorf("%s: not exposed", name)
		}
	}
}

func TestRegisterSecretsTwice(t *testing.T) {
	m := New()
	if err := m.RegisterSecrets(fakeSecrets{}); err != nil {
		t.Fatalf("first RegisterSecrets: %v", err)
	}
	if err := m.RegisterSecrets(fakeSecrets{}); err == nil {
		t.Errorf("second RegisterSecrets: got nil error, want one")
	}
}

func TestRetainRoutes(t *testing.T) {
	m := New()
	for _, id := range []string{"a", "b", "", NoRoute} {
		m.RequestStarted()
		m.RequestDone(id, "GET", 200, time.Millisecond)
		m.BackendDone(id, time.Millisecond)
		m.Injection(id, "bearerinjector", OutcomeInjected)
	}
	m.RetainRoutes([]string{"a"})
	sc := scrapeMetrics(t, m)
	for _, tc := range []struct {
		route string
		want  bool
	}{
		{"a", true},
		{"b", false},
		{"(unnamed)", false},
		{NoRoute, true},
	} {
		_, got := sc.value("skipper_requests_total", "route", tc.route, "method", "GET", "status", "200")
		if got != tc.want {
			t.Errorf("route %q: exposed %v, want %v", tc.route, got, tc.want)
		}
		_, got = sc.value("skipper_backend_duration_seconds_count", "route", tc.route)
		if got != tc.want {
			t.Errorf("route %q backend histogram: exposed %v, want %v", tc.route, got, tc.want)
		}
		_, got = sc.value("skipper_credential_injections_total", "route", tc.route, "filter", "bearerinjector", "outcome", "injected")
		if got != tc.want {
			t.Errorf("route %q injections: exposed %v, want %v", tc.route, got, tc.want)
		}
	}
	// A route that comes back is counted afresh and exposed again.
	m.RequestStarted()
	m.RequestDone("b", "GET", 200, time.Millisecond)
	sc = scrapeMetrics(t, m)
	if got, ok := sc.value("skipper_requests_total", "route", "b", "method", "GET", "status", "200"); !ok || got != 1 {
		t.Errorf("route b after its return: got %g (exposed %v), want 1", got, ok)
	}
}

func TestConcurrentRecording(t *testing.T) {
	m := New()
	const workers, each = 8, 500
	routes := []string{"a", "b", "c"}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := routes[(w+i)%len(routes)]
				m.RequestStarted()
				m.BackendDone(id, time.Millisecond)
				m.RequestDone(id, "GET", 200+i%2, time.Millisecond)
				m.Injection(id, "bearerinjector", OutcomeInjected)
			}
		})
	}
	wg.Wait()
	sc := scrapeMetrics(t, m)
	var total float64
	for _, s := range sc.samples {
		if s.name == "skipper_requests_total" {
			total += s.value
		}
	}
	if total != workers*each {
		t.Errorf("requests: got %g, want %d", total, workers*each)
	}
	if got, _ := sc.value("skipper_requests_in_flight"); got != 0 {
		t.Errorf("in flight: got %g, want 0", got)
	}
	var injections float64
	for _, s := range sc.samples {
		if s.name == "skipper_credential_injections_total" {
			injections += s.value
		}
	}
	if got := injections; got != workers*each {
		t.Errorf("injections: got %g, want %d", got, workers*each)
	}
}

func TestNilAndNopRecordNothing(t *testing.T) {
	var m *Metrics
	for _, r := range []Recorder{m, Nop{}} {
		r.RequestStarted()
		r.RequestDone("a", "GET", 200, time.Second)
		r.BackendDone("a", time.Second)
		r.BackendError("a", KindDial)
		r.Injection("a", "f", OutcomeInjected)
		r.InjectionFailed("f", ReasonOther)
	}
	m.RoutesApplied(1, 0, true)
	m.RetainRoutes(nil)
	if err := m.RegisterSecrets(fakeSecrets{}); err != nil {
		t.Errorf("RegisterSecrets on nil: got %v, want nil", err)
	}
	if m.Registry() != nil {
		t.Errorf("Registry on nil: got non-nil")
	}
	if m.Handler() == nil {
		t.Errorf("Handler on nil: got nil, want a 404 handler")
	}
}

func TestMethodClass(t *testing.T) {
	for _, tc := range []struct{ method, want string }{
		{"GET", "GET"}, {"HEAD", "HEAD"}, {"POST", "POST"}, {"PUT", "PUT"}, {"PATCH", "PATCH"},
		{"DELETE", "DELETE"}, {"OPTIONS", "OPTIONS"}, {"CONNECT", "CONNECT"}, {"TRACE", "TRACE"},
		{"get", "other"}, {"PROPFIND", "other"}, {"", "other"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			if got := methodLabel(methodClass(tc.method)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStatusLabel(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   string
	}{
		{200, "200"}, {100, "100"}, {599, "599"}, {499, "499"},
		{0, "other"}, {99, "other"}, {600, "other"}, {-1, "other"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			if got := statusLabel(statusKey(tc.status)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
