package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/routing"
)

// gateSpec makes gate(), a filter that tells the test when a request reaches it and holds the
// request there until the test opens the gate.
type gateSpec struct {
	entered chan struct{}
	open    chan struct{}
}

func (g *gateSpec) Name() string                         { return "gate" }
func (g *gateSpec) Create([]any) (filters.Filter, error) { return g, nil }

func (g *gateSpec) Request(*http.Request) error {
	g.entered <- struct{}{}
	<-g.open
	return nil
}

// TestReloadKeepsTheMatchedRouteSettings checks that a request keeps the settings of the route
// it matched when a reload replaces that route while its filters run: the backendTimeout of the
// new route does not reach it, nor does the new route take the old one's away. The settings
// are resolved when the route is compiled, so they must come with the route, never from the
// table loaded meanwhile.
func TestReloadKeepsTheMatchedRouteSettings(t *testing.T) {
	release := make(chan struct{}) // answers A
	stop := make(chan struct{})    // ends every request still waiting at the end of the test
	arrived := make(chan string, 4)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := r.Header.Get("X-Req")
		arrived <- req
		wait := stop
		if req == "A" {
			wait = release
		}
		select {
		case <-wait:
			io.WriteString(w, "released")
		case <-r.Context().Done(): // the proxy gave up: its backend timeout passed
		}
	}))
	defer backend.Close()
	defer close(stop) // before backend.Close, which waits for the handlers
	var once sync.Once
	defer once.Do(func() { close(release) })

	gate := &gateSpec{entered: make(chan struct{}), open: make(chan struct{})}
	reg, err := filters.NewRegistry(append(filters.Builtins(filters.BuiltinsOptions{}), gate)...)
	if err != nil {
		t.Fatal(err)
	}
	compile := func(routes string) *routing.Table {
		defs, err := routing.Parse("test", routes)
		if err != nil {
			t.Fatal(err)
		}
		table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return table
	}
	router := routing.NewRouter()
	transport := proxy.NewTransport(proxy.TransportOptions{})
	defer transport.CloseIdleConnections()
	srv := httptest.NewServer(proxy.New(proxy.Options{Router: router, Transport: transport}))
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second} // a request that never times out fails here
	defer client.CloseIdleConnections()
	get := func(req string) (int, string, error) {
		r, err := http.NewRequest("GET", srv.URL+"/x", nil)
		if err != nil {
			return 0, "", err
		}
		r.Header.Set("X-Req", req)
		res, err := client.Do(r)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res.StatusCode, string(body), err
	}
	type result struct {
		status int
		body   string
		err    error
	}
	// startGated sends request req on the route of old, and once it has reached gate() loads
	// new.
	startGated := func(req, old, new string) <-chan result {
		router.Swap(compile(old))
		done := make(chan result, 1)
		go func() {
			status, body, err := get(req)
			done <- result{status, body, err}
		}()
		<-gate.entered
		router.Swap(compile(new))
		gate.open <- struct{}{}
		return done
	}

	t.Run("the new route's timeout does not reach it", func(t *testing.T) {
		done := startGated("A",
			fmt.Sprintf(`r: Path("/x") -> gate() -> %q`, backend.URL),
			fmt.Sprintf(`r: Path("/x") -> backendTimeout("20ms") -> %q`, backend.URL))
		if got := <-arrived; got != "A" {
			t.Fatalf("backend got request %q first, want A", got)
		}
		// C, sent on the new route after A reached the backend, times out; A would have too,
		// and before C, had it had the new route's timeout.
		if status, _, err := get("C"); err != nil || status != http.StatusGatewayTimeout {
			t.Fatalf("C on the new route: got %d, %v, want 504", status, err)
		}
		<-arrived
		once.Do(func() { close(release) })
		if res := <-done; res.err != nil || res.status != http.StatusOK || res.body != "released" {
			t.Errorf("A: got %d %q, %v, want 200 from the backend, without the new route's timeout", res.status, res.body, res.err)
		}
	})
	t.Run("the old route's timeout stays", func(t *testing.T) {
		done := startGated("B",
			fmt.Sprintf(`r: Path("/x") -> gate() -> backendTimeout("20ms") -> %q`, backend.URL),
			fmt.Sprintf(`r: Path("/x") -> %q`, backend.URL))
		res := <-done
		if res.err != nil || res.status != http.StatusGatewayTimeout {
			t.Errorf("B: got %d, %v, want 504 by the timeout of the route it matched", res.status, res.err)
		}
		<-arrived
	})
}
