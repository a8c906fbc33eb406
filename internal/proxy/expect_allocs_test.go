//go:build !race

// The race detector changes allocation counts, so this guard runs only without it.

package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestH2NeedsContinueAllocs guards the request path of HTTP/2 requests with a body: reading
// the needsContinue flag of a real HTTP/2 server's request body allocates nothing, and still
// reads it right, with and without "Expect: 100-continue".
func TestH2NeedsContinueAllocs(t *testing.T) {
	type result struct {
		proto  int
		needs  bool
		allocs float64
	}
	results := make(chan result, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Before anything reads the body, which would send 100 Continue and clear the flag.
		res := result{proto: r.ProtoMajor, needs: h2NeedsContinue(r.Body)}
		res.allocs = testing.AllocsPerRun(100, func() { h2NeedsContinue(r.Body) })
		results <- res
		http.Error(w, "refused before the body", http.StatusRequestEntityTooLarge)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).ExpectContinueTimeout = time.Minute
	defer client.CloseIdleConnections()

	for _, expect := range []string{"100-continue", ""} {
		req, err := http.NewRequest("POST", srv.URL, strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		if expect != "" {
			req.Header.Set("Expect", expect)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := <-results
		if got.proto != 2 {
			t.Fatalf("got HTTP/%d, want HTTP/2", got.proto)
		}
		if want := expect != ""; got.needs != want {
			t.Errorf("Expect %q: got needsContinue %v, want %v", expect, got.needs, want)
		}
		if got.allocs != 0 {
			t.Errorf("Expect %q: got %v allocations, want 0", expect, got.allocs)
		}
	}
}

// BenchmarkH2NeedsContinue reads the needsContinue flag of a real HTTP/2 server's request body.
func BenchmarkH2NeedsContinue(b *testing.B) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.ResetTimer()
		for range b.N {
			if !h2NeedsContinue(r.Body) {
				b.Error("got no needsContinue")
				return
			}
		}
		b.StopTimer()
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).ExpectContinueTimeout = time.Minute
	defer client.CloseIdleConnections()
	req, err := http.NewRequest("POST", srv.URL, strings.NewReader("body"))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Expect", "100-continue")
	b.ReportAllocs()
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
}
