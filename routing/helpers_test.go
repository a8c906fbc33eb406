package routing

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/skipper-egress/skipper/filters"
)

// argKind says what arguments a test filter accepts.
type argKind int

const (
	anyArgs argKind = iota
	stringArgsOnly
	numberArgsOnly
)

// testSpec is a filter spec for tests: it checks the argument count and kinds and builds a
// testFilter that remembers them.
type testSpec struct {
	name     string
	min, max int
	kind     argKind
}

var _ filters.Spec = testSpec{}

func (s testSpec) Name() string { return s.name }

func (s testSpec) Create(args []any) (filters.Filter, error) {
	if len(args) < s.min || len(args) > s.max {
		return nil, fmt.Errorf("%w: %s takes %d to %d arguments, got %d", filters.ErrInvalidArgs, s.name, s.min, s.max, len(args))
	}
	for i, a := range args {
		_, isString := a.(string)
		_, isNumber := a.(float64)
		if s.kind == stringArgsOnly && !isString || s.kind == numberArgsOnly && !isNumber {
			return nil, fmt.Errorf("%w: %s argument %d has the wrong type", filters.ErrInvalidArgs, s.name, i+1)
		}
	}
	return &testFilter{Call{Name: s.name, Args: args}}, nil
}

// testFilter does nothing; it prints as the call that created it.
type testFilter struct{ call Call }

func (f *testFilter) Request(*http.Request) error { return nil }
func (f *testFilter) String() string              { return f.call.String() }

// testRegistry returns a registry of the filters the test route files use.
func testRegistry(t testing.TB) *filters.Registry {
	t.Helper()
	reg, err := filters.NewRegistry(
		testSpec{"bearerinjector", 1, 1, stringArgsOnly},
		testSpec{"setRequestHeader", 2, 2, stringArgsOnly},
		testSpec{"dropRequestHeader", 1, 1, stringArgsOnly},
		testSpec{"setRequestHeaderFromSecret", 2, 4, stringArgsOnly},
		testSpec{"setPath", 1, 1, stringArgsOnly},
		testSpec{"modPath", 2, 2, stringArgsOnly},
		testSpec{"status", 1, 1, numberArgsOnly},
		testSpec{"inlineContent", 1, 2, stringArgsOnly},
		testSpec{"preserveHost", 1, 1, stringArgsOnly},
		testSpec{"backendTimeout", 1, 1, stringArgsOnly},
		testSpec{"consecutiveBreaker", 0, 4, anyArgs},
		testSpec{"clientRatelimit", 2, 3, anyArgs},
	)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// withoutPos returns copies of defs with File, Line and Col cleared, for comparisons.
func withoutPos(defs []*RouteDef) []*RouteDef {
	if defs == nil {
		return nil
	}
	out := make([]*RouteDef, len(defs))
	for i, d := range defs {
		c := *d
		c.File, c.Line, c.Col = "", 0, 0
		out[i] = &c
	}
	return out
}

// mustCompile parses and compiles src with the test registry and fails on any error.
func mustCompile(t testing.TB, src string) *Table {
	t.Helper()
	defs, err := Parse("test.eskip", src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	tbl, errs := Compile(defs, CompileOptions{Filters: testRegistry(t)})
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	return tbl
}

type urlT = url.URL

// mustURL parses a URL that is known to be valid.
func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
