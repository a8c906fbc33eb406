// Package filtertest helps test filters: it builds filters from a Spec, builds requests, and
// provides a map-backed SecretSource, so that a filter test reads
//
//	src := filtertest.Secrets{"/s/tok": "value"}
//	f := filtertest.Create(t, filters.NewBearerInjector(src), "/s/tok")
//	req := filtertest.Request(t, "GET", "http://host1/foo", "Authorization", "Bearer evil")
//	err := f.Request(req)
package filtertest

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/secrets"
)

// Create builds a filter from spec with the given route arguments, and fails the test at once
// if the spec rejects them.
func Create(t testing.TB, spec filters.Spec, args ...any) filters.Filter {
	t.Helper()
	f, err := spec.Create(args)
	if err != nil {
		t.Fatalf("%s: create with %d arguments: %v", spec.Name(), len(args), err)
	}
	if f == nil {
		t.Fatalf("%s: create returned a nil filter and no error", spec.Name())
	}
	return f
}

// Request returns a new request with the given method and URL, bound to the test's context.
// headers are name, value pairs, added in order, so a repeated name gives several instances.
// It fails the test if the request cannot be built or headers has an odd length.
func Request(t testing.TB, method, url string, headers ...string) *http.Request {
	t.Helper()
	if len(headers)%2 != 0 {
		t.Fatalf("filtertest.Request: headers must be name, value pairs, got %d strings", len(headers))
	}
	r, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatalf("filtertest.Request: %v", err)
	}
	for i := 0; i < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

// Secrets is a SecretSource backed by a map from secret name (file path) to value, for unit
// tests. Get returns a fresh copy of the value, or an error wrapping secrets.ErrNotFound for a
// name that is not in the map; an empty value is returned as it is, so filters' handling of
// empty secrets can be tested.
//
// Secrets is safe for concurrent Get calls, but Set and Delete must not run at the same time as
// any other method: rotate between requests.
type Secrets map[string]string

var _ filters.SecretSource = Secrets(nil)

// Get returns the value stored under name.
func (s Secrets) Get(name string) (secrets.Secret, error) {
	v, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("secret %q: %w", name, secrets.ErrNotFound)
	}
	return secrets.Secret(v), nil
}

// Set stores value under name, replacing (rotating) any earlier value.
func (s Secrets) Set(name, value string) { s[name] = value }

// Delete removes name, so that Get reports it as not found.
func (s Secrets) Delete(name string) { delete(s, name) }
