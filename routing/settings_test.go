package routing_test

import (
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/circuit"
	"github.com/skipper-egress/skipper/routing"
)

// TestCompileResolvesSettings checks that the Settings of a compiled route are what the proxy
// used to find by scanning the route's filters per request: the last filter of each kind, or
// nothing.
func TestCompileResolvesSettings(t *testing.T) {
	reg, err := filters.NewRegistry(filters.Builtins(filters.BuiltinsOptions{})...)
	if err != nil {
		t.Fatal(err)
	}
	consecutive3, err := circuit.ParseConsecutive([]any{float64(3)})
	if err != nil {
		t.Fatal(err)
	}
	disable, err := circuit.ParseDisable(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, route string
		want        routing.Settings
		hashKey     string // HashKey's key for the test request; "" for a nil HashKey
	}{
		{name: "none", route: `r: * -> setRequestHeader("X-A", "${request.path}") -> "http://a.test"`},
		{
			name: "one of each",
			route: `r: * -> readTimeout("1s") -> writeTimeout("2s") -> backendTimeout("3s")
				-> consecutiveBreaker(3) -> consistentHashKey("${request.header.X-K}") -> "http://a.test"`,
			want:    routing.Settings{ReadTimeout: time.Second, WriteTimeout: 2 * time.Second, BackendTimeout: 3 * time.Second, Breaker: consecutive3},
			hashKey: "k",
		},
		{
			name: "the last one counts",
			route: `r: * -> readTimeout("1s") -> writeTimeout("2s") -> backendTimeout("3s") -> consecutiveBreaker(3)
				-> consistentHashKey("${request.header.X-K}") -> consistentHashKey("${request.method}")
				-> readTimeout("4s") -> writeTimeout("5s") -> backendTimeout("6s") -> disableBreaker() -> "http://a.test"`,
			want:    routing.Settings{ReadTimeout: 4 * time.Second, WriteTimeout: 5 * time.Second, BackendTimeout: 6 * time.Second, Breaker: disable},
			hashKey: "GET",
		},
		{
			name:  "a path parameter in any filter",
			route: `r: Path("/u/:id") -> setRequestHeader("X-A", "1") -> setRequestHeader("X-B", "${id}") -> "http://a.test"`,
			want:  routing.Settings{PathParams: true},
		},
		{
			name:    "a path parameter in the hash key",
			route:   `r: Path("/u/:id") -> consistentHashKey("${id}") -> "http://a.test"`,
			want:    routing.Settings{PathParams: true},
			hashKey: "-", // HashKey reads the parameters from the request's Exchange, absent here
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defs, err := routing.Parse("t", tc.route)
			if err != nil {
				t.Fatal(err)
			}
			table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			got := table.Routes()[0].Settings
			hk := got.HashKey
			got.HashKey = nil
			if len(got.BackendLimiters) != 0 {
				t.Errorf("got %d backend limiters, want none", len(got.BackendLimiters))
			}
			got.BackendLimiters = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			switch {
			case tc.hashKey == "" && hk != nil:
				t.Errorf("got a HashKey, want none")
			case tc.hashKey != "" && hk == nil:
				t.Errorf("got no HashKey, want one")
			case tc.hashKey != "" && tc.hashKey != "-":
				r := httptest.NewRequest("GET", "http://a.test/", nil)
				r.Header.Set("X-K", "k")
				if key, ok := hk.HashKey(r); !ok || key != tc.hashKey {
					t.Errorf("got HashKey %q, %v, want %q, true", key, ok, tc.hashKey)
				}
			}
		})
	}
}
