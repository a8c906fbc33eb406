package proxy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skipper-egress/skipper/filters"
	"github.com/skipper-egress/skipper/internal/proxy"
	"github.com/skipper-egress/skipper/routing"
)

// egressSpec makes the test's egress filters:
//   - stamp() adds an X-Attempt value and writes the Host and URL host it sees to X-Egress;
//   - sign() writes to X-Signed the X-Egress value it sees, so it proves it ran after stamp;
//   - refuse() answers 403;
//   - unavailable() fails as a credential filter does.
type egressSpec struct {
	name  string
	calls *atomic.Int64
}

func (s egressSpec) Name() string                         { return s.name }
func (s egressSpec) Create([]any) (filters.Filter, error) { return s, nil }
func (egressSpec) Request(*http.Request) error            { return nil }

func (s egressSpec) Egress(out *http.Request) error {
	s.calls.Add(1)
	switch s.name {
	case "stamp":
		out.Header.Add("X-Attempt", "1")
		out.Header.Set("X-Egress", out.Host+" "+out.URL.Host)
	case "refuse":
		return &filters.Reply{Status: http.StatusForbidden}
	case "unavailable":
		return &filters.CredentialError{Filter: "unavailable", SecretName: "/s/x", Reason: "not found"}
	}
	return nil
}

type signSpec struct{ egressSpec }

func (signSpec) SignsRequest() {}

func (s signSpec) Create([]any) (filters.Filter, error) { return s, nil }

func (s signSpec) Egress(out *http.Request) error {
	s.calls.Add(1)
	out.Header.Set("X-Signed", out.Header.Get("X-Egress"))
	return nil
}

func TestEgressFiltersSeeTheRequestAsItLeaves(t *testing.T) {
	var calls atomic.Int64
	var received []http.Header
	got := make(chan http.Header, 64)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		h.Set("Host", r.Host)
		got <- h
	}))
	defer backend.Close()
	live := strings.TrimPrefix(backend.URL, "http://")
	dead := deadAddr(t)

	specs := []filters.Spec{signSpec{egressSpec{"sign", &calls}}}
	for _, n := range []string{"stamp", "refuse", "unavailable"} {
		specs = append(specs, egressSpec{n, &calls})
	}
	reg, err := filters.NewRegistry(append(filters.Builtins(filters.BuiltinsOptions{}), specs...)...)
	if err != nil {
		t.Fatal(err)
	}
	// sign() comes first in the route, the Host is set after both: the signer must still see
	// stamp's work and both the final Host.
	routes := fmt.Sprintf(`lb: Host("lb") -> sign() -> stamp() -> setRequestHeader("Host", "final.example")
		-> <roundRobin, "http://%s", "http://%s">;
	refused: Host("refused") -> stamp() -> refuse() -> "http://%s";
	unavailable: Host("unavailable") -> unavailable() -> "http://%s";`, dead, live, live, live)
	defs, err := routing.Parse("test", routes)
	if err != nil {
		t.Fatal(err)
	}
	table, errs := routing.Compile(defs, routing.CompileOptions{Filters: reg})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	router := routing.NewRouter()
	router.Swap(table)
	transport := proxy.NewTransport(proxy.TransportOptions{})
	defer transport.CloseIdleConnections()
	srv := httptest.NewServer(proxy.New(proxy.Options{Router: router, Transport: transport}))
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	do := func(host string) int {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+"/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	const n = 10
	for range n {
		if status := do("lb"); status != http.StatusOK {
			t.Fatalf("lb: got %d, want 200", status)
		}
		received = append(received, <-got)
	}
	// Each request calls sign and stamp once per attempt; some went to the dead endpoint first.
	if c := calls.Load(); c <= 2*n {
		t.Fatalf("egress filters ran %d times for %d requests: no request was retried", c, n)
	}
	want := "final.example " + live
	for i, h := range received {
		if a := h.Values("X-Attempt"); len(a) != 1 {
			t.Errorf("request %d: backend got X-Attempt %q: one attempt's change reached another", i, a)
		}
		if e, s := h.Get("X-Egress"), h.Get("X-Signed"); e != want || s != want {
			t.Errorf("request %d: X-Egress %q, X-Signed %q, want both %q", i, e, s, want)
		}
	}

	if status := do("refused"); status != http.StatusForbidden {
		t.Errorf("refused: got %d, want 403", status)
	}
	if status := do("unavailable"); status != http.StatusServiceUnavailable {
		t.Errorf("unavailable: got %d, want 503", status)
	}
	select {
	case h := <-got:
		t.Errorf("backend was called by a refused request: %v", h)
	default:
	}
}
