package filtertest_test

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"testing"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/filters/filtertest"
	"github.com/skipper-egress/skipper/secrets"
)

func TestSecrets(t *testing.T) {
	s := filtertest.Secrets{"/s/a": "one", "/s/empty": ""}

	got, err := s.Get("/s/a")
	if err != nil || string(got) != "one" {
		t.Fatalf("Get(/s/a) = %q, %v; want one, nil", string(got), err)
	}
	got[0] = 'X' // a caller's change must not reach the map
	if v, _ := s.Get("/s/a"); string(v) != "one" {
		t.Errorf("after changing a returned value, Get(/s/a) = %q, want one", string(v))
	}
	if v, err := s.Get("/s/empty"); err != nil || len(v) != 0 {
		t.Errorf("Get(/s/empty) = %q, %v; want empty, nil", string(v), err)
	}

	s.Set("/s/a", "two")
	if v, _ := s.Get("/s/a"); string(v) != "two" {
		t.Errorf("after Set, Get(/s/a) = %q, want two", string(v))
	}

	s.Delete("/s/a")
	_, err = s.Get("/s/a")
	if !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("after Delete, Get(/s/a) error = %v, want one wrapping secrets.ErrNotFound", err)
	}
}

func TestRequest(t *testing.T) {
	r := filtertest.Request(t, "POST", "http://host1:8080/foo?q=1", "X-A", "1", "x-a", "2", "X-B", "3")
	if r.Method != "POST" || r.Host != "host1:8080" || r.URL.Path != "/foo" || r.URL.RawQuery != "q=1" {
		t.Errorf("got %s %s host %s, want POST http://host1:8080/foo?q=1 host host1:8080", r.Method, r.URL, r.Host)
	}
	want := http.Header{"X-A": {"1", "2"}, "X-B": {"3"}}
	if fmt.Sprint(r.Header) != fmt.Sprint(want) {
		t.Errorf("got headers %v, want %v", r.Header, want)
	}
}

// fatalTB records Fatalf and then stops its goroutine as testing.T does, without failing the
// real test, to check that the helpers fail tests.
type fatalTB struct {
	testing.TB
	failed bool
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(string, ...any) {
	f.failed = true
	runtime.Goexit()
}

// failed runs call in its own goroutine, as Fatalf's Goexit needs, and reports whether it
// called Fatalf.
func failed(t *testing.T, call func(tb testing.TB)) bool {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		call(tb)
	}()
	<-done
	return tb.failed
}

func TestHelpersFailTheTest(t *testing.T) {
	tests := []struct {
		name string
		call func(tb testing.TB)
	}{
		{"create with bad arguments", func(tb testing.TB) { filtertest.Create(tb, filters.NewDropRequestHeader(), 1.0) }},
		{"odd header list", func(tb testing.TB) { filtertest.Request(tb, "GET", "http://h/", "X-A") }},
		{"bad URL", func(tb testing.TB) { filtertest.Request(tb, "GET", "http://h/%zz") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !failed(t, tc.call) {
				t.Errorf("got no Fatalf, want one")
			}
		})
	}
	good := func(tb testing.TB) { filtertest.Create(tb, filters.NewDropRequestHeader(), "X-A") }
	if failed(t, good) {
		t.Errorf("Create with good arguments called Fatalf, want no call")
	}
}
