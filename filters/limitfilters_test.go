package filters_test

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/circuit"
)

func TestLimitFilterArgs(t *testing.T) {
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{})...)
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	tests := []struct {
		filter string
		args   []any
		ok     bool
	}{
		{filters.RateLimitName, []any{2.0, "1m"}, true},
		{filters.RateLimitName, []any{1.0, 30.0}, true},
		{filters.RateLimitName, []any{}, false},
		{filters.RateLimitName, []any{2.0}, false},
		{filters.RateLimitName, []any{2.0, "1m", "X-Client"}, false},
		{filters.RateLimitName, []any{"2", "1m"}, false},
		{filters.RateLimitName, []any{-1.0, "1m"}, false},
		{filters.RateLimitName, []any{1.5, "1m"}, false},
		{filters.RateLimitName, []any{2.0, "soon"}, false},
		{filters.RateLimitName, []any{2.0, "0s"}, false},
		{filters.ClientRateLimitName, []any{2.0, "1m"}, true},
		{filters.ClientRateLimitName, []any{2.0, "1m", "Authorization, X-Forwarded-For"}, true},
		{filters.ClientRateLimitName, []any{2.0, "1m", "bad header"}, false},
		{filters.ClientRateLimitName, []any{2.0, "1m", 3.0}, false},
		{filters.ClientRateLimitName, []any{2.0, "1m", "A", "B"}, false},
		{filters.ClusterRateLimitName, []any{"api", 5.0, "1s"}, true},
		{filters.ClusterRateLimitName, []any{"", 5.0, "1s"}, false},
		{filters.ClusterRateLimitName, []any{5.0, "1s"}, false},
		{filters.ClusterRateLimitName, []any{1.0, 5.0, "1s"}, false},
		{filters.ClusterRateLimitName, []any{"api", 5.0, "1s", "X-Client"}, false},
		{filters.ClusterClientRateLimitName, []any{"api", 5.0, "1s", "X-Client"}, true},
		{filters.ClusterClientRateLimitName, []any{"api", 5.0, "1s"}, true},
		{filters.ClusterClientRateLimitName, []any{"api", 5.0, "1s", ""}, false},
		{filters.ConsecutiveBreakerName, []any{3.0}, true},
		{filters.ConsecutiveBreakerName, []any{3.0, "30s", 2.0, "1h"}, true},
		{filters.ConsecutiveBreakerName, []any{}, false},
		{filters.ConsecutiveBreakerName, []any{0.0}, false},
		{filters.ConsecutiveBreakerName, []any{3.0, "soon"}, false},
		{filters.ConsecutiveBreakerName, []any{"3"}, false},
		{filters.RateBreakerName, []any{5.0, 10.0}, true},
		{filters.RateBreakerName, []any{5.0}, false},
		{filters.RateBreakerName, []any{5.0, 2.0}, false},
		{filters.DisableBreakerName, []any{}, true},
		{filters.DisableBreakerName, []any{1.0}, false},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			spec, ok := reg.Lookup(tc.filter)
			if !ok {
				t.Fatalf("filter %q not registered", tc.filter)
			}
			f, err := spec.Create(tc.args)
			switch {
			case tc.ok && err != nil:
				t.Errorf("Create(%v): got error %v, want none", tc.args, err)
			case !tc.ok && err == nil:
				t.Errorf("Create(%v): got a filter, want an error", tc.args)
			case !tc.ok && !errors.Is(err, filters.ErrInvalidArgs):
				t.Errorf("Create(%v): got error %v, want one wrapping ErrInvalidArgs", tc.args, err)
			}
			if f != nil {
				if err := f.Request(httptest.NewRequest("GET", "/", nil)); err != nil {
					t.Errorf("first request: got error %v, want none", err)
				}
			}
		})
	}
}

func TestBreakerSettings(t *testing.T) {
	tests := []struct {
		filter string
		args   []any
		want   circuit.Settings
	}{
		{filters.ConsecutiveBreakerName, []any{3.0, "200ms"}, circuit.Settings{Type: circuit.ConsecutiveFailures, Failures: 3, Timeout: 200 * time.Millisecond}},
		{filters.RateBreakerName, []any{5.0, 10.0}, circuit.Settings{Type: circuit.FailureRate, Failures: 5, Window: 10}},
		{filters.DisableBreakerName, nil, circuit.Settings{Type: circuit.Disabled}},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			var spec filters.Spec
			for _, s := range filters.NewBreakerSpecs() {
				if s.Name() == tc.filter {
					spec = s
				}
			}
			bf, err := spec.Create(tc.args)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			bu, ok := bf.(filters.BreakerUser)
			if !ok {
				t.Fatalf("got %T, want a BreakerUser", bf)
			}
			if got := bu.BreakerSettings(); got != tc.want {
				t.Errorf("got settings %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestConsistentHashBalanceFactorArgs(t *testing.T) {
	spec := filters.NewConsistentHashBalanceFactor()
	for _, args := range [][]any{{1.0}, {1.25}, {3.0}} {
		f, err := spec.Create(args)
		if err != nil {
			t.Fatalf("Create(%v): %v", args, err)
		}
		if got := f.(filters.BalanceFactorer).BalanceFactor(); got != args[0] {
			t.Errorf("Create(%v): factor %v", args, got)
		}
	}
	testBadArgs(t, spec, []argsCase{
		{"none", nil, "consistentHashBalanceFactor: want arguments (factor), got 0"},
		{"below one", []any{0.5}, "consistentHashBalanceFactor: argument 1 (factor) must be a number of at least 1, got 0.5"},
		{"string", []any{"2"}, ""},
		{"two", []any{1.0, 2.0}, ""},
	})
}

func TestClusterLeakyBucketRateLimitArgs(t *testing.T) {
	spec := filters.NewClusterLeakyBucketRateLimit(nil)
	if _, err := spec.Create([]any{"auth-${request.header.Authorization}", 1.0, "5s", 2.0, 1.0}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	testBadArgs(t, spec, []argsCase{
		{"four", []any{"l", 1.0, "1s", 1.0}, "clusterLeakyBucketRatelimit: want arguments (label, volume, period, capacity, increment), got 4"},
		{"label", []any{1.0, 1.0, "1s", 1.0, 1.0}, "clusterLeakyBucketRatelimit: argument 1 (label) must be a string, got float64"},
		{"zero volume", []any{"l", 0.0, "1s", 1.0, 1.0}, "clusterLeakyBucketRatelimit: argument 2 (volume): 0 is not a whole number from 1 to 1073741824"},
		{"fraction", []any{"l", 1.0, "1s", 1.5, 1.0}, ""},
		{"zero increment", []any{"l", 1.0, "1s", 1.0, 0.0}, ""},
		{"period", []any{"l", 1.0, "soon", 1.0, 1.0}, ""},
		{"rate too fast", []any{"l", 10000.0, "1ms", 1.0, 1.0}, ""},
	})
}

func TestBasicAuthArgs(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(bad, []byte("no colon here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("bob:secret-in-clear\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := filters.NewBasicAuth(nil)
	if _, err := spec.Create([]any{filepath.Join(dir, "missing"), "realm"}); err != nil {
		t.Errorf("a missing file: %v, want the route to load", err)
	}
	testBadArgs(t, spec, []argsCase{
		{"none", nil, ""},
		{"empty", []any{""}, "basicAuth: argument 1 (htpasswd file) must not be empty"},
		{"three", []any{"f", "r", "x"}, ""},
		{"quote in realm", []any{plain, `a"b`}, "basicAuth: argument 2 (realm) must not hold quotes, backslashes or control characters"},
		{"malformed", []any{bad}, "basicAuth: htpasswd file: line 1: want user:hash"},
		{"plain text", []any{plain}, `basicAuth: htpasswd file: line 1: the hash of user "bob" is none of bcrypt, MD5 ($apr1$, $1$) or SHA-1 ({SHA})`},
	})
}

func TestPhysicsShedderArgs(t *testing.T) {
	spec := filters.NewPhysicsShedder(nil, nil)
	for _, args := range [][]any{{"s", "active", "200ms"}, {"s", "logInactive", "50ms", "5s"}, {"s", "inactive", 200.0, 200.0}} {
		if _, err := spec.Create(args); err != nil {
			t.Errorf("Create(%v): %v", args, err)
		}
	}
	testBadArgs(t, spec, []argsCase{
		{"two", []any{"s", "active"}, "physicsShedder: want arguments (metricSuffix, mode, latencyTarget[, window]), got 2"},
		{"suffix", []any{"", "active", "1s"}, "physicsShedder: argument 1 (metricSuffix) must be a non-empty string"},
		{"mode", []any{"s", "on", "1s"}, `physicsShedder: argument 2 (mode) must be "active", "inactive" or "logInactive", got on`},
		{"zero target", []any{"s", "active", "0s"}, "physicsShedder: argument 3 (latencyTarget) must be positive"},
		{"short window", []any{"s", "active", "1s", "100ms"}, "physicsShedder: argument 4 (window) must be from 200ms to 1m0s, got 100ms"},
		{"long window", []any{"s", "active", "1s", "2m"}, ""},
	})
}
